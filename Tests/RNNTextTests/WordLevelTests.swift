import XCTest
@testable import RNNText

final class WordLevelTests: XCTestCase {
    func testWholeWordsOrUnknown() throws {
        let m = try WordLevelModel(vocabulary: Vocabulary(["[PAD]", "[UNK]", "movie", "good"]))
        var ids: [Int] = []
        for word in ["good", "movie", "bad"] { m.tokenize(Array(word.unicodeScalars), into: &ids) }
        XCTAssertEqual(ids, [3, 2, 1])
        let back = try XCTUnwrap(try makeModel(json: m.json) as? WordLevelModel)
        XCTAssertEqual(back.vocabulary, m.vocabulary)
    }

    func testMissingUnknownTokenIsAnError() {
        XCTAssertThrowsError(try WordLevelModel(vocabulary: Vocabulary(["a"]), unkToken: "<unk>")) { error in
            XCTAssertEqual("\(error)", "tokenizer.json: WordLevel unk_token '<unk>' is not in the vocabulary")
        }
    }
}
