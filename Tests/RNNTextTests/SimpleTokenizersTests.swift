import XCTest
import RNNCore
@testable import RNNText

final class SimpleTokenizersTests: XCTestCase {
    private let reviews = ["A great movie!<br /><br />Great acting.", "Not a great film, not at all.", "The movie <eos>"]

    func testWordLevelRemovesLineBreaksLowercasesAndSplitsPunctuation() throws {
        let tokenizer = try Tokenizer.trainWordLevel(on: reviews, specialTokens: ["[PAD]", "[UNK]", "<eos>"])
        XCTAssertEqual(tokenizer.idToToken(0), "[PAD]")
        XCTAssertEqual(tokenizer.idToToken(1), "[UNK]")
        XCTAssertEqual(tokenizer.idToToken(2), "<eos>")
        XCTAssertEqual(tokenizer.idToToken(3), "great", "most frequent word first")
        let e = tokenizer.encode("Great movie<br />unseen! <eos>")
        XCTAssertEqual(e.tokens, ["great", "movie", "[UNK]", "!", "<eos>"])
        XCTAssertEqual(tokenizer.decode(e.ids), "great movie !")
        XCTAssertFalse(tokenizer.words(in: "a<br />b").map(\.string).contains("br"))
    }

    func testCharacterLevelRoundTripsTextIncludingSpacesAndNewlines() throws {
        let tokenizer = try Tokenizer.trainCharacterLevel(on: ["to be\nor not", "to be"], specialTokens: ["[PAD]", "[UNK]", "<eos>"])
        let e = tokenizer.encode("be or\nnot!<eos>")
        XCTAssertEqual(e.tokens, ["b", "e", " ", "o", "r", "\n", "n", "o", "t", "[UNK]", "<eos>"])
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("not to be").ids), "not to be")
        XCTAssertEqual(tokenizer.vocabSize, 3 + Set("to be\nor not").count)
    }

    func testSaveAndReloadKeepsBehavior() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rnntext-simple-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for tokenizer in [try Tokenizer.trainWordLevel(on: reviews), try Tokenizer.trainCharacterLevel(on: reviews)] {
            try tokenizer.save(to: path)
            let reloaded = try Tokenizer(contentsOf: path)
            XCTAssertEqual(reloaded.encode(reviews[1]), tokenizer.encode(reviews[1]))
            XCTAssertEqual(reloaded.json, tokenizer.json)
        }
    }

    func testSpecialTokenMissingFromVocabularyIsAnError() {
        XCTAssertThrowsError(try Tokenizer.wordLevel(vocabulary: Vocabulary(["[UNK]"]), specialTokens: ["[UNK]", "<eos>"])) { error in
            XCTAssertEqual("\(error)", "tokenizer: special token '<eos>' is not in the vocabulary")
        }
    }
}
