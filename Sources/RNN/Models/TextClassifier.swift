import RNNCore

/// Everything that defines a text classifier; saved as the `model` object of `config.json`.
public struct ClassifierConfig: Codable, Sendable, Equatable {
    public var vocabularySize: Int
    public var embeddingDimension: Int
    /// Token id used for padding (its embedding row stays zero).
    public var paddingId: Int
    public var recurrent: RecurrentConfig
    /// `last` = architecture 1 of the notes, `mean` = architecture 2.
    public var pooling: PoolingMode
    /// Dropout on the embeddings and on the pooled vector, in training.
    public var dropout: Float
    /// Class names; two classes train one sigmoid output, more a softmax.
    public var labels: [String]

    public init(vocabularySize: Int, embeddingDimension: Int, paddingId: Int = 0, recurrent: RecurrentConfig,
                pooling: PoolingMode, dropout: Float = 0, labels: [String]) {
        self.vocabularySize = vocabularySize
        self.embeddingDimension = embeddingDimension
        self.paddingId = paddingId
        self.recurrent = recurrent
        self.pooling = pooling
        self.dropout = dropout
        self.labels = labels
    }

    /// 1 for two classes (sigmoid), the class count otherwise (softmax).
    public var outputCount: Int { labels.count == 2 ? 1 : labels.count }
}

/// Document classification as in the lecture notes: embed the tokens, run a recurrent layer, pool
/// its states over time (the last valid state, or the average), and map the pooled vector to one
/// logit (two classes, sigmoid) or one per class (softmax).
///
///     tokens (T, B) → embedding (T, B, E) → dropout → recurrent (T, B, H·D) → pool (B, H·D)
///       → dropout → dense (B, K)
///
/// Parameter names follow a PyTorch module with attributes `embedding`, `rnn`, `fc`.
///
/// In inference the embedding and the recurrent layer's first input projection run folded into
/// one lookup table when it pays (`embeddingFold`; same outputs up to rounding).
public final class TextClassifier {
    public let config: ClassifierConfig
    public let store: ParameterStore
    public let embedding: Embedding
    public let recurrent: Recurrent
    public let pooling: TimePooling
    public let head: Dense
    /// The embedding folded into the recurrent layer's input projection, for inference.
    public let embeddingFold: EmbeddingFold
    private let embeddingDropout: Dropout
    private let pooledDropout: Dropout
    private var lastShape: (steps: Int, batch: Int) = (0, 0)

    public init(_ config: ClassifierConfig, generator: inout SeededGenerator) throws {
        guard config.labels.count >= 2 else {
            throw RNNError("classifier needs at least two classes, got \(config.labels.count) (\(config.labels.joined(separator: ", ")))")
        }
        guard config.recurrent.inputSize == config.embeddingDimension else {
            throw RNNError("classifier: recurrent input size \(config.recurrent.inputSize) must equal the embedding dimension \(config.embeddingDimension)")
        }
        self.config = config
        store = ParameterStore()
        embedding = try Embedding(vocabularySize: config.vocabularySize, dimension: config.embeddingDimension,
                                  paddingIndex: config.paddingId, name: "embedding.", store: store, generator: &generator)
        recurrent = try Recurrent(config.recurrent, name: "rnn.", store: store, generator: &generator)
        let bidirectionalConcat = config.recurrent.bidirectional && config.recurrent.merge == .concat
        pooling = TimePooling(mode: config.pooling,
                              reverseFeaturesFrom: bidirectionalConcat && config.pooling == .last ? config.recurrent.hiddenSize : nil)
        head = try Dense(inputSize: config.pooling.outputSize(features: config.recurrent.outputSize), outputSize: config.outputCount, name: "fc.",
                         store: store, generator: &generator)
        embeddingDropout = try Dropout(rate: config.dropout)
        pooledDropout = try Dropout(rate: config.dropout)
        embeddingFold = EmbeddingFold(embedding: embedding, recurrent: recurrent, store: store)
    }

    /// Logits (B, K) for a batch.
    public func logits(_ batch: TokenBatch, training: Bool, generator: inout SeededGenerator) throws -> Tensor {
        let T = batch.steps, B = batch.size
        lastShape = (T, B)
        let states = try embeddingFold.forward(tokens: batch.tokens, steps: T, batch: B, lengths: batch.lengths,
                                               dropout: embeddingDropout, training: training, generator: &generator)
        var pooled = try pooling.forward(states.sequence, lengths: batch.lengths)
        pooled = pooledDropout.forward(pooled, training: training, generator: &generator)
        return try head.forward(pooled)
    }

    /// Backpropagates ∂L/∂logits through every layer, accumulating parameter gradients.
    public func backward(logitsGradient: Tensor) throws {
        var gradient = try head.backward(outputGradient: logitsGradient)
        gradient = try pooledDropout.backward(outputGradient: gradient)
        let sequenceGradient = try pooling.backward(outputGradient: gradient)
        var inputGradient = try recurrent.backward(outputGradient: sequenceGradient).input
        inputGradient = try embeddingDropout.backward(outputGradient: inputGradient)
        try embedding.backward(outputGradient: inputGradient)
    }

    public func summary() -> ModelSummary {
        let E = config.embeddingDimension
        return ModelSummary(rows: [
            SummaryRow(name: "embedding", kind: "Embedding(\(config.vocabularySize), \(E))", outputShape: "(B, T, \(E))",
                       parameterCount: config.vocabularySize * E),
            recurrent.summaryRow(name: "rnn"),
            SummaryRow(name: "pool", kind: "TimePooling(\(config.pooling.rawValue))", outputShape: "(B, \(config.pooling.outputSize(features: config.recurrent.outputSize)))",
                       parameterCount: 0),
            SummaryRow(name: "fc", kind: config.outputCount == 1 ? "Dense + sigmoid" : "Dense + softmax",
                       outputShape: "(B, \(config.outputCount))", parameterCount: head.parameterCount),
        ], store: store)
    }
}
