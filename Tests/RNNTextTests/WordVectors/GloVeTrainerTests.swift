import Foundation
import RNNCore
import RNNText
import XCTest

final class GloVeTrainerTests: XCTestCase {
    func testCooccurrenceCountsWeightByInverseDistance() throws {
        var counts = try CooccurrenceCounts(vocabularySize: 4, window: 2)
        try counts.add([0, 1, 2])   // a b c
        try counts.add([3])         // a lone token adds nothing
        XCTAssertEqual(counts[0, 1], 1)
        XCTAssertEqual(counts[1, 0], 1)
        XCTAssertEqual(counts[0, 2], 0.5)
        XCTAssertEqual(counts[2, 0], 0.5)
        XCTAssertEqual(counts[1, 2], 1)
        XCTAssertEqual(counts[0, 3], 0)
        XCTAssertEqual(counts.nonZeroCount, 6)
        XCTAssertEqual(counts.entries().map { [$0.row, $0.column] }, [[0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1]])
        var narrow = try CooccurrenceCounts(vocabularySize: 3, window: 1)
        try narrow.add([0, 1, 2, 0])
        XCTAssertEqual(narrow[0, 2], 1)   // only the adjacent "c a" at the end
        XCTAssertEqual(narrow[0, 1], 1)
        assertRNNError(try counts.add([0, 4]), contains: ["token id 4 outside the vocabulary 0..<4"])
        assertRNNError(try CooccurrenceCounts(vocabularySize: 3, window: 0), contains: ["window must be at least 1"])
    }

    /// Two topics that never share a sentence: words of one topic must end up closer to each
    /// other than to the other topic's words, and the cost must fall.
    func testLearnsTopicsFromSyntheticCorpus() throws {
        let animals = ["cat", "dog", "mouse", "purrs", "barks", "fur"]
        let vehicles = ["car", "truck", "bus", "drives", "wheels", "fuel"]
        let vocabulary = animals + vehicles
        var generator = SeededGenerator(seed: 7)
        var counts = try CooccurrenceCounts(vocabularySize: vocabulary.count, window: 3)
        for sentence in 0..<400 {
            let offset = sentence % 2 == 0 ? 0 : animals.count
            try counts.add((0..<8).map { _ in offset + Int(generator.next() % UInt64(animals.count)) })
        }
        let result = try GloVeTrainer(dimension: 8, epochs: 40, seed: 1).train(counts, vocabulary: vocabulary)
        XCTAssertEqual(result.lossPerEpoch.count, 40)
        let first = try XCTUnwrap(result.lossPerEpoch.first), last = try XCTUnwrap(result.lossPerEpoch.last)
        XCTAssertLessThan(last, first * 0.2, "loss \(first) → \(last)")
        let vectors = result.vectors
        func similarity(_ a: String, _ b: String) throws -> Float {
            WordVectors.cosineSimilarity(try XCTUnwrap(vectors[a]), try XCTUnwrap(vectors[b]))
        }
        XCTAssertGreaterThan(try similarity("cat", "dog"), try similarity("cat", "car"))
        XCTAssertGreaterThan(try similarity("truck", "bus"), try similarity("truck", "barks"))
        let catNeighbours = try vectors.nearestNeighbours(of: "cat", count: 5).map(\.word)
        XCTAssertEqual(Set(catNeighbours), Set(animals).subtracting(["cat"]), "neighbours of cat: \(catNeighbours)")
        // Same seed, same vectors.
        let again = try GloVeTrainer(dimension: 8, epochs: 40, seed: 1).train(counts, vocabulary: vocabulary)
        XCTAssertEqual(again.vectors, vectors)
    }

    func testRejectsMismatchedVocabularyAndEmptyCounts() throws {
        let counts = try CooccurrenceCounts(vocabularySize: 2)
        assertRNNError(try GloVeTrainer(dimension: 4).train(counts, vocabulary: ["a"]), contains: ["1 vocabulary words", "2 ids"])
        assertRNNError(try GloVeTrainer(dimension: 4).train(counts, vocabulary: ["a", "b"]), contains: ["no co-occurrences"])
        assertRNNError(try GloVeTrainer(dimension: 0).train(counts, vocabulary: ["a", "b"]), contains: ["must be positive"])
    }
}
