import RNN
import RNNCore
import XCTest

final class BatchingTests: XCTestCase {
    func testPaddedTimeMajorLayout() throws {
        let batch = try TokenBatch(sequences: [[1, 2, 3], [4]], padding: 0)
        XCTAssertEqual(batch.tokens, [1, 4, 2, 0, 3, 0])
        XCTAssertEqual(batch.lengths, [3, 1])
        XCTAssertEqual(batch.sequence(0), [1, 2, 3])
        XCTAssertThrowsError(try TokenBatch(sequences: [[1], []], padding: 0))
        XCTAssertThrowsError(try TokenBatch(sequences: [], padding: 0))
    }

    func testTruncationKeepsTheChosenEnd() {
        XCTAssertEqual(truncate([1, 2, 3, 4], maxLength: 2, keep: .head), [1, 2])
        XCTAssertEqual(truncate([1, 2, 3, 4], maxLength: 2, keep: .tail), [3, 4])
        XCTAssertEqual(truncate([1], maxLength: 2, keep: .tail), [1])
    }

    func testBucketingCoversEveryExampleOnceAndReducesPadding() {
        var generator = SeededGenerator(seed: 3)
        let lengths = (0..<1000).map { _ in 1 + Int(generator.next() % 300) }
        func padding(_ batches: [[Int]]) -> Int {
            batches.reduce(0) { total, batch in
                let longest = batch.map { lengths[$0] }.max()!
                return total + batch.reduce(0) { $0 + longest - lengths[$1] }
            }
        }
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        let bucketed = makeBatches(lengths: lengths, batchSize: 32, shuffle: true, bucketing: true, generator: &a)
        let plain = makeBatches(lengths: lengths, batchSize: 32, shuffle: true, bucketing: false, generator: &b)
        XCTAssertEqual(bucketed.flatMap { $0 }.sorted(), Array(0..<1000))
        XCTAssertEqual(plain.flatMap { $0 }.sorted(), Array(0..<1000))
        XCTAssertLessThan(padding(bucketed) * 10, padding(plain), "bucketing should cut padding by over 10×")
        var c = SeededGenerator(seed: 9)
        XCTAssertEqual(makeBatches(lengths: lengths, batchSize: 32, shuffle: true, bucketing: true, generator: &c), bucketed, "same seed, same batches")
    }

    func testStratifiedValidationSplit() throws {
        let labels = [Int](repeating: 0, count: 900) + [Int](repeating: 1, count: 100)
        var generator = SeededGenerator(seed: 1)
        let split = try validationSplit(count: 1000, fraction: 0.2, labels: labels, generator: &generator)
        XCTAssertEqual(split.validation.count, 200)
        XCTAssertEqual(split.validation.filter { labels[$0] == 1 }.count, 20)
        XCTAssertEqual(Set(split.training).union(split.validation).count, 1000)
        XCTAssertTrue(Set(split.training).isDisjoint(with: split.validation))
        XCTAssertThrowsError(try validationSplit(count: 0, fraction: 0.1, generator: &generator))
        XCTAssertThrowsError(try validationSplit(count: 10, fraction: 1.5, generator: &generator))
        XCTAssertThrowsError(try validationSplit(count: 2, fraction: 0.1, generator: &generator)) { error in
            XCTAssertTrue("\(error)".contains("is empty"))
        }
    }

    func testStreamWindowsContinueEachLane() throws {
        let stream = (0..<21).map(Int32.init)  // 2 lanes of 10 (one spare token for the last target)
        let windows = try StreamWindows(stream: stream, lanes: 2, window: 5)
        XCTAssertEqual(windows.count, 2)
        let first = windows.window(0), second = windows.window(1)
        XCTAssertEqual(first.inputs, [0, 10, 1, 11, 2, 12, 3, 13, 4, 14])
        XCTAssertEqual(first.targets, [1, 11, 2, 12, 3, 13, 4, 14, 5, 15])
        XCTAssertEqual(second.inputs, [5, 15, 6, 16, 7, 17, 8, 18, 9, 19])
        XCTAssertThrowsError(try StreamWindows(stream: stream, lanes: 8, window: 5))
    }
}
