import XCTest
@testable import RNNText

final class WordLevelTrainerTests: XCTestCase {
    func testSpecialTokensFirstThenByFrequencyWithTiesInCodePointOrder() throws {
        let trainer = WordLevelTrainer(minFrequency: 2, maxSize: 5, specialTokens: ["[PAD]", "[UNK]", "<eos>"])
        let vocabulary = try trainer.vocabulary(from: ["the": 5, "b": 2, "a": 2, "rare": 1, "[UNK]": 9])
        XCTAssertEqual(vocabulary.tokens, ["[PAD]", "[UNK]", "<eos>", "the", "a"])
    }

    func testCountsWordsAndCharactersThroughTheTokenizerPipeline() throws {
        let counter = try Tokenizer.wordLevel(vocabulary: Vocabulary(["[PAD]", "[UNK]"]))
        let words = try WordLevelTrainer(minFrequency: 2).train(on: ["Good movie.<br />GOOD!", "a movie"], using: counter)
        XCTAssertEqual(words.tokens, ["[PAD]", "[UNK]", "good", "movie"])
        let characters = try WordLevelTrainer(unit: .character, minFrequency: 2).train(on: ["abca", "cab"], using: counter)
        XCTAssertEqual(characters.tokens, ["[PAD]", "[UNK]", "a", "b", "c"])
    }

    func testBadSettingsAreErrors() {
        XCTAssertThrowsError(try WordLevelTrainer(minFrequency: 0).vocabulary(from: [:])) { error in
            XCTAssertEqual("\(error)", "WordLevelTrainer: minFrequency must be at least 1, got 0")
        }
        XCTAssertThrowsError(try WordLevelTrainer(maxSize: 1).vocabulary(from: [:]))
    }
}
