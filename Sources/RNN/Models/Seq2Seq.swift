import Foundation
import RNNCore

/// Everything that defines an encoder–decoder; saved as the `model` object of `config.json`.
public struct Seq2SeqConfig: Codable, Sendable, Equatable {
    public var sourceVocabularySize: Int
    public var targetVocabularySize: Int
    public var embeddingDimension: Int
    /// The encoder over source embeddings: (stacked, bidirectional) LSTM or GRU, concat merge.
    public var encoder: RecurrentConfig
    /// The decoder: a unidirectional stack of this cell over target embeddings.
    public var decoderCell: CellType
    public var decoderHiddenSize: Int
    public var decoderLayers: Int
    public var attention: AttentionKind
    /// Width of the additive scorer (Bahdanau); ignored otherwise.
    public var attentionSize: Int
    /// Dropout on both embeddings and on the attentional hidden state, in training.
    public var dropout: Float
    public var sourcePaddingId: Int
    public var targetPaddingId: Int
    /// Target ids that start and end every target sentence.
    public var startId: Int
    public var endId: Int
    /// Longest source and target (in tokens, end token excluded) the model accepts.
    public var maxSourceLength: Int
    public var maxTargetLength: Int

    public init(sourceVocabularySize: Int, targetVocabularySize: Int, embeddingDimension: Int, cell: CellType = .gru,
                encoderHiddenSize: Int, encoderLayers: Int = 1, bidirectional: Bool = true,
                decoderHiddenSize: Int, decoderLayers: Int = 1, attention: AttentionKind = .bahdanau, attentionSize: Int? = nil,
                dropout: Float = 0, sourcePaddingId: Int = 0, targetPaddingId: Int = 0, startId: Int, endId: Int,
                maxSourceLength: Int = 100, maxTargetLength: Int = 100) {
        self.sourceVocabularySize = sourceVocabularySize
        self.targetVocabularySize = targetVocabularySize
        self.embeddingDimension = embeddingDimension
        encoder = RecurrentConfig(cell: cell, inputSize: embeddingDimension, hiddenSize: encoderHiddenSize, layers: encoderLayers,
                                  bidirectional: bidirectional, dropout: encoderLayers > 1 ? dropout : 0,
                                  forgetBias: cell == .lstm ? 1 : nil)
        decoderCell = cell
        self.decoderHiddenSize = decoderHiddenSize
        self.decoderLayers = decoderLayers
        self.attention = attention
        self.attentionSize = attentionSize ?? decoderHiddenSize
        self.dropout = dropout
        self.sourcePaddingId = sourcePaddingId
        self.targetPaddingId = targetPaddingId
        self.startId = startId
        self.endId = endId
        self.maxSourceLength = maxSourceLength
        self.maxTargetLength = maxTargetLength
    }

    /// Features per source position the decoder attends to: the encoder's output size.
    public var keySize: Int { encoder.outputSize }

    public func validate() throws {
        guard sourceVocabularySize >= 2, targetVocabularySize >= 4 else {
            throw RNNError("seq2seq: vocabularies too small (\(sourceVocabularySize) source, \(targetVocabularySize) target tokens)")
        }
        guard embeddingDimension > 0, decoderHiddenSize > 0, decoderLayers > 0, attentionSize > 0 else {
            throw RNNError("seq2seq: --embedding-dim, --hidden, --layers and --attention-size must be positive")
        }
        guard decoderCell == .lstm || decoderCell == .gru else { throw RNNError("seq2seq: --cell must be lstm or gru") }
        guard encoder.merge == .concat, encoder.inputSize == embeddingDimension else {
            throw RNNError("seq2seq: the encoder must read the embedding and concatenate its directions")
        }
        guard dropout >= 0, dropout < 1 else { throw RNNError("--dropout must be in [0, 1), got \(dropout)") }
        for (name, id) in [("source padding", sourcePaddingId), ("target padding", targetPaddingId), ("start", startId), ("end", endId)] {
            let size = name.hasPrefix("source") ? sourceVocabularySize : targetVocabularySize
            guard (0..<size).contains(id) else { throw RNNError("seq2seq: \(name) id \(id) outside the vocabulary 0..<\(size)") }
        }
        guard maxSourceLength >= 1, maxTargetLength >= 1 else { throw RNNError("--max-length must be at least 1") }
        try encoder.validate()
    }
}

/// A batch of sentence pairs, time-major. Targets are shifted for teacher forcing:
/// input `[start] y₁ … y_n`, output `y₁ … y_n [end]`, so each has n + 1 steps.
public struct Seq2SeqBatch: Sendable {
    /// Source ids (S, B), padded; lengths per sentence.
    public var source: TokenBatch
    /// Decoder inputs (T, B), padded with the target padding id.
    public var targetInput: [Int32]
    /// Expected outputs (T·B), `SoftmaxCrossEntropy.defaultIgnoreIndex` at padding.
    public var targetOutput: [Int]
    /// n + 1 per sentence.
    public var targetLengths: [Int]

    public var targetSteps: Int { targetLengths.max() ?? 0 }
    public var size: Int { targetLengths.count }
    /// Tokens the loss counts (end tokens included).
    public var targetTokenCount: Int { targetLengths.reduce(0, +) }

    public init(sources: [[Int32]], targets: [[Int32]], config: Seq2SeqConfig, indices: [Int]? = nil) throws {
        guard sources.count == targets.count else { throw RNNError("seq2seq batch: \(sources.count) sources but \(targets.count) targets") }
        source = try TokenBatch(sequences: sources, padding: Int32(config.sourcePaddingId), indices: indices)
        let B = targets.count, T = (targets.map(\.count).max() ?? 0) + 1
        var input = [Int32](repeating: Int32(config.targetPaddingId), count: T * B)
        var output = [Int](repeating: SoftmaxCrossEntropy.defaultIgnoreIndex, count: T * B)
        for (b, target) in targets.enumerated() {
            input[b] = Int32(config.startId)
            for (t, id) in target.enumerated() {
                input[(t + 1) * B + b] = id
                output[t * B + b] = Int(id)
            }
            output[target.count * B + b] = config.endId
        }
        targetInput = input
        targetOutput = output
        targetLengths = targets.map { $0.count + 1 }
    }
}

/// An encoder–decoder (sequence to sequence) with attention, trained with teacher forcing:
///
///     source (S, B) → encoder_embedding → dropout → encoder (Bi)LSTM/GRU → keys k (S, B, Hk), final states
///     h₀ˡ = tanh(W_b [h→_final; h←_final] + b_b) slice l   (the bridge, `bridge.*`; LSTM c₀ = 0)
///     target input (T, B) → decoder_embedding → dropout → decoder LSTM/GRU stack from h₀ → queries q (T, B, Hd)
///     c_t = Attention(q_t, k)                                (none: no context)
///     h̃_t = tanh(W_o [c_t; q_t] + b_o)                       (`linear_out.*`; none: tanh(W_o q_t + b_o))
///     logits_t = W_g dropout(h̃_t) + b_g                      (`generator.*`), softmax cross-entropy per token
///
/// Backward runs the same chain in reverse: generator, tanh (∂ ⊙ (1 − h̃²)), linear_out, split into
/// ∂c and ∂q, attention (∂q, ∂k), decoder BPTT (∂ target embedding, ∂h₀), bridge (∂ final encoder
/// states), encoder BPTT with ∂k as its output gradient, source embedding. The decoder's layers
/// are `SequenceRunner`s, so decoding one step at a time (`Seq2Seq+Decoding.swift`) reuses the
/// same time loop with T = 1. Parameter names: `encoder_embedding.weight`, `encoder.*` (PyTorch
/// `nn.GRU`/`nn.LSTM` names), `bridge.*`, `decoder_embedding.weight`, `decoder.*`, `attention.*`,
/// `linear_out.*`, `generator.*`.
public final class Seq2Seq {
    public let config: Seq2SeqConfig
    public let store: ParameterStore
    public let sourceEmbedding: Embedding
    public let encoder: Recurrent
    public let bridge: Dense
    public let targetEmbedding: Embedding
    let decoderLayers: [any DirectionRunning]
    public let attention: Attention?
    public let combine: Dense
    public let generator: Dense
    private let sourceDropout: Dropout, targetDropout: Dropout, outputDropout: Dropout

    // Forward caches of the last training/evaluation batch.
    private var sourceLengths: [Int] = []
    private var sourceSteps = 0, targetSteps = 0, rows = 0
    private let decoderInput = FloatBuffer()      // (T, B, E) after dropout
    private let initialStates = FloatBuffer()     // (Ld, B, Hd)
    private let zeros = FloatBuffer()
    private var bridgeOutput = Tensor(shape: [0])  // tanh(bridge), (B, Ld·Hd)
    private var attentional = Tensor(shape: [0])   // h̃, (T·B, Hd)
    private let layerGradients = [FloatBuffer(), FloatBuffer()]
    private let initialGradient = FloatBuffer(), cellGradient = FloatBuffer()

    public init(_ config: Seq2SeqConfig, generator random: inout SeededGenerator) throws {
        try config.validate()
        self.config = config
        let store = ParameterStore()
        self.store = store
        let E = config.embeddingDimension, Hd = config.decoderHiddenSize
        sourceEmbedding = try Embedding(vocabularySize: config.sourceVocabularySize, dimension: E, paddingIndex: config.sourcePaddingId,
                                        name: "encoder_embedding.", initializer: .uniform(bound: 0.1), store: store, generator: &random)
        encoder = try Recurrent(config.encoder, name: "encoder.", store: store, generator: &random)
        bridge = try Dense(inputSize: config.encoder.directions * config.encoder.hiddenSize, outputSize: config.decoderLayers * Hd,
                           name: "bridge.", store: store, generator: &random)
        targetEmbedding = try Embedding(vocabularySize: config.targetVocabularySize, dimension: E, paddingIndex: config.targetPaddingId,
                                        name: "decoder_embedding.", initializer: .uniform(bound: 0.1), store: store, generator: &random)
        var layers: [any DirectionRunning] = []
        for layer in 0..<config.decoderLayers {
            layers.append(makeDecoderLayer(cell: config.decoderCell, inputSize: layer == 0 ? E : Hd, hiddenSize: Hd,
                                           name: "decoder.", layer: layer, store: store, generator: &random))
        }
        decoderLayers = layers
        attention = config.attention == .none ? nil
            : try Attention(kind: config.attention, querySize: Hd, keySize: config.keySize, attentionSize: config.attentionSize,
                            name: "attention.", store: store, generator: &random)
        combine = try Dense(inputSize: Hd + (config.attention == .none ? 0 : config.keySize), outputSize: Hd,
                            name: "linear_out.", store: store, generator: &random)
        generator = try Dense(inputSize: Hd, outputSize: config.targetVocabularySize, name: "generator.", store: store, generator: &random)
        sourceDropout = try Dropout(rate: config.dropout)
        targetDropout = try Dropout(rate: config.dropout)
        outputDropout = try Dropout(rate: config.dropout)
    }

    /// The decoder's initial states (Ld, B, Hd) from the last `encode`.
    var initialStateValues: UnsafePointer<Float> { UnsafePointer(initialStates.pointer) }

    /// Encodes a source batch: keys (S, B, Hk) and the decoder's initial states (Ld, B, Hd) in
    /// `initialStates` (tanh of the bridge; the bridge output is also kept for backward).
    func encode(_ source: TokenBatch, training: Bool, generator random: inout SeededGenerator) throws -> Tensor {
        let S = source.steps, B = source.size, He = config.encoder.hiddenSize, D = config.encoder.directions
        let Hd = config.decoderHiddenSize, Ld = config.decoderLayers
        for length in source.lengths where length > config.maxSourceLength {
            throw RNNError("seq2seq: a source of \(length) tokens is longer than the model's limit of \(config.maxSourceLength)")
        }
        var x = try sourceEmbedding.forward(tokens: source.tokens, shape: [S, B])
        x = sourceDropout.forward(x, training: training, generator: &random)
        let output = try encoder.forward(x, lengths: source.lengths, training: training, generator: &random)
        // [h→; h←] of the top layer, (B, D·He)
        var finalTop = Tensor(shape: [B, D * He])
        output.state.hidden.withUnsafeBufferPointer { hidden in
            finalTop.withUnsafeMutableBufferPointer { target in
                for direction in 0..<D {
                    let slice = hidden.baseAddress! + ((config.encoder.layers - 1) * D + direction) * B * He
                    for b in 0..<B { (target.baseAddress! + b * D * He + direction * He).update(from: slice + b * He, count: He) }
                }
            }
        }
        bridgeOutput = try bridge.forward(finalTop)
        let states = initialStates.reserve(Ld * B * Hd)
        bridgeOutput.withUnsafeMutableBufferPointer { values in
            for index in 0..<values.count { values[index] = tanhf(values[index]) }
            for layer in 0..<Ld {
                for b in 0..<B { (states + (layer * B + b) * Hd).update(from: values.baseAddress! + b * Ld * Hd + layer * Hd, count: Hd) }
            }
        }
        return output.sequence
    }

    /// Logits (T·B, V) of a teacher-forced batch (`targetInput` may hold sampled tokens).
    public func logits(_ batch: Seq2SeqBatch, targetInput: [Int32]? = nil, training: Bool,
                       generator random: inout SeededGenerator) throws -> Tensor {
        let S = batch.source.steps, B = batch.size, T = batch.targetSteps
        let Hd = config.decoderHiddenSize, Hk = config.keySize
        sourceSteps = S
        targetSteps = T
        rows = B
        sourceLengths = batch.source.lengths
        let keys = try encode(batch.source, training: training, generator: &random)
        var y = try targetEmbedding.forward(tokens: targetInput ?? batch.targetInput, shape: [T, B])
        y = targetDropout.forward(y, training: training, generator: &random)
        decoderInput.load(y)
        let lengths = batch.targetLengths.map { Int32($0) }
        let zeroState = UnsafePointer(zeros.zeroed(B * Hd))
        var input = UnsafePointer(decoderInput.pointer)
        for (layer, runner) in decoderLayers.enumerated() {
            runner.forward(input: input, steps: T, rows: B, lengths: lengths,
                           h0: UnsafePointer(initialStates.pointer + layer * B * Hd), c0: zeroState)
            input = runner.outputState(step: 0)   // steps 0…T−1 are contiguous, (T, B, Hd)
        }
        let queries = input
        // z = [c; q] (T·B, Hk + Hd), or q alone without attention.
        let width = combine.inputSize
        var z = Tensor(shape: [T * B, width])
        z.withUnsafeMutableBufferPointer { target in
            let z = target.baseAddress!
            if let attention {
                keys.withUnsafeBufferPointer { attention.setKeys($0.baseAddress!, steps: S, rows: B, lengths: batch.source.lengths) }
                let context = attention.forward(queries: queries, steps: T)
                for row in 0..<(T * B) {
                    (z + row * width).update(from: context + row * Hk, count: Hk)
                    (z + row * width + Hk).update(from: queries + row * Hd, count: Hd)
                }
            } else {
                for row in 0..<(T * B) { (z + row * width).update(from: queries + row * Hd, count: Hd) }
            }
        }
        var hidden = try combine.forward(z)
        hidden.withUnsafeMutableBufferPointer { values in
            for index in 0..<values.count { values[index] = tanhf(values[index]) }
        }
        attentional = hidden
        return try generator.forward(outputDropout.forward(hidden, training: training, generator: &random))
    }

    /// Backpropagates ∂L/∂logits (T·B, V) of the last `logits` call through every layer.
    public func backward(logitsGradient: Tensor) throws {
        let S = sourceSteps, B = rows, T = targetSteps, Hd = config.decoderHiddenSize, Hk = config.keySize
        let Ld = config.decoderLayers, He = config.encoder.hiddenSize, D = config.encoder.directions
        var dHidden = try outputDropout.backward(outputGradient: try generator.backward(outputGradient: logitsGradient))
        dHidden.withUnsafeMutableBufferPointer { d in
            attentional.withUnsafeBufferPointer { h in
                for index in 0..<d.count { d[index] *= 1 - h[index] * h[index] }
            }
        }
        let dz = try combine.backward(outputGradient: dHidden)
        let width = combine.inputSize
        var dQueries = layerGradients[0].reserve(T * B * Hd)
        var keyGradient = Tensor(shape: [S, B, Hk])
        dz.withUnsafeBufferPointer { dzBuffer in
            let dz = dzBuffer.baseAddress!
            if let attention {
                let dContext = layerGradients[1].reserve(T * B * Hk)
                for row in 0..<(T * B) { (dContext + row * Hk).update(from: dz + row * width, count: Hk) }
                keyGradient.withUnsafeMutableBufferPointer { dk in
                    attention.backward(contextGradient: dContext, queryGradient: dQueries, keyGradient: dk.baseAddress!)
                }
                for row in 0..<(T * B) {
                    let target = dQueries + row * Hd, source = dz + row * width + Hk
                    for j in 0..<Hd { target[j] += source[j] }
                }
            } else {
                for row in 0..<(T * B) { (dQueries + row * Hd).update(from: dz + row * width, count: Hd) }
            }
        }
        // Decoder BPTT, top layer first; ∂h₀ of every layer lands in `initialGradient` (Ld, B, Hd).
        let dInitial = initialGradient.reserve(Ld * B * Hd)
        let dCell = config.decoderCell == .lstm ? cellGradient.reserve(B * Hd) : nil
        var which = 0
        for layer in stride(from: Ld - 1, through: 0, by: -1) {
            let runner = decoderLayers[layer]
            let inputSize = layer == 0 ? config.embeddingDimension : Hd
            let input = layer == 0 ? UnsafePointer(decoderInput.pointer) : decoderLayers[layer - 1].outputState(step: 0)
            let dInput = layerGradients[1 - which].zeroed(T * B * inputSize)
            runner.backward(outputGradient: dQueries, outputStride: Hd, finalHiddenGradient: nil, finalCellGradient: nil,
                            input: input, inputGradient: dInput,
                            initialHiddenGradient: dInitial + layer * B * Hd, initialCellGradient: dCell)
            which = 1 - which
            dQueries = dInput
        }
        try targetEmbedding.backward(outputGradient: try targetDropout.backward(
            outputGradient: Tensor(shape: [T, B, config.embeddingDimension], copying: dQueries)))
        // Bridge: ∂(pre-tanh) = ∂h₀ ⊙ (1 − h₀²), laid out as the bridge output (B, Ld·Hd).
        var dBridge = Tensor(shape: [B, Ld * Hd])
        dBridge.withUnsafeMutableBufferPointer { d in
            bridgeOutput.withUnsafeBufferPointer { h in
                for layer in 0..<Ld {
                    for b in 0..<B {
                        for j in 0..<Hd {
                            let index = b * Ld * Hd + layer * Hd + j
                            d[index] = dInitial[(layer * B + b) * Hd + j] * (1 - h[index] * h[index])
                        }
                    }
                }
            }
        }
        let dFinalTop = try bridge.backward(outputGradient: dBridge)
        let L = config.encoder.layers
        var stateGradient = Tensor(shape: [L * D, B, He])
        stateGradient.withUnsafeMutableBufferPointer { target in
            dFinalTop.withUnsafeBufferPointer { source in
                for direction in 0..<D {
                    let slice = target.baseAddress! + ((L - 1) * D + direction) * B * He
                    for b in 0..<B { (slice + b * He).update(from: source.baseAddress! + b * D * He + direction * He, count: He) }
                }
            }
        }
        let dSource = try encoder.backward(outputGradient: keyGradient, stateGradient: RecurrentState(hidden: stateGradient))
        try sourceEmbedding.backward(outputGradient: try sourceDropout.backward(outputGradient: dSource.input))
    }

    /// One training step: forward, mean per-token cross-entropy, backward (gradients accumulate).
    /// `targetInput` replaces the teacher-forced inputs (scheduled sampling).
    public func trainStep(_ batch: Seq2SeqBatch, targetInput: [Int32]? = nil,
                          generator random: inout SeededGenerator) throws -> StepResult {
        let logits = try self.logits(batch, targetInput: targetInput, training: true, generator: &random)
        let result = try SoftmaxCrossEntropy.compute(logits: logits, targets: batch.targetOutput)
        try backward(logitsGradient: result.gradient)
        return StepResult(loss: Double(result.loss), count: result.validCount,
                          tokens: batch.targetTokenCount + batch.source.lengths.reduce(0, +))
    }

    /// Summed cross-entropy (nats), token count and the arg-max prediction at every position (T·B)
    /// of a batch, without dropout.
    public func evaluate(_ batch: Seq2SeqBatch, targetInput: [Int32]? = nil) throws -> (lossSum: Double, tokens: Int, predictions: [Int32]) {
        var unused = SeededGenerator(seed: 0)
        let logits = try self.logits(batch, targetInput: targetInput, training: false, generator: &unused)
        let V = config.targetVocabularySize, rows = logits.shape[0]
        let sums = logits.withUnsafeBufferPointer { x in
            batch.targetOutput.withUnsafeBufferPointer { t in
                SoftmaxCrossEntropy.compute(logits: x.baseAddress!, rows: rows, classes: V, targets: t.baseAddress!,
                                            ignoreIndex: SoftmaxCrossEntropy.defaultIgnoreIndex, gradient: nil)
            }
        }
        var predictions = [Int32](repeating: 0, count: rows)
        logits.withUnsafeBufferPointer { x in
            for row in 0..<rows {
                let line = x.baseAddress! + row * V
                var best = 0
                for j in 1..<V where line[j] > line[best] { best = j }
                predictions[row] = Int32(best)
            }
        }
        return (sums.lossSum, sums.validCount, predictions)
    }

    public func summary() -> ModelSummary {
        let E = config.embeddingDimension, Hd = config.decoderHiddenSize, V = config.targetVocabularySize
        let G = config.decoderCell.gateCount * Hd
        let decoderCount = (0..<config.decoderLayers).reduce(0) { total, layer in
            total + G * (layer == 0 ? E : Hd) + G * Hd + 2 * G
        }
        var rows = [
            SummaryRow(name: "encoder_embedding", kind: "Embedding(\(config.sourceVocabularySize), \(E))", outputShape: "(B, S, \(E))",
                       parameterCount: config.sourceVocabularySize * E),
            encoder.summaryRow(name: "encoder"),
            SummaryRow(name: "bridge", kind: "Dense + tanh", outputShape: "(\(config.decoderLayers), B, \(Hd))", parameterCount: bridge.parameterCount),
            SummaryRow(name: "decoder_embedding", kind: "Embedding(\(V), \(E))", outputShape: "(B, T, \(E))", parameterCount: V * E),
            SummaryRow(name: "decoder", kind: "\(config.decoderCell.rawValue.uppercased()) × \(config.decoderLayers)",
                       outputShape: "(B, T, \(Hd))", parameterCount: decoderCount),
        ]
        if let attention {
            rows.append(SummaryRow(name: "attention", kind: "\(config.attention.rawValue) attention", outputShape: "(B, T, \(config.keySize))",
                                   parameterCount: attention.parameterCount))
        }
        rows.append(SummaryRow(name: "linear_out", kind: "Dense + tanh", outputShape: "(B, T, \(Hd))", parameterCount: combine.parameterCount))
        rows.append(SummaryRow(name: "generator", kind: "Dense + softmax", outputShape: "(B, T, \(V))", parameterCount: generator.parameterCount))
        return ModelSummary(rows: rows, store: store)
    }
}

/// One decoder layer: a forward-direction `SequenceRunner` with PyTorch names `<name>weight_ih_l<layer>` ….
private func makeDecoderLayer(cell: CellType, inputSize: Int, hiddenSize H: Int, name: String, layer: Int,
                              store: ParameterStore, generator: inout SeededGenerator) -> any DirectionRunning {
    let G = cell.gateCount * H, bound = 1 / Float(H).squareRoot()
    let suffix = "_l\(layer)"
    let weightIH = store.add(name + "weight_ih" + suffix, shape: [G, inputSize], initializer: .uniform(bound: bound), generator: &generator)
    let weightHH = store.add(name + "weight_hh" + suffix, shape: [G, H], initializer: .uniform(bound: bound), generator: &generator)
    let biasIH = store.add(name + "bias_ih" + suffix, shape: [G], initializer: .uniform(bound: bound), generator: &generator)
    let biasHH = store.add(name + "bias_hh" + suffix, shape: [G], initializer: .uniform(bound: bound), generator: &generator)
    if cell == .lstm {
        (store.values(of: biasIH) + H).update(repeating: 1, count: H)
        (store.values(of: biasHH) + H).update(repeating: 0, count: H)
        return SequenceRunner(cell: LSTMCell(), inputSize: inputSize, hiddenSize: H, reverse: false, store: store,
                              weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH)
    }
    return SequenceRunner(cell: GRUCell(), inputSize: inputSize, hiddenSize: H, reverse: false, store: store,
                          weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH)
}
