import RNNCore

/// What a `MultiStepLanguageModel` adds to a `LanguageModelConfig`; saved in `config.json`.
public struct MultiStepLanguageModelConfig: Codable, Sendable, Equatable {
    /// The shared network: embedding, recurrent layers and head 1 (`fc.`). Never tied.
    public var base: LanguageModelConfig
    /// K ≥ 1 output heads: head k predicts the token k steps ahead (t+1 … t+K).
    public var heads: Int
    /// Labels that condition the initial state (0: unconditioned).
    public var conditionCount: Int

    public init(base: LanguageModelConfig, heads: Int = 1, conditionCount: Int = 0) {
        self.base = base
        self.heads = heads
        self.conditionCount = conditionCount
    }
}

/// A language model with K next-token heads and an optional label-conditioned initial state:
///
///     tokens (T, B) → embedding (T, B, E) → dropout → recurrent (T, B, H), h₀ = C[y] → dropout → s
///     logits_k = s W_kᵀ + b_k   (T, B, V) for k = 1 … K;   head k at step t predicts token t+k
///     L = (1/K) Σ_k mean_{valid (t, b)} −log softmax(logits_k[t, b])[target_k[t, b]]
///
/// `target_k[t, b] = target_1[t+k−1, b]`, ignored past the end of the window or the sequence.
/// Head 1 is the ordinary next-token head, so the parameters `embedding.weight`, `rnn.*`,
/// `fc.weight`, `fc.bias` are those of an untied `LanguageModel` (`base`) and one-step generation
/// runs on it unchanged; heads 2 … K are `fc_ahead<k>.`, the label embedding `condition.`.
public final class MultiStepLanguageModel {
    public let config: MultiStepLanguageModelConfig
    /// Holds the embedding, recurrent layers and head 1, and the store every parameter lives in.
    public let base: LanguageModel
    /// Heads 2 … K.
    public let aheadHeads: [Dense]
    public let condition: InitialStateEmbedding?
    private let inputDropout: Dropout
    private let outputDropout: Dropout

    public var store: ParameterStore { base.store }

    public init(_ config: MultiStepLanguageModelConfig, generator: inout SeededGenerator) throws {
        guard config.heads >= 1 else { throw RNNError("--predict-ahead must be at least 1, got \(config.heads)") }
        guard !config.base.tieEmbeddings else {
            throw RNNError("multi-step language model: heads are separate layers; use untied embeddings")
        }
        guard config.conditionCount >= 0 else { throw RNNError("multi-step language model: negative condition count") }
        self.config = config
        let base = try LanguageModel(config.base, generator: &generator)
        self.base = base
        let H = config.base.recurrent.outputSize, V = config.base.vocabularySize
        var heads: [Dense] = []
        for k in stride(from: 2, through: config.heads, by: 1) {
            heads.append(try Dense(inputSize: H, outputSize: V, name: "fc_ahead\(k).", store: base.store, generator: &generator))
        }
        aheadHeads = heads
        let recurrent = config.base.recurrent
        condition = config.conditionCount > 0
            ? try InitialStateEmbedding(labelCount: config.conditionCount, slots: recurrent.layers * recurrent.directions,
                                        hiddenSize: recurrent.hiddenSize, hasCell: recurrent.cell == .lstm,
                                        store: base.store, generator: &generator)
            : nil
        inputDropout = try Dropout(rate: config.base.dropout)
        outputDropout = try Dropout(rate: config.base.dropout)
    }

    /// Head k's targets (k = 1 … K) from the next-token targets (T, B): `target_1[t+k−1, b]`,
    /// `ignoreIndex` where t+k−1 ≥ T.
    public static func aheadTargets(_ targets: [Int], steps: Int, batch: Int, head k: Int,
                                    ignoreIndex: Int = SoftmaxCrossEntropy.defaultIgnoreIndex) -> [Int] {
        var result = [Int](repeating: ignoreIndex, count: targets.count)
        let shift = k - 1
        for t in 0..<max(steps - shift, 0) {
            for b in 0..<batch { result[t * batch + b] = targets[(t + shift) * batch + b] }
        }
        return result
    }

    /// Logits of every head, K tensors (T, B, V). `conditions`: B label ids when conditioned (required then).
    public func logits(tokens: [Int32], steps: Int, batch: Int, lengths: [Int]? = nil, conditions: [Int]? = nil,
                       training: Bool, generator: inout SeededGenerator) throws -> [Tensor] {
        var initialState: RecurrentState?
        if let condition {
            guard let conditions, conditions.count == batch else {
                throw RNNError("conditioned language model: needs one condition per row (\(batch)), got \(conditions?.count ?? 0)")
            }
            initialState = try condition.forward(labels: conditions)
        }
        var x = try base.embedding.forward(tokens: tokens, shape: [steps, batch])
        x = inputDropout.forward(x, training: training, generator: &generator)
        let output = try base.recurrent.forward(x, lengths: lengths, initialState: initialState, training: training, generator: &generator)
        let states = outputDropout.forward(output.sequence, training: training, generator: &generator)
        return try [base.head!.forward(states)] + aheadHeads.map { try $0.forward(states) }
    }

    /// Backpropagates ∂L/∂logits of every head (K tensors (T, B, V)), accumulating parameter gradients.
    public func backward(logitsGradients: [Tensor]) throws {
        guard logitsGradients.count == config.heads else {
            throw RNNError("multi-step language model: \(logitsGradients.count) gradients for \(config.heads) heads")
        }
        var statesGradient = try base.head!.backward(outputGradient: logitsGradients[0])
        for (head, gradient) in zip(aheadHeads, logitsGradients.dropFirst()) {
            let part = try head.backward(outputGradient: gradient)
            statesGradient.withUnsafeMutableBufferPointer { total in
                part.withUnsafeBufferPointer { add in for i in 0..<add.count { total[i] += add[i] } }
            }
        }
        statesGradient = try outputDropout.backward(outputGradient: statesGradient)
        let gradients = try base.recurrent.backward(outputGradient: statesGradient)
        if let condition { try condition.backward(stateGradient: gradients.initialState) }
        try base.embedding.backward(outputGradient: try inputDropout.backward(outputGradient: gradients.input))
    }

    /// Cross-entropy sums of every head over one batch (targets are head 1's; the others are shifted).
    /// With `gradientScale`, also the gradients of `gradientScale` × L (L as in the type's doc comment).
    public func headLosses(logits: [Tensor], targets: [Int], steps: Int, batch: Int, withGradients: Bool)
        throws -> (sums: [SoftmaxCrossEntropy.Sums], gradients: [Tensor]) {
        let V = config.base.vocabularySize, K = Float(config.heads)
        var sums: [SoftmaxCrossEntropy.Sums] = [], gradients: [Tensor] = []
        for (index, headLogits) in logits.enumerated() {
            let headTargets = Self.aheadTargets(targets, steps: steps, batch: batch, head: index + 1)
            var gradient = Tensor(shape: withGradients ? headLogits.shape : [0])
            let result = headLogits.withUnsafeBufferPointer { x in
                headTargets.withUnsafeBufferPointer { t in
                    gradient.withUnsafeMutableBufferPointer { dx in
                        SoftmaxCrossEntropy.compute(logits: x.baseAddress!, rows: steps * batch, classes: V, targets: t.baseAddress!,
                                                    ignoreIndex: SoftmaxCrossEntropy.defaultIgnoreIndex,
                                                    gradient: withGradients ? dx.baseAddress! : nil)
                    }
                }
            }
            if withGradients {
                gradient.withUnsafeMutableBufferPointer { dx in for i in 0..<dx.count { dx[i] /= K } }
                gradients.append(gradient)
            }
            sums.append(result)
        }
        return (sums, gradients)
    }

    /// One teacher-forcing step: forward, the mean of the heads' mean losses, backward.
    public func trainStep(inputs: [Int32], targets: [Int], steps: Int, batch: Int, lengths: [Int]? = nil,
                          conditions: [Int]? = nil, generator: inout SeededGenerator) throws -> StepResult {
        let logits = try self.logits(tokens: inputs, steps: steps, batch: batch, lengths: lengths, conditions: conditions,
                                     training: true, generator: &generator)
        let (sums, gradients) = try headLosses(logits: logits, targets: targets, steps: steps, batch: batch, withGradients: true)
        try backward(logitsGradients: gradients)
        let loss = sums.reduce(0.0) { $0 + Double($1.meanLoss) } / Double(config.heads)
        return StepResult(loss: loss, count: sums[0].validCount, tokens: sums[0].validCount)
    }

    public func summary() -> ModelSummary {
        var rows = base.summary().rows
        let V = config.base.vocabularySize
        for (index, head) in aheadHeads.enumerated() {
            rows.append(SummaryRow(name: "fc_ahead\(index + 2)", kind: "Dense + softmax (token t+\(index + 2))",
                                   outputShape: "(B, T, \(V))", parameterCount: head.parameterCount))
        }
        if let condition {
            let width = condition.slots * condition.hiddenSize
            rows.append(SummaryRow(name: "condition", kind: "label → initial state (\(condition.labelCount) labels)",
                                   outputShape: "(L·D, B, H)", parameterCount: condition.labelCount * width * (condition.cell == nil ? 1 : 2)))
        }
        return ModelSummary(rows: rows, store: store)
    }
}
