import RNN
import RNNCore
import XCTest

/// `--pool mean-max`: the head reads [mean; max] (2F features); every parameter of the whole
/// classifier against central differences. The max half is not differentiable where two steps
/// tie, so ε is small enough (2e-3) that no perturbation moves an arg max here.
final class TextClassifierMeanMaxTests: XCTestCase {
    func testMeanMaxPoolingGradientsMatchFiniteDifferences() throws {
        var generator = SeededGenerator(seed: 23)
        let config = ClassifierConfig(vocabularySize: 10, embeddingDimension: 3,
                                      recurrent: RecurrentConfig(cell: .gru, inputSize: 3, hiddenSize: 4, bidirectional: true),
                                      pooling: .meanMax, dropout: 0.2, labels: ["neg", "pos"])
        let model = try TextClassifier(config, generator: &generator)
        XCTAssertEqual(model.head.inputSize, 16, "[mean; max] of 2 × 4 features")
        let batch = try TokenBatch(sequences: [[3, 4, 5, 6], [7, 2], [1, 8, 9]], padding: 0)
        let cotangent = randomTensor([3, 1], seed: 4)
        func loss() throws -> Double {
            var dropout = SeededGenerator(seed: 5)
            return dot(try model.logits(batch, training: true, generator: &dropout), cotangent)
        }
        _ = try loss()
        model.store.zeroGradients()
        try model.backward(logitsGradient: cotangent)
        for parameter in model.store.parameters {
            var analytic = model.store.gradientTensor(parameter).scalars
            var count = parameter.count, offset = 0
            if parameter.name == "embedding.weight" { offset = 3; count -= 3; analytic.removeFirst(3) }  // padding row
            try checkGradient("mean-max \(parameter.name)", values: model.store.values(of: parameter) + offset,
                              count: count, analytic: analytic, epsilon: 2e-3, loss: loss)
        }
        XCTAssertTrue(model.summary().render().contains("(B, 16)"))
    }
}
