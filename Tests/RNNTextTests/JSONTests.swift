import XCTest
@testable import RNNText

final class JSONTests: XCTestCase {
    func testParsesEscapesSurrogatesNumbersAndKeepsKeyOrder() throws {
        let text = #"{"z": 1, "a": [true, false, null, -2.5e1, "x\"\\\/\n\u00e9\ud83d\ude00"]}"#
        let value = try JSONValue.parse(Array(text.utf8), context: "t")
        XCTAssertEqual(value.objectValue?.map(\.0), ["z", "a"])
        XCTAssertEqual(value["a"], .array([.bool(true), .bool(false), .null, .double(-25), .string("x\"\\/\né😀")]))
    }

    func testSerializesAndParsesBack() throws {
        let value = JSONValue.object([("k", .string("tab\there \u{1}")), ("n", .int(-3)), ("e", .array([])), ("o", .object([]))])
        for indent in [0, 2] {
            XCTAssertEqual(try JSONValue.parse(Array(value.serialized(indent: indent).utf8), context: "t"), value)
        }
        XCTAssertEqual(value.serialized(indent: 0), #"{"k":"tab\there \u0001","n":-3,"e":[],"o":{}}"#)
    }

    func testErrorsNameThePlace() {
        XCTAssertThrowsError(try JSONValue.parse(Array("[1, 2".utf8), context: "f.json")) { error in
            XCTAssertEqual("\(error)", "f.json: invalid JSON at byte 5: expected ']'")
        }
        XCTAssertThrowsError(try JSONValue.parse(Array("{} x".utf8), context: "f.json"))
    }
}
