import XCTest
@testable import RNNText

final class WordPieceTests: XCTestCase {
    private func model(maxChars: Int = 100) throws -> WordPieceModel {
        try WordPieceModel(vocabulary: Vocabulary(["[UNK]", "un", "##aff", "##able", "##a", "a", "runn", "##ing", "##"]),
                           maxInputCharsPerWord: maxChars)
    }

    private func ids(_ m: WordPieceModel, _ word: String) -> [Int] {
        var ids: [Int] = []
        m.tokenize(Array(word.unicodeScalars), into: &ids)
        return ids
    }

    func testGreedyLongestMatchFirst() throws {
        let m = try model()
        XCTAssertEqual(ids(m, "unaffable"), [1, 2, 3])
        XCTAssertEqual(ids(m, "running"), [6, 7])
        XCTAssertEqual(ids(m, "aa"), [5, 4])
    }

    func testUnmatchedRemainderOrLongWordIsOneUnknown() throws {
        XCTAssertEqual(ids(try model(), "unx"), [0])
        XCTAssertEqual(ids(try model(maxChars: 8), "unaffable"), [0], "9 characters > 8")
        XCTAssertEqual(ids(try model(), ""), [])
    }

    func testMissingUnknownTokenIsAnError() {
        XCTAssertThrowsError(try WordPieceModel(vocabulary: Vocabulary(["a"]))) { error in
            XCTAssertEqual("\(error)", "tokenizer.json: WordPiece unk_token '[UNK]' is not in the vocabulary")
        }
    }

    func testJSONRoundTrip() throws {
        let m = try model(maxChars: 50)
        let back = try XCTUnwrap(try makeModel(json: m.json) as? WordPieceModel)
        XCTAssertEqual(back.vocabulary, m.vocabulary)
        XCTAssertEqual(back.maxInputCharsPerWord, 50)
        XCTAssertEqual(ids(back, "unaffable"), [1, 2, 3])
    }
}
