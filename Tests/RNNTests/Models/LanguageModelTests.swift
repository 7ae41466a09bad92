import RNN
import RNNCore
import XCTest

final class LanguageModelTests: XCTestCase {
    func testGradientsMatchFiniteDifferencesUntiedAndTied() throws {
        for tied in [false, true] {
            var generator = SeededGenerator(seed: 23)
            let config = LanguageModelConfig(vocabularySize: 7, embeddingDimension: 4,
                                             recurrent: RecurrentConfig(cell: .lstm, inputSize: 4, hiddenSize: 4, layers: 2),
                                             dropout: 0.1, tieEmbeddings: tied)
            let model = try LanguageModel(config, generator: &generator)
            let tokens: [Int32] = [1, 2, 3, 4, 5, 6, 0, 1, 2]  // (T = 3, B = 3)
            let cotangent = randomTensor([3, 3, 7], seed: 8)
            func loss() throws -> Double {
                var dropoutGenerator = SeededGenerator(seed: 2)
                return dot(try model.logits(tokens: tokens, steps: 3, batch: 3, training: true, generator: &dropoutGenerator).logits, cotangent)
            }
            _ = try loss()
            model.store.zeroGradients()
            try model.backward(logitsGradient: cotangent)
            for parameter in model.store.parameters {
                try checkGradient("tied \(tied) \(parameter.name)", values: model.store.values(of: parameter), count: parameter.count,
                                  analytic: model.store.gradientTensor(parameter).scalars, epsilon: 3e-2, loss: loss)  // tiny gradients: a larger step beats Float32 noise
            }
            XCTAssertEqual(model.store.parameter(named: "fc.weight") == nil, tied)
            // A tied table's gradient is dense (the output layer writes every row): the
            // distributed all-reduce must not treat it as row-sparse.
            XCTAssertEqual(model.store.isRowSparse(model.embedding.weight), !tied)
        }
    }

    func testBidirectionalAndMismatchedTyingAreClearErrors() {
        var generator = SeededGenerator(seed: 1)
        XCTAssertThrowsError(try LanguageModel(LanguageModelConfig(vocabularySize: 5, embeddingDimension: 3,
            recurrent: RecurrentConfig(cell: .gru, inputSize: 3, hiddenSize: 3, bidirectional: true)), generator: &generator))
        XCTAssertThrowsError(try LanguageModel(LanguageModelConfig(vocabularySize: 5, embeddingDimension: 3,
            recurrent: RecurrentConfig(cell: .gru, inputSize: 3, hiddenSize: 4), tieEmbeddings: true), generator: &generator)) { error in
            XCTAssertTrue("\(error)".contains("--tie-embeddings"))
        }
    }
}
