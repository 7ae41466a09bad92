import RNN
import RNNCore
import XCTest

final class SequenceRegressorTests: XCTestCase {
    /// Every parameter and the input, through recurrent layer, last state and dense head, against
    /// central differences of the real MSE loss; for each cell, stacked and bidirectional layers.
    func testGradientsOfTheMeanSquaredErrorMatchFiniteDifferences() throws {
        let cases: [(CellType, Int, Bool)] = [(.lstm, 1, false), (.gru, 2, false), (.rnn, 1, true), (.lstm, 2, true)]
        for (cell, layers, bidirectional) in cases {
            var generator = SeededGenerator(seed: 23)
            let config = RegressorConfig(recurrent: RecurrentConfig(cell: cell, inputSize: 2, hiddenSize: 3, layers: layers,
                                                                    bidirectional: bidirectional),
                                         outputCount: 2)
            let model = try SequenceRegressor(config, generator: &generator)
            let windows = randomTensor([5, 3, 2], seed: 7)   // (W, B, F)
            let targets = randomTensor([3, 2], seed: 8)      // (B, H)
            func loss() throws -> Double {
                var unused = SeededGenerator(seed: 1)
                let predictions = try model.forward(windows, training: true, generator: &unused)
                var total = 0.0
                for index in 0..<predictions.count {
                    let difference = Double(predictions.scalars[index]) - Double(targets.scalars[index])
                    total += difference * difference
                }
                return total / Double(predictions.count)
            }
            model.store.zeroGradients()
            var generator2 = SeededGenerator(seed: 1)
            let step = try model.trainStep(windows: windows, targets: targets, generator: &generator2)
            XCTAssertEqual(step.loss, try loss(), accuracy: 1e-5)
            XCTAssertEqual(step.count, 3)
            let label = "\(cell) × \(layers)\(bidirectional ? " bidirectional" : "")"
            for parameter in model.store.parameters {
                try checkGradient("\(label) \(parameter.name)", values: model.store.values(of: parameter), count: parameter.count,
                                  analytic: model.store.gradientTensor(parameter).scalars, loss: loss)
            }

            // ∂L/∂input, the same way.
            var unused = SeededGenerator(seed: 1)
            let predictions = try model.forward(windows, training: true, generator: &unused)
            let gradient = try MeanSquaredError.compute(predictions: predictions, targets: targets).gradient
            model.store.zeroGradients()
            let inputGradient = try model.backward(predictionGradient: gradient)
            var perturbed = windows
            try perturbed.withUnsafeMutableBufferPointer { buffer in
                try checkGradient("\(label) input", values: buffer.baseAddress!, count: buffer.count, analytic: inputGradient.scalars) {
                    var unused = SeededGenerator(seed: 1)
                    let output = try model.forward(Tensor(shape: windows.shape, copying: buffer.baseAddress!), training: true, generator: &unused)
                    return zip(output.scalars, targets.scalars).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / Double(output.count)
                }
            }
        }
    }

    func testShapesParameterCountAndBadInput() throws {
        var generator = SeededGenerator(seed: 1)
        let config = RegressorConfig(recurrent: RecurrentConfig(cell: .lstm, inputSize: 3, hiddenSize: 8), outputCount: 4)
        let model = try SequenceRegressor(config, generator: &generator)
        XCTAssertEqual(try model.predict(Tensor(shape: [12, 5, 3])).shape, [5, 4])
        // PyTorch: LSTM(3, 8) = 4·8·(3 + 8) + 2·4·8 = 416; Linear(8, 4) = 36.
        XCTAssertEqual(model.store.scalarCount, 416 + 36)
        XCTAssertEqual(model.summary().rows.map(\.parameterCount).reduce(0, +), 452)
        XCTAssertThrowsError(try model.predict(Tensor(shape: [12, 5, 2]))) { error in
            XCTAssertTrue("\(error)".contains("(W, B, 3)"), "\(error)")
        }
        let noOutputs = RegressorConfig(recurrent: config.recurrent, outputCount: 0)
        XCTAssertThrowsError(try SequenceRegressor(noOutputs, generator: &generator)) { error in
            XCTAssertTrue("\(error)".contains("outputCount must be at least 1"), "\(error)")
        }
    }
}
