import RNNCore

/// An `Embedding` followed by the first layer of a `Recurrent` folded into one lookup table, for
/// inference. Layer 0's input projection of a token is a linear map of its embedding row, so it
/// can be computed once per vocabulary entry instead of once per token:
///
///     unfolded:  gx[t, b] = E[token[t, b]] · W_ihᵀ + b_ih     (one GEMM over all T·B tokens)
///     folded:    P[v] = E[v] · W_ihᵀ + b_ih for v in 0..<V    (one GEMM over the vocabulary, cached)
///                gx[t, b] = P[token[t, b]]                    (a row copy per token)
///
/// P is (V, G·H) per direction (a bidirectional layer folds both directions' W_ih): V · G·H · 4
/// bytes, e.g. 41 MB for V = 20,000, LSTM H = 128. Same model, same outputs up to rounding (the
/// products are summed in the same order, so usually bitwise the same).
///
/// When: never in training (a training forward runs the layers as they are). In inference, with
/// `mode == .automatic`, from the moment it pays: once the weights have served V tokens of
/// inference unchanged (the table costs what projecting V tokens costs), or at once for weights
/// just loaded from a model directory (`ParameterStore.holdsLoadedValues`: `classify eval`,
/// `serve`, generation). The table is rebuilt whenever `ParameterStore.valuesVersion` has moved
/// (an optimizer step, a load, any writable access to the values).
///
/// No gradients of its own: a `backward` after a folded forward backpropagates through the
/// unfolded layers (the recurrent layer looks the embedding vectors up first).
public final class EmbeddingFold {
    public enum Mode: String, Sendable, CaseIterable {
        /// Fold when it pays (see the type's documentation).
        case automatic
        /// Fold in every inference forward (builds the table at the first).
        case always
        /// Never fold: the input projection runs as a GEMM over the embedding vectors.
        case off
    }

    public var mode: Mode = .automatic
    public let embedding: Embedding
    public let recurrent: Recurrent
    private let store: ParameterStore
    private let projections: [(weight: Parameter, bias: Parameter?)]   // layer 0, per direction
    private let tables: [LookupTableBuffer]
    private var tableVersion: Int?
    private var countedVersion = -1, tokensAtVersion = 0

    /// `embedding` must feed `recurrent` directly in inference (nothing but dropout between).
    public init(embedding: Embedding, recurrent: Recurrent, store: ParameterStore) {
        precondition(recurrent.config.inputSize == embedding.dimension, "fold: embedding dimension ≠ recurrent input size")
        self.embedding = embedding
        self.recurrent = recurrent
        self.store = store
        projections = (0..<recurrent.config.directions).map { direction in
            let suffix = "_l0" + (direction == 1 ? "_reverse" : "")
            guard let weight = store.parameter(named: recurrent.name + "weight_ih" + suffix) else {
                preconditionFailure("fold: no parameter \(recurrent.name)weight_ih\(suffix)")
            }
            return (weight, store.parameter(named: recurrent.name + "bias_ih" + suffix))
        }
        tables = projections.map { _ in LookupTableBuffer() }
    }

    /// Bytes held by the tables (0 until built).
    public var tableBytes: Int { tableVersion == nil ? 0 : tables.count * tableCount * MemoryLayout<Float>.size }

    private var tableCount: Int { embedding.vocabularySize * recurrent.config.cell.gateCount * recurrent.config.hiddenSize }

    /// Embeds `tokens` (T, B) and runs the recurrent layer: through the table in inference when
    /// it pays (see the type), else as `embedding.forward` → `dropout` → `recurrent.forward`.
    public func forward(tokens: [Int32], steps: Int, batch: Int, lengths: [Int]? = nil,
                        initialState: RecurrentState? = nil, dropout: Dropout?, training: Bool,
                        generator: inout SeededGenerator) throws -> RecurrentOutput {
        if !training, steps > 0, batch > 0, let tables = tablesForInference(tokenCount: tokens.count) {
            try embedding.record(tokens: tokens, shape: [steps, batch])
            dropout?.skipForInference()
            return try recurrent.forward(tokens: tokens, steps: steps, batch: batch, tables: tables, embedding: embedding,
                                         lengths: lengths, initialState: initialState, generator: &generator)
        }
        var x = try embedding.forward(tokens: tokens, shape: [steps, batch])
        if let dropout { x = dropout.forward(x, training: training, generator: &generator) }
        return try recurrent.forward(x, lengths: lengths, initialState: initialState, training: training, generator: &generator)
    }

    /// The table of the first direction, (V, G·H) with rows E[v] W_ihᵀ + b_ih, when an inference
    /// step over `tokenCount` tokens should use it (built first if needed; same policy as
    /// `forward`), else nil: for a caller with its own step loop (batch-1 generation). Valid until
    /// the weights change.
    public func inputGateTable(tokenCount: Int) -> UnsafePointer<Float>? {
        tablesForInference(tokenCount: tokenCount)?.first
    }

    /// The tables when this inference forward of `tokenCount` tokens should use them (built or
    /// rebuilt first if needed), else nil.
    func tablesForInference(tokenCount: Int) -> [UnsafePointer<Float>]? {
        guard mode != .off else { return nil }
        let version = store.valuesVersion
        if version != countedVersion { countedVersion = version; tokensAtVersion = 0 }
        defer { tokensAtVersion += tokenCount }
        if tableVersion != version {
            let pays = mode == .always || store.holdsLoadedValues || tokensAtVersion >= embedding.vocabularySize
            guard pays else { return nil }
            build()
            tableVersion = version
        }
        return tables.map { UnsafePointer($0.pointer) }
    }

    /// P = E W_ihᵀ + b_ih for every direction, in fixed blocks of vocabulary rows (one
    /// single-threaded GEMM each, so the bits do not depend on the thread count), the blocks
    /// shared between two threads when the BLAS budget has two.
    private func build() {
        let V = embedding.vocabularySize, E = embedding.dimension
        let G = recurrent.config.cell.gateCount * recurrent.config.hiddenSize
        let vectors = store.readOnlyValues(of: embedding.weight)
        let blocks = splitRange(V, parts: max(1, (V + 1023) / 1024))
        let threads = BLAS.threads
        let parts = threads >= 2 && blocks.count >= 2 ? 2 : 1
        BLAS.setThreads(1)
        defer { BLAS.setThreads(threads) }
        for (direction, projection) in projections.enumerated() {
            let table = tables[direction].reserve(V * G)
            let weight = store.readOnlyValues(of: projection.weight)
            let bias = projection.bias.map { store.readOnlyValues(of: $0) }
            let shares = splitRange(blocks.count, parts: parts)
            forEachPart(shares) { share in
                for block in blocks[share] {
                    BLAS.gemm(transposeA: false, transposeB: true, m: block.count, n: G, k: E,
                              a: vectors + block.lowerBound * E, lda: E, b: weight, ldb: E,
                              beta: 0, c: table + block.lowerBound * G, ldc: G)
                    if let bias {
                        for row in block {
                            let line = table + row * G
                            for j in 0..<G { line[j] += bias[j] }
                        }
                    }
                }
            }
        }
    }
}
