import XCTest
@testable import RNNText

final class BPETrainerTests: XCTestCase {
    func testMergesMostFrequentPairWithDeterministicTies() throws {
        let trainer = BPETrainer(vocabSize: 8, minFrequency: 1, specialTokens: ["[UNK]"])
        let (vocabulary, merges) = try trainer.train(wordCounts: ["abab": 2, "ab": 1, "ba": 1])
        // Pairs: (a,b) 5, (b,a) 3 → "ab"; then (ab,ab) 2 → "abab"; then (b,a) 1 is the only pair left.
        XCTAssertEqual(vocabulary.tokens, ["[UNK]", "a", "b", "ab", "abab", "ba"])
        XCTAssertEqual(merges.map { [$0.0, $0.1] }, [["a", "b"], ["ab", "ab"], ["b", "a"]])
    }

    func testStopsAtVocabSizeAndMinFrequency() throws {
        let counts = ["low": 5, "lower": 2, "newest": 6, "widest": 3]
        let small = try BPETrainer(vocabSize: 14, minFrequency: 1, specialTokens: []).train(wordCounts: counts)
        XCTAssertEqual(small.vocabulary.count, 14)
        let frequent = try BPETrainer(vocabSize: 1000, minFrequency: 6, specialTokens: []).train(wordCounts: counts)
        // (e,s) 9, (es,t) 9, (l,o) 7, (lo,w) 7, then three pairs of 6 in id order: (e,w) before (n,e) and (w,est).
        XCTAssertEqual(frequent.merges.map { $0.0 + " " + $0.1 }, ["e s", "es t", "l o", "lo w", "e w", "n ew", "new est"])
    }

    func testContinuationPrefixForWordPiece() throws {
        let (vocabulary, merges) = try BPETrainer(vocabSize: 100, minFrequency: 2, specialTokens: ["[UNK]"],
                                                  continuingSubwordPrefix: "##").train(wordCounts: ["hug": 3, "hugs": 2])
        XCTAssertEqual(merges.first.map { [$0.0, $0.1] }, ["h", "##u"])
        XCTAssertNotNil(vocabulary["hug"])
        XCTAssertNotNil(vocabulary["##s"])
    }

    func testTrainedTokenizersEncodeTheirCorpus() throws {
        let corpus = ["the movie was good", "the film was bad", "a good good movie"]
        let bpe = try Tokenizer.trainByteLevelBPE(on: corpus, vocabSize: 300)
        XCTAssertEqual(bpe.decode(bpe.encode("the good movie").ids), "the good movie")
        XCTAssertTrue(bpe.encode("the movie").tokens.contains("Ġmovie"))
        let wordPiece = try Tokenizer.trainWordPiece(on: corpus, vocabSize: 60)
        let e = wordPiece.encode("The GOOD movie")
        XCTAssertEqual(e.tokens.first, "[CLS]")
        XCTAssertEqual(wordPiece.decode(e.ids), "the good movie")
    }
}
