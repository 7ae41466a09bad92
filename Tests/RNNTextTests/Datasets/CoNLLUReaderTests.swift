import Foundation
import RNNCore
import RNNText
import XCTest

final class CoNLLUReaderTests: XCTestCase {
    func testSkipsCommentsMultiwordTokensAndEmptyNodesAndKeepsLastSentence() throws {
        let sentences = try CoNLLUReader(path: try datasetFixture("tagged.conllu")).read()
        XCTAssertEqual(sentences, [
            TaggedSentence(words: ["I", "do", "n't", "know", "."], tags: ["PRON", "AUX", "PART", "VERB", "PUNCT"]),
            TaggedSentence(words: ["Sue", "likes", "coffee"], tags: ["PROPN", "VERB", "NOUN"]),
            TaggedSentence(words: ["Last", "one"], tags: ["ADJ", "NOUN"]),
        ])
    }

    func testTagColumnAndLimit() throws {
        let reader = CoNLLUReader(path: try datasetFixture("tagged.conllu"), tagColumn: .xpos, limit: 2)
        let sentences = try reader.read()
        XCTAssertEqual(sentences.count, 2)
        XCTAssertEqual(sentences[1].tags, ["NNP", "VBZ", "NN"])
    }

    func testMalformedLinesNameFileAndLine() throws {
        assertRNNError(try CoNLLUReader(path: try datasetFixture("bad-columns.conllu")).read(),
                       contains: ["bad-columns.conllu:2:", "expected 10 tab-separated columns, found 1"])
        assertRNNError(try CoNLLUReader(path: try datasetFixture("bad-id.conllu")).read(),
                       contains: ["bad-id.conllu:3:", "bad ID 'x'"])
        assertRNNError(try CoNLLUReader(path: try datasetFixture("skipped-id.conllu")).read(),
                       contains: ["skipped-id.conllu:2:", "word ID 3 out of sequence, expected 2"])
    }

    /// UD English EWT dev: 2,001 sentences, 25,147 syntactic words (counted with awk over integer IDs).
    func testEnglishEWTDevSplit() throws {
        let path = try sharedData("ud-english-ewt/en_ewt-ud-dev.conllu")
        let sentences = try measureOnce("UD EWT dev CoNLL-U (2,001 sentences)") { try CoNLLUReader(path: path).read() }
        XCTAssertEqual(sentences.count, 2_001)
        XCTAssertEqual(sentences.reduce(0) { $0 + $1.words.count }, 25_147)
        XCTAssertEqual(sentences.first?.words, ["From", "the", "AP", "comes", "this", "story", ":"])
        XCTAssertEqual(sentences.first?.tags, ["ADP", "DET", "PROPN", "VERB", "DET", "NOUN", "PUNCT"])
        let tagSet = Set(sentences.flatMap(\.tags))
        XCTAssertEqual(tagSet.count, 17, "UD has 17 UPOS tags: \(tagSet.sorted())")
    }
}
