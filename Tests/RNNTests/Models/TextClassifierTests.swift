import RNN
import RNNCore
import XCTest

/// The batch of the whole-model gradient checks (three texts of lengths 4, 2, 3).
func classifierCheckBatch() throws -> TokenBatch {
    try TokenBatch(sequences: [[3, 4, 5, 6], [7, 2], [1, 8, 9]], padding: 0)
}

/// A classifier over a 10-word vocabulary with 3-dimensional embeddings and 4 hidden units.
func smallClassifier(cell: CellType, bidirectional: Bool, pooling: PoolingMode, labels: [String], seed: UInt64) throws -> TextClassifier {
    var generator = SeededGenerator(seed: seed)
    let config = ClassifierConfig(vocabularySize: 10, embeddingDimension: 3,
                                  recurrent: RecurrentConfig(cell: cell, inputSize: 3, hiddenSize: 4, bidirectional: bidirectional),
                                  pooling: pooling, dropout: 0.2, labels: labels)
    return try TextClassifier(config, generator: &generator)
}

/// Every parameter of the whole model, through embedding, recurrent layer, pooling and head,
/// against central differences of ⟨logits, a fixed cotangent⟩ (training mode, fixed dropout masks).
/// The padding row of the embedding is skipped: it gets no gradient by design.
func checkWholeClassifierGradients(_ model: TextClassifier, label: String, epsilon: Float = 1e-2,
                                   file: StaticString = #filePath, line: UInt = #line) throws {
    let batch = try classifierCheckBatch()
    let cotangent = randomTensor([3, model.config.labels.count == 2 ? 1 : model.config.labels.count], seed: 4)
    func loss() throws -> Double {
        var dropoutGenerator = SeededGenerator(seed: 5)
        return dot(try model.logits(batch, training: true, generator: &dropoutGenerator), cotangent)
    }
    _ = try loss()
    model.store.zeroGradients()
    try model.backward(logitsGradient: cotangent)
    let dimension = model.config.embeddingDimension
    for parameter in model.store.parameters {
        var analytic = model.store.gradientTensor(parameter).scalars
        var count = parameter.count, offset = 0
        if parameter.name == "embedding.weight" { offset = dimension; count -= dimension; analytic.removeFirst(dimension) }
        try checkGradient("\(label) \(parameter.name)", values: model.store.values(of: parameter) + offset,
                          count: count, analytic: analytic, epsilon: epsilon, file: file, line: line, loss: loss)
    }
}

final class TextClassifierTests: XCTestCase {
    private func batch() throws -> TokenBatch { try classifierCheckBatch() }

    /// Both architectures and a bidirectional layer, three cells.
    func testWholeModelGradientsMatchFiniteDifferences() throws {
        for (pooling, bidirectional, cell) in [(PoolingMode.last, true, CellType.lstm), (.mean, false, .gru), (.max, true, .rnn)] {
            let model = try smallClassifier(cell: cell, bidirectional: bidirectional, pooling: pooling, labels: ["a", "b", "c"], seed: 17)
            try checkWholeClassifierGradients(model, label: "\(pooling)")
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
