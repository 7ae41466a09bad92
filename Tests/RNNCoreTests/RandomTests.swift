import RNNCore
import XCTest

final class RandomTests: XCTestCase {
    func testSameSeedSameSequenceDifferentSeedDifferentSequence() {
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7), c = SeededGenerator(seed: 8)
        let first = (0..<10).map { _ in a.next() }
        XCTAssertEqual(first, (0..<10).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<10).map { _ in c.next() })
    }

    func testUniformAndNormalMoments() {
        var generator = SeededGenerator(seed: 1)
        let uniforms = (0..<100_000).map { _ in Double(generator.nextUnitFloat()) }
        XCTAssertTrue(uniforms.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(uniforms.reduce(0, +) / 100_000, 0.5, accuracy: 0.005)
        let normals = (0..<100_000).map { _ in generator.nextNormal() }
        let mean = normals.reduce(0, +) / 100_000
        let variance = normals.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 100_000
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
    }
}

final class RandomStateTests: XCTestCase {
    func testStateRoundTripContinuesTheSequence() throws {
        var generator = SeededGenerator(seed: 3)
        _ = (0..<5).map { _ in generator.next() }
        var copy = try SeededGenerator(state: generator.stateWords)
        XCTAssertEqual((0..<10).map { _ in generator.next() }, (0..<10).map { _ in copy.next() })
        XCTAssertThrowsError(try SeededGenerator(state: [0, 0, 0, 0]))
        XCTAssertThrowsError(try SeededGenerator(state: [1, 2]))
    }
}
