import XCTest
@testable import RNNText

final class AddedTokensTests: XCTestCase {
    private func pieces(_ m: AddedTokenMatcher, _ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        return m.split(s).map { ($0.token == nil ? "" : "#") + Array(s[$0.range]).string }
    }

    func testLeftmostLongestMatch() {
        let m = AddedTokenMatcher([AddedToken(id: 0, content: "<s>"), AddedToken(id: 1, content: "<s><s>"), AddedToken(id: 2, content: "s>x")])
        XCTAssertEqual(pieces(m, "a<s><s>x<s>b"), ["a", "#<s><s>", "x", "#<s>", "b"])
        XCTAssertEqual(pieces(m, "plain"), ["plain"])
    }

    func testSingleWordAndStripOptions() {
        let single = AddedTokenMatcher([AddedToken(id: 0, content: "ok", singleWord: true)])
        XCTAssertEqual(pieces(single, "ok book ok"), ["#ok", " book ", "#ok"])
        let strip = AddedTokenMatcher([AddedToken(id: 0, content: "[M]", lstrip: true, rstrip: true)])
        XCTAssertEqual(pieces(strip, "a  [M] b"), ["a", "#  [M] ", "b"])
    }

    func testJSONDefaults() throws {
        let t = try AddedToken(json: .object([("id", .int(5)), ("content", .string("<eos>")), ("special", .bool(true))]))
        XCTAssertEqual(t, AddedToken(id: 5, content: "<eos>", normalized: false, special: true))
        XCTAssertEqual(try AddedToken(json: t.json), t)
    }
}
