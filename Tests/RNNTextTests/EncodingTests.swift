import XCTest
@testable import RNNText

final class EncodingTests: XCTestCase {
    private func encoding(_ n: Int, from start: Int = 0) -> Encoding {
        Encoding(ids: Array(start..<start + n), tokens: (start..<start + n).map(String.init))
    }

    func testTruncationSingleAndLongestFirst() throws {
        var a = encoding(10), b: Encoding? = nil
        try Truncation(maxLength: 6).apply(&a, &b, reserved: 2)
        XCTAssertEqual(a.ids, [0, 1, 2, 3])
        var left = encoding(10), none: Encoding? = nil
        try Truncation(maxLength: 3, direction: .left).apply(&left, &none, reserved: 0)
        XCTAssertEqual(left.ids, [7, 8, 9])
        // Longest first: the shorter text keeps its 2 tokens, the longer gets the rest.
        var x = encoding(2), y: Encoding? = encoding(10, from: 100)
        try Truncation(maxLength: 7).apply(&x, &y, reserved: 0)
        XCTAssertEqual(x.count, 2)
        XCTAssertEqual(y?.count, 5)
        var p = encoding(9), q: Encoding? = encoding(9, from: 100)
        try Truncation(maxLength: 7).apply(&p, &q, reserved: 0)
        XCTAssertEqual([p.count, q?.count], [3, 4])
    }

    func testPaddingFixedLongestAndMultiple() {
        var batch = [encoding(3), encoding(5)]
        Padding(strategy: .batchLongest, padId: 0, padToken: "[PAD]").apply(&batch)
        XCTAssertEqual(batch[0].ids, [0, 1, 2, 0, 0])
        XCTAssertEqual(batch[0].attentionMask, [1, 1, 1, 0, 0])
        XCTAssertEqual(batch[0].tokens.last, "[PAD]")
        var fixed = [encoding(2)]
        Padding(strategy: .fixed(4), direction: .left, padId: 9).apply(&fixed)
        XCTAssertEqual(fixed[0].ids, [9, 9, 0, 1])
        var multiple = [encoding(5)]
        Padding(strategy: .batchLongest, padToMultipleOf: 4).apply(&multiple)
        XCTAssertEqual(multiple[0].count, 8)
    }

    func testTruncationAndPaddingJSONRoundTrip() throws {
        let t = Truncation(maxLength: 128, strategy: .onlyFirst, direction: .left)
        XCTAssertEqual(try Truncation(json: t.json), t)
        let p = Padding(strategy: .fixed(64), direction: .left, padToMultipleOf: 8, padId: 3, padTypeId: 1, padToken: "<pad>")
        XCTAssertEqual(try Padding(json: p.json), p)
        XCTAssertThrowsError(try Truncation(json: .object([("max_length", .int(8)), ("stride", .int(2))]))) { error in
            XCTAssertEqual("\(error)", "tokenizer.json: unsupported truncation with stride > 0 (overflowing windows)")
        }
    }
}
