import RNNCore

/// Everything that defines a recurrent language model; saved in `config.json`.
public struct LanguageModelConfig: Codable, Sendable, Equatable {
    public var vocabularySize: Int
    public var embeddingDimension: Int
    public var recurrent: RecurrentConfig
    /// Dropout on embeddings and on the recurrent outputs, in training.
    public var dropout: Float
    /// Share the embedding matrix with the output layer (needs E = H).
    public var tieEmbeddings: Bool

    public init(vocabularySize: Int, embeddingDimension: Int, recurrent: RecurrentConfig, dropout: Float = 0,
                tieEmbeddings: Bool = false) {
        self.vocabularySize = vocabularySize
        self.embeddingDimension = embeddingDimension
        self.recurrent = recurrent
        self.dropout = dropout
        self.tieEmbeddings = tieEmbeddings
    }
}

/// A next-token model: at every step, a distribution over the vocabulary given all tokens so far.
///
///     tokens (T, B) → embedding (T, B, E) → dropout → recurrent (T, B, H) → dropout
///       → dense (T, B, V) logits; loss: softmax cross-entropy at every step (teacher forcing)
///
/// With `tieEmbeddings` the output weight is the embedding matrix (Press & Wolf 2017) and only the
/// output bias is separate. Parameter names: `embedding.weight`, `rnn.*`, `fc.weight`, `fc.bias`.
///
/// In inference the embedding and the recurrent layer's first input projection run folded into
/// one lookup table when it pays (`embeddingFold`; same outputs up to rounding).
public final class LanguageModel {
    public let config: LanguageModelConfig
    public let store: ParameterStore
    public let embedding: Embedding
    public let recurrent: Recurrent
    public let head: Dense?
    /// The embedding folded into the first recurrent layer's input projection, for inference.
    public let embeddingFold: EmbeddingFold
    private let outputBias: Parameter?
    private let inputDropout: Dropout
    private let outputDropout: Dropout
    private let hidden = FloatBuffer()
    private var lastShape: (steps: Int, batch: Int) = (0, 0)
    /// Called by `backward` as soon as the output layer's (`head`'s) gradients are final, before
    /// the recurrent backward: data-parallel training starts their all-reduce there.
    public var headGradientsFinal: (() throws -> Void)?

    public init(_ config: LanguageModelConfig, generator: inout SeededGenerator) throws {
        guard !config.recurrent.bidirectional else {
            throw RNNError("language model: a bidirectional layer would see the tokens it must predict; use a unidirectional one")
        }
        guard config.recurrent.inputSize == config.embeddingDimension else {
            throw RNNError("language model: recurrent input size \(config.recurrent.inputSize) must equal the embedding dimension \(config.embeddingDimension)")
        }
        if config.tieEmbeddings && config.embeddingDimension != config.recurrent.outputSize {
            throw RNNError("--tie-embeddings needs the embedding dimension (\(config.embeddingDimension)) to equal the hidden size (\(config.recurrent.outputSize))")
        }
        self.config = config
        store = ParameterStore()
        embedding = try Embedding(vocabularySize: config.vocabularySize, dimension: config.embeddingDimension,
                                  name: "embedding.", initializer: .uniform(bound: 0.1), store: store, generator: &generator)
        recurrent = try Recurrent(config.recurrent, name: "rnn.", store: store, generator: &generator)
        if config.tieEmbeddings {
            // The output layer writes every row of the tied table's gradient.
            store.setRowSparse(embedding.weight, false)
            head = nil
            outputBias = store.add("fc.bias", shape: [config.vocabularySize], initializer: .zeros, generator: &generator)
        } else {
            head = try Dense(inputSize: config.recurrent.outputSize, outputSize: config.vocabularySize, name: "fc.",
                             store: store, generator: &generator)
            outputBias = nil
        }
        inputDropout = try Dropout(rate: config.dropout)
        outputDropout = try Dropout(rate: config.dropout)
        embeddingFold = EmbeddingFold(embedding: embedding, recurrent: recurrent, store: store)
    }

    /// Logits (T, B, V) for inputs (T, B). `initialState` nil: zeros, or the carried state when
    /// the recurrent layer is stateful.
    public func logits(tokens: [Int32], steps: Int, batch: Int, lengths: [Int]? = nil, initialState: RecurrentState? = nil,
                       training: Bool, generator: inout SeededGenerator) throws -> (logits: Tensor, state: RecurrentState) {
        lastShape = (steps, batch)
        let output = try embeddingFold.forward(tokens: tokens, steps: steps, batch: batch, lengths: lengths,
                                               initialState: initialState, dropout: inputDropout, training: training, generator: &generator)
        let states = outputDropout.forward(output.sequence, training: training, generator: &generator)
        return (try project(states), output.state)
    }

    /// (T, B, H) → (T, B, V)
    private func project(_ states: Tensor) throws -> Tensor {
        if let head { return try head.forward(states) }
        // Tied: logits = h Eᵀ + b
        let rows = states.count / config.embeddingDimension, V = config.vocabularySize, E = config.embeddingDimension
        hidden.load(states)
        var logits = Tensor(shape: Array(states.shape.dropLast()) + [V])
        let bias = store.readOnlyValues(of: outputBias!)
        logits.withUnsafeMutableBufferPointer { target in
            for row in 0..<rows { (target.baseAddress! + row * V).update(from: bias, count: V) }
            BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: V, k: E, a: hidden.pointer, lda: E,
                      b: store.readOnlyValues(of: embedding.weight), ldb: E, beta: 1, c: target.baseAddress!, ldc: V)
        }
        return logits
    }

    /// Backpropagates ∂L/∂logits (T, B, V), accumulating parameter gradients.
    public func backward(logitsGradient: Tensor) throws {
        var statesGradient: Tensor
        if let head {
            statesGradient = try head.backward(outputGradient: logitsGradient)
            try headGradientsFinal?()
        } else {
            let rows = logitsGradient.count / config.vocabularySize, V = config.vocabularySize, E = config.embeddingDimension
            statesGradient = Tensor(shape: Array(logitsGradient.shape.dropLast()) + [E])
            logitsGradient.withUnsafeBufferPointer { dy in
                addColumnSums(dy.baseAddress!, rows: rows, columns: V, into: store.gradients(of: outputBias!))
                // ∂L/∂E += dyᵀ h (the output use of the shared matrix)
                BLAS.gemm(transposeA: true, transposeB: false, m: V, n: E, k: rows, a: dy.baseAddress!, lda: V,
                          b: hidden.pointer, ldb: E, beta: 1, c: store.gradients(of: embedding.weight), ldc: E)
                statesGradient.withUnsafeMutableBufferPointer { dh in
                    BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: E, k: V, a: dy.baseAddress!, lda: V,
                              b: store.values(of: embedding.weight), ldb: E, beta: 0, c: dh.baseAddress!, ldc: E)
                }
            }
        }
        statesGradient = try outputDropout.backward(outputGradient: statesGradient)
        var inputGradient = try recurrent.backward(outputGradient: statesGradient).input
        inputGradient = try inputDropout.backward(outputGradient: inputGradient)
        try embedding.backward(outputGradient: inputGradient)
    }

    public func summary() -> ModelSummary {
        let E = config.embeddingDimension, V = config.vocabularySize
        return ModelSummary(rows: [
            SummaryRow(name: "embedding", kind: "Embedding(\(V), \(E))", outputShape: "(B, T, \(E))", parameterCount: V * E),
            recurrent.summaryRow(name: "rnn"),
            SummaryRow(name: "fc", kind: config.tieEmbeddings ? "Dense (tied to embedding) + softmax" : "Dense + softmax",
                       outputShape: "(B, T, \(V))",
                       parameterCount: config.tieEmbeddings ? V : (head?.parameterCount ?? 0)),
        ], store: store)
    }
}
