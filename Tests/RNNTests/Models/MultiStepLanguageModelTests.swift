import RNN
import RNNCore
import XCTest

final class MultiStepLanguageModelTests: XCTestCase {
    /// Every parameter (embedding, two LSTM layers, three heads, the label → initial state table)
    /// against central differences of the real training loss: the mean of the heads' masked
    /// cross-entropies, padding ignored.
    func testGradientsOfTheHeadLossesMatchFiniteDifferences() throws {
        for cell in [CellType.lstm, .gru] {
            var generator = SeededGenerator(seed: 5)
            let base = LanguageModelConfig(vocabularySize: 6, embeddingDimension: 3,
                                           recurrent: RecurrentConfig(cell: cell, inputSize: 3, hiddenSize: 3, layers: 2), dropout: 0)
            let model = try MultiStepLanguageModel(MultiStepLanguageModelConfig(base: base, heads: 3, conditionCount: 2),
                                                   generator: &generator)
            let tokens: [Int32] = [1, 2, 3, 4, 5, 0, 1, 2]  // (T = 4, B = 2), row 1 has length 3
            let ignore = SoftmaxCrossEntropy.defaultIgnoreIndex
            let targets = [2, 3, 4, 5, 5, 4, 1, ignore]
            let lengths = [4, 3], conditions = [1, 0]
            func loss() throws -> Double {
                var dropout = SeededGenerator(seed: 1)
                let logits = try model.logits(tokens: tokens, steps: 4, batch: 2, lengths: lengths, conditions: conditions,
                                              training: true, generator: &dropout)
                let sums = try model.headLosses(logits: logits, targets: targets, steps: 4, batch: 2, withGradients: false).sums
                return sums.reduce(0.0) { $0 + $1.lossSum / Double($1.validCount) } / 3
            }
            model.store.zeroGradients()
            var dropout = SeededGenerator(seed: 1)
            let step = try model.trainStep(inputs: tokens, targets: targets, steps: 4, batch: 2, lengths: lengths,
                                           conditions: conditions, generator: &dropout)
            XCTAssertEqual(step.loss, try loss(), accuracy: 1e-5)
            XCTAssertNotNil(model.store.parameter(named: "fc_ahead3.weight"))
            XCTAssertEqual(model.store.parameter(named: "condition.cell.weight") != nil, cell == .lstm)
            for parameter in model.store.parameters {
                try checkGradient("\(cell) \(parameter.name)", values: model.store.values(of: parameter), count: parameter.count,
                                  analytic: model.store.gradientTensor(parameter).scalars, epsilon: 3e-2, loss: loss)
            }
        }
    }

    func testAheadTargetsShiftAndIgnoreThePastTheEnd() {
        let ignore = SoftmaxCrossEntropy.defaultIgnoreIndex
        // (T = 3, B = 2): row 0 = 1 2 3, row 1 = 4 5 ignore
        let targets = [1, 4, 2, 5, 3, ignore]
        XCTAssertEqual(MultiStepLanguageModel.aheadTargets(targets, steps: 3, batch: 2, head: 1), targets)
        XCTAssertEqual(MultiStepLanguageModel.aheadTargets(targets, steps: 3, batch: 2, head: 2), [2, 5, 3, ignore, ignore, ignore])
        XCTAssertEqual(MultiStepLanguageModel.aheadTargets(targets, steps: 3, batch: 2, head: 4), [Int](repeating: ignore, count: 6))
    }

    func testBadConfigurationsAndMissingConditionsAreClearErrors() throws {
        var generator = SeededGenerator(seed: 1)
        let base = LanguageModelConfig(vocabularySize: 5, embeddingDimension: 3,
                                       recurrent: RecurrentConfig(cell: .gru, inputSize: 3, hiddenSize: 3))
        XCTAssertThrowsError(try MultiStepLanguageModel(MultiStepLanguageModelConfig(base: base, heads: 0), generator: &generator))
        var tied = base
        tied.tieEmbeddings = true
        XCTAssertThrowsError(try MultiStepLanguageModel(MultiStepLanguageModelConfig(base: tied, heads: 2), generator: &generator))
        let model = try MultiStepLanguageModel(MultiStepLanguageModelConfig(base: base, heads: 1, conditionCount: 2), generator: &generator)
        XCTAssertThrowsError(try model.logits(tokens: [1, 2], steps: 2, batch: 1, training: false, generator: &generator)) { error in
            XCTAssertTrue("\(error)".contains("condition"), "\(error)")
        }
        XCTAssertThrowsError(try model.logits(tokens: [1, 2], steps: 2, batch: 1, conditions: [2], training: false, generator: &generator))
    }
}
