import XCTest
@testable import RNNText

final class VocabularyTests: XCTestCase {
    func testLookupsAndJSONInIdOrder() throws {
        let vocabulary = try Vocabulary(json: [("b", .int(1)), ("a", .int(0)), ("d", .int(3))], component: "test")
        XCTAssertEqual(vocabulary["d"], 3)
        XCTAssertEqual(vocabulary.token(for: 0), "a")
        XCTAssertNil(vocabulary.token(for: 2), "a gap in the ids")
        XCTAssertEqual(vocabulary.json.objectValue?.map(\.0), ["a", "b", "d"])
        XCTAssertThrowsError(try Vocabulary(json: [("a", .string("x"))], component: "model 'WordLevel'")) { error in
            XCTAssertEqual("\(error)", "tokenizer.json: model 'WordLevel' vocab entry 'a' must have a non-negative integer id")
        }
    }
}
