import RNNCore

/// Everything that defines a masked (BERT-style) recurrent language model; saved in `config.json`.
public struct MaskedLanguageModelConfig: Codable, Sendable, Equatable {
    public var vocabularySize: Int
    public var embeddingDimension: Int
    /// Token id of padding (its embedding row stays zero).
    public var paddingId: Int
    /// Token id that replaces a masked input token (`[MASK]`).
    public var maskId: Int
    /// Ids never masked and never drawn as random replacements (padding, `[UNK]`, `[MASK]`, ...).
    public var specialIds: [Int]
    /// The encoder; must be bidirectional (each position is predicted from both sides).
    public var recurrent: RecurrentConfig
    /// Dropout on the embeddings and on the encoder outputs at masked positions, in training.
    public var dropout: Float
    /// Share of ordinary tokens chosen as prediction targets (BERT: 0.15).
    public var maskProbability: Float
    /// Of the chosen tokens: share replaced by `[MASK]` (0.8) and by a random token (0.1); the rest stay.
    public var maskTokenShare: Float
    public var randomTokenShare: Float

    public init(vocabularySize: Int, embeddingDimension: Int, paddingId: Int = 0, maskId: Int, specialIds: [Int],
                recurrent: RecurrentConfig, dropout: Float = 0, maskProbability: Float = 0.15,
                maskTokenShare: Float = 0.8, randomTokenShare: Float = 0.1) {
        self.vocabularySize = vocabularySize
        self.embeddingDimension = embeddingDimension
        self.paddingId = paddingId
        self.maskId = maskId
        self.specialIds = specialIds
        self.recurrent = recurrent
        self.dropout = dropout
        self.maskProbability = maskProbability
        self.maskTokenShare = maskTokenShare
        self.randomTokenShare = randomTokenShare
    }

    /// Checks the parts fit together; the message names what does not.
    public func validate() throws {
        guard recurrent.bidirectional else {
            throw RNNError("masked language model: the encoder must be bidirectional (it predicts each masked token from both sides)")
        }
        guard recurrent.inputSize == embeddingDimension else {
            throw RNNError("masked language model: recurrent input size \(recurrent.inputSize) must equal the embedding dimension \(embeddingDimension)")
        }
        for (name, id) in [("padding", paddingId), ("[MASK]", maskId)] where !(0..<vocabularySize).contains(id) {
            throw RNNError("masked language model: \(name) id \(id) outside the vocabulary 0..<\(vocabularySize)")
        }
        guard Set(specialIds).count < vocabularySize else {
            throw RNNError("masked language model: the vocabulary has no ordinary tokens to predict")
        }
        guard maskProbability > 0, maskProbability <= 1 else {
            throw RNNError("--mask-probability must be in (0, 1], got \(maskProbability)")
        }
        guard maskTokenShare >= 0, randomTokenShare >= 0, maskTokenShare + randomTokenShare <= 1 else {
            throw RNNError("masked language model: [MASK] share \(maskTokenShare) and random share \(randomTokenShare) must be ≥ 0 and sum to at most 1")
        }
        guard dropout >= 0, dropout < 1 else { throw RNNError("--dropout must be in [0, 1), got \(dropout)") }
        try recurrent.validate()
    }
}

/// A batch prepared for the masked objective: the corrupted inputs and what to predict where.
public struct MaskedBatch: Sendable, Equatable {
    /// (T, B) input ids after masking; padding past each length.
    public var inputs: [Int32]
    public var lengths: [Int]
    /// t·B + b of every target position, in increasing order.
    public var positions: [Int]
    /// The original token at each of `positions`.
    public var targets: [Int]

    public var steps: Int { lengths.max() ?? 0 }
    public var size: Int { lengths.count }

    public init(inputs: [Int32], lengths: [Int], positions: [Int], targets: [Int]) {
        self.inputs = inputs
        self.lengths = lengths
        self.positions = positions
        self.targets = targets
    }

    /// BERT's corruption of a padded batch: each ordinary token (not in `specialIds`) becomes a
    /// target with probability `maskProbability`; a sequence with maskable tokens but no target
    /// gets one at a random maskable position (short texts would otherwise often teach nothing).
    /// A target's input is `[MASK]` with probability `maskTokenShare`, a random ordinary token with
    /// `randomTokenShare`, and stays itself otherwise. Every draw comes from `generator`.
    public init(corrupting batch: TokenBatch, config: MaskedLanguageModelConfig, generator: inout SeededGenerator) {
        let T = batch.steps, B = batch.size, V = config.vocabularySize
        let special = Set(config.specialIds)
        var inputs = batch.tokens
        var chosen = [Bool](repeating: false, count: T * B)
        for b in 0..<B {
            var maskable: [Int] = [], any = false
            for t in 0..<batch.lengths[b] where !special.contains(Int(batch.tokens[t * B + b])) {
                maskable.append(t * B + b)
                if generator.nextUnitFloat() < config.maskProbability {
                    chosen[t * B + b] = true
                    any = true
                }
            }
            if !any, !maskable.isEmpty { chosen[maskable[Int(generator.next() % UInt64(maskable.count))]] = true }
        }
        var positions: [Int] = [], targets: [Int] = []
        for position in 0..<(T * B) where chosen[position] {
            positions.append(position)
            targets.append(Int(batch.tokens[position]))
            let draw = generator.nextUnitFloat()
            if draw < config.maskTokenShare {
                inputs[position] = Int32(config.maskId)
            } else if draw < config.maskTokenShare + config.randomTokenShare {
                var replacement = Int(generator.next() % UInt64(V))
                while special.contains(replacement) { replacement = Int(generator.next() % UInt64(V)) }
                inputs[position] = Int32(replacement)
            }
        }
        self.init(inputs: inputs, lengths: batch.lengths, positions: positions, targets: targets)
    }
}

/// A masked language model (BERT's objective on a recurrent encoder): some input tokens are
/// hidden, and a bidirectional encoder predicts each from the tokens on both sides.
///
///     tokens (T, B) → embedding (T, B, E) → dropout → recurrent, bidirectional (T, B, 2H)
///       → gather the N target positions (N, 2H) → dropout → dense (N, V) logits
///     L = mean over the N targets of −log softmax(logits_n)[target_n]
///
/// Backward runs the same chain in reverse: ∂L/∂logits (softmax − one-hot)/N → dense → dropout →
/// scatter the N rows back into a zero (T, B, 2H) gradient → recurrent (BPTT, both directions)
/// → dropout → embedding. Only the masked positions reach the (V-wide) output layer, so its cost
/// is about 15% of a next-token model's. Parameter names: `embedding.weight`, `rnn.*` (those of
/// `TextClassifier`, so the encoder can initialise one), `fc.weight`, `fc.bias`.
public final class MaskedLanguageModel {
    public let config: MaskedLanguageModelConfig
    public let store: ParameterStore
    public let embedding: Embedding
    public let recurrent: Recurrent
    public let head: Dense
    private let inputDropout: Dropout
    private let outputDropout: Dropout
    private var lastPositions: [Int] = []
    private var lastShape: [Int] = []

    public init(_ config: MaskedLanguageModelConfig, generator: inout SeededGenerator) throws {
        try config.validate()
        self.config = config
        store = ParameterStore()
        embedding = try Embedding(vocabularySize: config.vocabularySize, dimension: config.embeddingDimension,
                                  paddingIndex: config.paddingId, name: "embedding.", store: store, generator: &generator)
        recurrent = try Recurrent(config.recurrent, name: "rnn.", store: store, generator: &generator)
        head = try Dense(inputSize: config.recurrent.outputSize, outputSize: config.vocabularySize, name: "fc.",
                         store: store, generator: &generator)
        inputDropout = try Dropout(rate: config.dropout)
        outputDropout = try Dropout(rate: config.dropout)
    }

    /// Logits (N, V) at the batch's N target positions.
    public func logits(_ batch: MaskedBatch, training: Bool, generator: inout SeededGenerator) throws -> Tensor {
        let T = batch.steps, B = batch.size, F = config.recurrent.outputSize
        guard !batch.positions.isEmpty else { throw RNNError("masked language model: a batch without target positions") }
        if let bad = batch.positions.first(where: { !(0..<(T * B)).contains($0) }) {
            throw RNNError("masked language model: target position \(bad) outside the batch of \(T) × \(B)")
        }
        var x = try embedding.forward(tokens: batch.inputs, shape: [T, B])
        x = inputDropout.forward(x, training: training, generator: &generator)
        let states = try recurrent.forward(x, lengths: batch.lengths, training: training, generator: &generator).sequence
        lastPositions = batch.positions
        lastShape = [T, B, F]
        var selected = Tensor(shape: [batch.positions.count, F])   // (N, 2H)
        selected.withUnsafeMutableBufferPointer { target in
            states.withUnsafeBufferPointer { source in
                for (n, position) in batch.positions.enumerated() {
                    (target.baseAddress! + n * F).update(from: source.baseAddress! + position * F, count: F)
                }
            }
        }
        selected = outputDropout.forward(selected, training: training, generator: &generator)
        return try head.forward(selected)
    }

    /// Backpropagates ∂L/∂logits (N, V) through every layer, accumulating parameter gradients.
    public func backward(logitsGradient: Tensor) throws {
        var selectedGradient = try head.backward(outputGradient: logitsGradient)
        selectedGradient = try outputDropout.backward(outputGradient: selectedGradient)
        let F = lastShape[2]
        var statesGradient = Tensor(shape: lastShape)   // (T, B, 2H), zero where nothing is predicted
        statesGradient.withUnsafeMutableBufferPointer { target in
            selectedGradient.withUnsafeBufferPointer { source in
                for (n, position) in lastPositions.enumerated() {
                    (target.baseAddress! + position * F).update(from: source.baseAddress! + n * F, count: F)
                }
            }
        }
        var inputGradient = try recurrent.backward(outputGradient: statesGradient).input
        inputGradient = try inputDropout.backward(outputGradient: inputGradient)
        try embedding.backward(outputGradient: inputGradient)
    }

    /// Forward, mean cross-entropy over the targets, backward. Gradients accumulate; the caller zeroes them.
    public func trainStep(_ batch: MaskedBatch, generator: inout SeededGenerator) throws -> StepResult {
        let logits = try self.logits(batch, training: true, generator: &generator)
        let result = try SoftmaxCrossEntropy.compute(logits: logits, targets: batch.targets)
        try backward(logitsGradient: result.gradient)
        return StepResult(loss: Double(result.loss), count: result.validCount, tokens: batch.lengths.reduce(0, +))
    }

    /// Cross-entropy and arg-max accuracy over the targets in evaluation mode, accumulated.
    public func evaluate(_ batch: MaskedBatch, into accumulator: inout CrossEntropyAccumulator) throws {
        var generator = SeededGenerator(seed: 0)   // unused: no dropout in evaluation
        let logits = try self.logits(batch, training: false, generator: &generator)
        accumulator.add(try SoftmaxCrossEntropy.compute(logits: logits, targets: batch.targets))
    }

    public func summary() -> ModelSummary {
        let E = config.embeddingDimension, V = config.vocabularySize
        return ModelSummary(rows: [
            SummaryRow(name: "embedding", kind: "Embedding(\(V), \(E))", outputShape: "(B, T, \(E))", parameterCount: V * E),
            recurrent.summaryRow(name: "rnn"),
            SummaryRow(name: "fc", kind: "Dense + softmax (masked positions)", outputShape: "(N, \(V))", parameterCount: head.parameterCount),
        ], store: store)
    }
}
