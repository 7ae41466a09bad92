import RNN
import RNNCore
import XCTest

final class EmbeddingTests: XCTestCase {
    func testLookupAndScatterAddGradient() throws {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 5)
        let embedding = try Embedding(vocabularySize: 6, dimension: 3, paddingIndex: 0, store: store, generator: &generator)
        let tokens: [Int32] = [2, 0, 2, 5, 1, 0]
        let table = store.tensor(embedding.weight)
        let y = try embedding.forward(tokens: tokens, shape: [3, 2])
        XCTAssertEqual(y.shape, [3, 2, 3])
        for (position, token) in tokens.enumerated() {
            XCTAssertEqual(Array(y.scalars[position * 3..<position * 3 + 3]), Array(table.scalars[Int(token) * 3..<Int(token) * 3 + 3]))
        }
        XCTAssertEqual(Array(table.scalars[0..<3]), [0, 0, 0], "padding row starts at zero")

        let cotangent = randomTensor([3, 2, 3], seed: 9)
        store.zeroGradients()
        try embedding.backward(outputGradient: cotangent)
        let gradient = store.gradientTensor(embedding.weight)
        // Rows 1…5 against finite differences (row 0 is padding: no gradient by design).
        try checkGradient("embedding.weight", values: store.values(of: embedding.weight) + 3, count: 15,
                          analytic: Array(gradient.scalars[3...])) {
            dot(try embedding.forward(tokens: tokens, shape: [3, 2]), cotangent)
        }
        XCTAssertEqual(Array(gradient.scalars[0..<3]), [0, 0, 0], "no gradient for the padding index")
    }

    func testFrozenEmbeddingGetsNoGradient() throws {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 5)
        let embedding = try Embedding(vocabularySize: 4, dimension: 2, store: store, generator: &generator)
        embedding.isFrozen = true
        _ = try embedding.forward(tokens: [1, 2], shape: [2, 1])
        try embedding.backward(outputGradient: Tensor(shape: [2, 1, 2], repeating: 1))
        XCTAssertEqual(store.gradientTensor(embedding.weight).scalars, [Float](repeating: 0, count: 8))
        XCTAssertEqual(store.trainableScalarCount, 0)
    }

    func testOutOfRangeTokenIsAClearError() throws {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 5)
        let embedding = try Embedding(vocabularySize: 4, dimension: 2, store: store, generator: &generator)
        XCTAssertThrowsError(try embedding.forward(tokens: [1, 9], shape: [2, 1])) { error in
            XCTAssertTrue("\(error)".contains("token id 9 outside the vocabulary 0..<4"), "\(error)")
        }
    }
}
