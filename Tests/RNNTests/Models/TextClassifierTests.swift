import RNN
import RNNCore
import XCTest

final class TextClassifierTests: XCTestCase {
    private func batch() throws -> TokenBatch {
        try TokenBatch(sequences: [[3, 4, 5, 6], [7, 2], [1, 8, 9]], padding: 0)
    }

    /// Every parameter of the whole model, through embedding, recurrent layer, pooling and head,
    /// against central differences; for both architectures and a bidirectional layer.
    func testWholeModelGradientsMatchFiniteDifferences() throws {
        for (pooling, bidirectional, cell) in [(PoolingMode.last, true, CellType.lstm), (.mean, false, .gru), (.max, true, .rnn)] {
            var generator = SeededGenerator(seed: 17)
            let config = ClassifierConfig(vocabularySize: 10, embeddingDimension: 3,
                                          recurrent: RecurrentConfig(cell: cell, inputSize: 3, hiddenSize: 4, bidirectional: bidirectional),
                                          pooling: pooling, dropout: 0.2, labels: ["a", "b", "c"])
            let model = try TextClassifier(config, generator: &generator)
            let batch = try batch()
            let cotangent = randomTensor([3, 3], seed: 4)
            func loss() throws -> Double {
                var dropoutGenerator = SeededGenerator(seed: 5)
                return dot(try model.logits(batch, training: true, generator: &dropoutGenerator), cotangent)
            }
            _ = try loss()
            model.store.zeroGradients()
            try model.backward(logitsGradient: cotangent)
            for parameter in model.store.parameters {
                var analytic = model.store.gradientTensor(parameter).scalars
                var count = parameter.count, offset = 0
                if parameter.name == "embedding.weight" {  // skip the padding row 0: no gradient by design
                    offset = 3; count -= 3; analytic.removeFirst(3)
                }
                try checkGradient("\(pooling) \(parameter.name)", values: model.store.values(of: parameter) + offset,
                                  count: count, analytic: analytic, loss: loss)
            }
        }
    }

    func testTwoClassesUseOneSigmoidOutputAndSummaryCountsMatchStore() throws {
        var generator = SeededGenerator(seed: 1)
        let config = ClassifierConfig(vocabularySize: 1000, embeddingDimension: 64,
                                      recurrent: RecurrentConfig(cell: .lstm, inputSize: 64, hiddenSize: 32, bidirectional: true),
                                      pooling: .mean, labels: ["neg", "pos"])
        let model = try TextClassifier(config, generator: &generator)
        XCTAssertEqual(try model.logits(batch(), training: false, generator: &generator).shape, [3, 1])
        let summary = model.summary()
        XCTAssertEqual(summary.rows.map(\.parameterCount).reduce(0, +), model.store.scalarCount)
        // PyTorch: Embedding(1000, 64) + LSTM(64, 32, bidirectional) + Linear(64, 1) = 64000 + 25088 + 65
        XCTAssertEqual(model.store.scalarCount, 64_000 + 25_088 + 65)
        XCTAssertTrue(summary.render().contains("Total parameters: 89,153"))
    }

    func testOneClassIsAClearError() {
        var generator = SeededGenerator(seed: 1)
        let config = ClassifierConfig(vocabularySize: 10, embeddingDimension: 3,
                                      recurrent: RecurrentConfig(cell: .gru, inputSize: 3, hiddenSize: 2),
                                      pooling: .last, labels: ["only"])
        XCTAssertThrowsError(try TextClassifier(config, generator: &generator)) { error in
            XCTAssertTrue("\(error)".contains("at least two classes"))
        }
    }
}
