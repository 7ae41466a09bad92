import Foundation
import RNNCore
import RNNText
import XCTest

final class WordVectorsTests: XCTestCase {
    func testReadsGloVeKeepingFirstOfDuplicates() throws {
        let vectors = try WordVectorsReader(path: try datasetFixture("vectors.glove.txt")).read()
        XCTAssertEqual(vectors.dimension, 3)
        XCTAssertEqual(vectors.count, 6)
        XCTAssertEqual(vectors["the"], [0.1, 0.2, 0.3])
        XCTAssertEqual(vectors["great"], [-0.5, 0.25, 1])
    }

    func testReadsWord2VecTextWithHeaderTrailingSpacesAndCRLF() throws {
        let path = try datasetFixture("vectors.word2vec.txt")
        for format in [WordVectorsReader.Format.word2vec, .automatic] {
            let vectors = try WordVectorsReader(path: path, format: format).read()
            XCTAssertEqual(vectors.dimension, 2)
            XCTAssertEqual(vectors.vectors, ["cat": [1, 0], "dog": [0.8, 0.2], "car": [-1, 0]])
        }
        XCTAssertEqual(try WordVectorsReader(path: path, limit: 1).read().vectors, ["cat": [1, 0]])
    }

    func testVocabularyFilterKeepsExactAndLowercaseForms() throws {
        let path = try datasetFixture("vectors.glove.txt")
        let vectors = try WordVectorsReader(path: path, vocabulary: ["The", "Paris", "unknown"]).read()
        XCTAssertEqual(Set(vectors.vectors.keys), ["the", "Paris", "paris"])
    }

    func testMatchExactThenLowercaseWithCoverage() throws {
        let vectors = try WordVectorsReader(path: try datasetFixture("vectors.glove.txt")).read()
        let match = vectors.match(vocabulary: ["<pad>", "The", "Paris", "PARIS", "movie", "zzz"])
        XCTAssertEqual(match.vectors, [[0, 0, 0], [0.1, 0.2, 0.3], [0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 0]])
        XCTAssertEqual(match.exactMatches, 2)
        XCTAssertEqual(match.lowercaseMatches, 2)
        XCTAssertEqual(match.found, 4)
        XCTAssertEqual(match.total, 6)
        XCTAssertEqual(match.coverage, 4.0 / 6.0, accuracy: 1e-12)
        XCTAssertEqual(match.missingIDs, [0, 5])
        XCTAssertEqual(match.missingTokens, ["<pad>", "zzz"])
        XCTAssertEqual(match.flattened.count, 18)
        XCTAssertEqual(Array(match.flattened[3..<6]), [0.1, 0.2, 0.3])
    }

    func testNearestNeighboursByCosine() throws {
        let vectors = try WordVectorsReader(path: try datasetFixture("vectors.glove.txt")).read()
        let neighbours = try vectors.nearestNeighbours(of: "movie", count: 2)
        XCTAssertEqual(neighbours.map(\.word), ["film", "the"])
        XCTAssertEqual(neighbours[0].similarity, 0.9 / (0.81 + 0.01).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(WordVectors.cosineSimilarity([1, 0], [0, 0]), 0)
        // Paris (0,0,1) and great (-0.5,0.25,1) tie with nothing; "paris" is orthogonal to "Paris".
        XCTAssertEqual(try vectors.nearestNeighbours(to: [0, 0, 1], count: 1, excluding: ["Paris"]).map(\.word), ["great"])
        assertRNNError(try vectors.nearestNeighbours(of: "unknown"), contains: ["no vector for 'unknown'"])
        assertRNNError(try vectors.nearestNeighbours(to: [1, 2]), contains: ["query has 2 values, expected 3"])
    }

    func testSaveRoundTripsExactly() throws {
        let folder = try temporaryFolder(self)
        let original = try WordVectorsReader(path: try datasetFixture("vectors.glove.txt")).read()
        let withAwkwardValues = try WordVectors(dimension: 3, vectors: original.vectors.merging(
            ["tiny": [1e-38, -3.4028235e38, 0.1 + 0.2]]) { first, _ in first })
        try withAwkwardValues.save(to: folder + "/saved.txt")
        XCTAssertEqual(try WordVectorsReader(path: folder + "/saved.txt", format: .glove).read(), withAwkwardValues)
        let spaced = try WordVectors(dimension: 1, vectors: ["new york": [1]])
        assertRNNError(try spaced.save(to: folder + "/spaced.txt"), contains: ["spaced.txt", "'new york'"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/spaced.txt"))
        assertRNNError(try original.save(to: folder + "/no-such-folder/x.txt"), contains: ["does not exist"])
    }

    func testErrorsNameFileAndLine() throws {
        assertRNNError(try WordVectorsReader(path: try datasetFixture("vectors-bad-dimension.txt")).read(),
                       contains: ["vectors-bad-dimension.txt:2:", "2 values, expected 3"])
        assertRNNError(try WordVectorsReader(path: try datasetFixture("vectors-bad-value.txt")).read(),
                       contains: ["vectors-bad-value.txt:2:", "value 2 'x' is not a finite number"])
        assertRNNError(try WordVectorsReader(path: try datasetFixture("vectors-nan.txt")).read(),
                       contains: ["vectors-nan.txt:1:", "'nan'"])
        assertRNNError(try WordVectorsReader(path: try datasetFixture("vectors-truncated.word2vec.txt")).read(),
                       contains: ["vectors-truncated.word2vec.txt", "declares 5 vectors but the file has 1"])
        assertRNNError(try WordVectorsReader(path: try datasetFixture("vectors.glove.txt"), format: .word2vec).read(),
                       contains: ["vectors.glove.txt:1:", "word2vec header"])
        assertRNNError(try WordVectorsReader(path: try datasetFixture("empty.csv")).read(), contains: ["empty.csv", "no vectors"])
        assertRNNError(try WordVectors(dimension: 2, vectors: ["a": [1]]), contains: ["'a' has 1 values, expected 2"])
    }
}
