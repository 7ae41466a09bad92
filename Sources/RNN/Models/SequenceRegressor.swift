import RNNCore

/// Everything that defines a sequence regressor; saved inside a forecaster's `config.json`.
public struct RegressorConfig: Codable, Sendable, Equatable {
    /// The recurrent layer; its `inputSize` is the number of features per time step (F).
    public var recurrent: RecurrentConfig
    /// Values predicted per sequence (for forecasting: the horizon H).
    public var outputCount: Int

    public init(recurrent: RecurrentConfig, outputCount: Int) {
        self.recurrent = recurrent
        self.outputCount = outputCount
    }

    public var featureCount: Int { recurrent.inputSize }
}

/// Many-to-one regression: a window of W time steps with F features each runs through a
/// (stacked) recurrent layer; its last state goes through one dense layer to H real outputs.
///
///     x (W, B, F) → recurrent (W, B, H_rnn·D) → last state (B, H_rnn·D) → dense ŷ (B, H)
///     L = (1 / (B·H)) Σ_b Σ_k (ŷ_bk − y_bk)²            (mean squared error)
///     ∂L/∂ŷ = (2 / (B·H)) (ŷ − y), then back through dense, the last state and BPTT.
///
/// For a bidirectional layer the "last state" is [h_{W−1}→ ; h_0←], the final state of each
/// direction, as `TimePooling(.last)` takes it. Parameter names follow a PyTorch module with
/// attributes `rnn` and `fc`.
public final class SequenceRegressor {
    public let config: RegressorConfig
    public let store: ParameterStore
    public let recurrent: Recurrent
    public let head: Dense
    private let lastState: TimePooling

    public init(_ config: RegressorConfig, generator: inout SeededGenerator) throws {
        guard config.outputCount >= 1 else {
            throw RNNError("sequence regressor: outputCount must be at least 1, got \(config.outputCount)")
        }
        self.config = config
        store = ParameterStore()
        recurrent = try Recurrent(config.recurrent, name: "rnn.", store: store, generator: &generator)
        let bidirectionalConcat = config.recurrent.bidirectional && config.recurrent.merge == .concat
        lastState = TimePooling(mode: .last, reverseFeaturesFrom: bidirectionalConcat ? config.recurrent.hiddenSize : nil)
        head = try Dense(inputSize: config.recurrent.outputSize, outputSize: config.outputCount, name: "fc.",
                         store: store, generator: &generator)
    }

    /// Predictions ŷ (B, outputCount) for windows (W, B, F), time-major.
    /// `training` enables inter-layer dropout of a stacked layer, drawn from `generator`.
    public func forward(_ windows: Tensor, training: Bool, generator: inout SeededGenerator) throws -> Tensor {
        guard windows.rank == 3, windows.shape[2] == config.featureCount else {
            throw RNNError.shapeMismatch("sequence regressor", expected: "(W, B, \(config.featureCount))", actual: windows.shape)
        }
        let states = try recurrent.forward(windows, training: training, generator: &generator)
        let last = try lastState.forward(states.sequence, lengths: nil)
        return try head.forward(last)
    }

    /// Backpropagates ∂L/∂ŷ (B, outputCount) through every layer, accumulating parameter
    /// gradients; returns ∂L/∂windows (W, B, F).
    @discardableResult
    public func backward(predictionGradient: Tensor) throws -> Tensor {
        let lastGradient = try head.backward(outputGradient: predictionGradient)
        let sequenceGradient = try lastState.backward(outputGradient: lastGradient)
        return try recurrent.backward(outputGradient: sequenceGradient).input
    }

    /// Forward, mean squared error and backward for one batch: windows (W, B, F), targets (B, H).
    /// Gradients accumulate into `store`; the caller zeroes them (the `Trainer` does).
    public func trainStep(windows: Tensor, targets: Tensor, generator: inout SeededGenerator) throws -> StepResult {
        let predictions = try forward(windows, training: true, generator: &generator)
        let result = try MeanSquaredError.compute(predictions: predictions, targets: targets)
        try backward(predictionGradient: result.gradient)
        return StepResult(loss: Double(result.loss), count: windows.shape[1], tokens: windows.shape[0] * windows.shape[1])
    }

    /// Predictions in evaluation mode (no dropout): (B, outputCount).
    public func predict(_ windows: Tensor) throws -> Tensor {
        var generator = SeededGenerator(seed: 0)  // unused: no dropout in evaluation
        return try forward(windows, training: false, generator: &generator)
    }

    /// Mean squared error of the predictions for windows (W, B, F) against targets (B, H).
    public func meanSquaredError(windows: Tensor, targets: Tensor) throws -> Double {
        Double(try MeanSquaredError.compute(predictions: predict(windows), targets: targets).loss)
    }

    public func summary() -> ModelSummary {
        ModelSummary(rows: [
            recurrent.summaryRow(name: "rnn"),
            SummaryRow(name: "last", kind: "last state", outputShape: "(B, \(config.recurrent.outputSize))", parameterCount: 0),
            SummaryRow(name: "fc", kind: "Dense", outputShape: "(B, \(config.outputCount))", parameterCount: head.parameterCount),
        ], store: store)
    }
}
