import RNNCore

/// Everything that defines a sequence tagger; saved as the `model` object of `config.json`.
public struct TaggerConfig: Codable, Sendable, Equatable {
    /// Word vocabulary size, padding (id 0) and unknown word included.
    public var wordVocabularySize: Int
    public var wordEmbeddingDimension: Int
    /// Character vocabulary size, padding (id 0) and unknown character included.
    public var characterVocabularySize: Int
    public var characterEmbeddingDimension: Int
    /// The character encoder: one bidirectional LSTM layer whose input is the character embedding.
    public var characterRecurrent: RecurrentConfig
    /// The sentence encoder: (stacked) bidirectional LSTM over [word embedding; character vector].
    public var recurrent: RecurrentConfig
    /// Dropout on the word features and on the sentence encoder's outputs, in training.
    public var dropout: Float
    /// Tag names; the output layer has one logit per tag.
    public var tags: [String]

    public init(wordVocabularySize: Int, wordEmbeddingDimension: Int, characterVocabularySize: Int,
                characterEmbeddingDimension: Int, characterHiddenSize: Int, hiddenSize: Int, layers: Int = 1,
                dropout: Float = 0, tags: [String]) {
        self.wordVocabularySize = wordVocabularySize
        self.wordEmbeddingDimension = wordEmbeddingDimension
        self.characterVocabularySize = characterVocabularySize
        self.characterEmbeddingDimension = characterEmbeddingDimension
        characterRecurrent = RecurrentConfig(cell: .lstm, inputSize: characterEmbeddingDimension, hiddenSize: characterHiddenSize,
                                             bidirectional: true, forgetBias: 1)
        recurrent = RecurrentConfig(cell: .lstm, inputSize: wordEmbeddingDimension + 2 * characterHiddenSize, hiddenSize: hiddenSize,
                                    layers: layers, bidirectional: true, dropout: layers > 1 ? dropout : 0, forgetBias: 1)
        self.dropout = dropout
        self.tags = tags
    }

    /// Features of one word fed to the sentence encoder: E_w + 2·H_c.
    public var wordFeatureSize: Int { wordEmbeddingDimension + characterRecurrent.outputSize }

    /// Checks the parts fit together; the message names what does not.
    public func validate() throws {
        guard !tags.isEmpty else { throw RNNError("tagger: the tag set is empty (no training sentences?)") }
        guard Set(tags).count == tags.count else { throw RNNError("tagger: the tag list names a tag twice") }
        guard wordVocabularySize >= 2, characterVocabularySize >= 2 else {
            throw RNNError("tagger: word and character vocabularies need at least padding and [UNK]")
        }
        guard wordEmbeddingDimension > 0, characterEmbeddingDimension > 0 else {
            throw RNNError("tagger: --embedding-dim and --char-dim must be positive, got \(wordEmbeddingDimension) and \(characterEmbeddingDimension)")
        }
        let characters = characterRecurrent
        guard characters.cell == .lstm, characters.bidirectional, characters.merge == .concat, characters.layers == 1,
              characters.inputSize == characterEmbeddingDimension else {
            throw RNNError("tagger: the character encoder must be one bidirectional LSTM layer over the character embedding")
        }
        guard recurrent.inputSize == wordFeatureSize else {
            throw RNNError("tagger: sentence encoder input size \(recurrent.inputSize) must equal the word features \(wordFeatureSize)")
        }
        guard dropout >= 0, dropout < 1 else { throw RNNError("--dropout must be in [0, 1), got \(dropout)") }
        try characters.validate()
        try recurrent.validate()
    }
}

/// A batch of sentences for the tagger: word ids time-major (T, B), and the characters of its
/// N = Σ lengths real words, as one time-major (C, N) batch with per-word lengths.
///
/// Word n (in time-major order of real positions) sits at `wordPositions[n]` = t·B + b.
public struct TaggerBatch: Sendable, Equatable {
    /// Word ids (T, B), padding id 0 past each sentence's length; lengths per sentence.
    public var words: TokenBatch
    /// Character ids (C, N) time-major, padding id 0 past each word's length.
    public var characters: [Int32]
    /// Characters of each real word (1…C).
    public var characterLengths: [Int]
    /// t·B + b of each real word, in the order of `characterLengths`.
    public var wordPositions: [Int]

    /// - words: word ids of each sentence (each non-empty).
    /// - characters: character ids of each word of each sentence (each non-empty).
    public init(words: [[Int32]], characters: [[[Int32]]], indices: [Int]? = nil) throws {
        guard words.count == characters.count, zip(words, characters).allSatisfy({ $0.count == $1.count }) else {
            throw RNNError("tagger batch: words and characters describe different sentences")
        }
        self.words = try TokenBatch(sequences: words, padding: 0, indices: indices)
        let T = self.words.steps, B = self.words.size
        var positions: [Int] = [], lengths: [Int] = [], spellings: [[Int32]] = []
        for t in 0..<T {
            for b in 0..<B where t < words[b].count {
                guard !characters[b][t].isEmpty else { throw RNNError("tagger batch: word \(t + 1) of sentence \(b + 1) has no characters") }
                positions.append(t * B + b)
                lengths.append(characters[b][t].count)
                spellings.append(characters[b][t])
            }
        }
        let C = lengths.max() ?? 1, N = lengths.count
        var characterIds = [Int32](repeating: 0, count: C * N)
        for (n, spelling) in spellings.enumerated() {
            for (c, id) in spelling.enumerated() { characterIds[c * N + n] = id }
        }
        self.characters = characterIds
        self.characterLengths = lengths
        self.wordPositions = positions
    }

    /// Number of real words N.
    public var wordCount: Int { wordPositions.count }
    /// Longest word in characters, C.
    public var characterSteps: Int { characterLengths.max() ?? 0 }
}

/// A part-of-speech tagger: a bidirectional LSTM over words, each word represented by its
/// embedding and by a character-level encoder, so unknown words are tagged from their spelling.
///
///     characters (C, N) → char_embedding (C, N, E_c) → char_rnn (BiLSTM) → [h→_final; h←_final] (N, 2H_c)
///     words (T, B) → word_embedding (T, B, E_w)
///     x = [word embedding; character vector scattered to its position] (T, B, E_w + 2H_c) → dropout
///       → rnn (BiLSTM, 1–2 layers) (T, B, 2H) → dropout → fc (T, B, K) logits
///
/// h→_final is the forward direction's state after a word's last character, h←_final the backward
/// direction's after its first (PyTorch's `h_n` of a packed batch). Padding positions get zero
/// character features. Parameter names: `word_embedding.weight`, `char_embedding.weight`,
/// `char_rnn.*`, `rnn.*`, `fc.weight`, `fc.bias`.
public final class SequenceTagger {
    public let config: TaggerConfig
    public let store: ParameterStore
    public let wordEmbedding: Embedding
    public let characterEmbedding: Embedding
    public let characterEncoder: Recurrent
    public let recurrent: Recurrent
    public let head: Dense
    private let featureDropout: Dropout
    private let outputDropout: Dropout
    private var lastWordPositions: [Int] = []

    public init(_ config: TaggerConfig, generator: inout SeededGenerator) throws {
        try config.validate()
        self.config = config
        store = ParameterStore()
        wordEmbedding = try Embedding(vocabularySize: config.wordVocabularySize, dimension: config.wordEmbeddingDimension,
                                      paddingIndex: 0, name: "word_embedding.", initializer: .uniform(bound: 0.1),
                                      store: store, generator: &generator)
        characterEmbedding = try Embedding(vocabularySize: config.characterVocabularySize, dimension: config.characterEmbeddingDimension,
                                           paddingIndex: 0, name: "char_embedding.", initializer: .uniform(bound: 0.1),
                                           store: store, generator: &generator)
        characterEncoder = try Recurrent(config.characterRecurrent, name: "char_rnn.", store: store, generator: &generator)
        recurrent = try Recurrent(config.recurrent, name: "rnn.", store: store, generator: &generator)
        head = try Dense(inputSize: config.recurrent.outputSize, outputSize: config.tags.count, name: "fc.",
                         store: store, generator: &generator)
        featureDropout = try Dropout(rate: config.dropout)
        outputDropout = try Dropout(rate: config.dropout)
    }

    /// Logits (T, B, K) for a batch; zero-input rows past each sentence's length are not meaningful.
    public func logits(_ batch: TaggerBatch, training: Bool, generator: inout SeededGenerator) throws -> Tensor {
        let T = batch.words.steps, B = batch.words.size, N = batch.wordCount, C = batch.characterSteps
        lastWordPositions = batch.wordPositions
        let characterInput = try characterEmbedding.forward(tokens: batch.characters, shape: [C, N])   // (C, N, E_c)
        let characterStates = try characterEncoder.forward(characterInput, lengths: batch.characterLengths,
                                                           training: training, generator: &generator).state.hidden   // (2, N, H_c)
        let wordInput = try wordEmbedding.forward(tokens: batch.words.tokens, shape: [T, B])          // (T, B, E_w)
        var features = concatenateWordFeatures(wordInput, characterStates: characterStates, positions: batch.wordPositions)
        features = featureDropout.forward(features, training: training, generator: &generator)        // (T, B, E_w + 2H_c)
        let states = try recurrent.forward(features, lengths: batch.words.lengths, training: training, generator: &generator)
        let dropped = outputDropout.forward(states.sequence, training: training, generator: &generator)   // (T, B, 2H)
        return try head.forward(dropped)
    }

    /// Backpropagates ∂L/∂logits (T, B, K) through every layer, accumulating parameter gradients.
    public func backward(logitsGradient: Tensor) throws {
        var gradient = try head.backward(outputGradient: logitsGradient)
        gradient = try outputDropout.backward(outputGradient: gradient)
        gradient = try recurrent.backward(outputGradient: gradient).input
        gradient = try featureDropout.backward(outputGradient: gradient)
        let (wordGradient, characterStateGradient) = splitWordFeatureGradient(gradient, positions: lastWordPositions)
        try wordEmbedding.backward(outputGradient: wordGradient)
        let characterGradient = try characterEncoder.backward(outputGradient: nil,
                                                              stateGradient: RecurrentState(hidden: characterStateGradient)).input
        try characterEmbedding.backward(outputGradient: characterGradient)
    }

    /// x[t, b] = [w[t, b]; h→[n]; h←[n]] for word n at position t·B + b; zeros in the character
    /// part at padding positions.
    /// - words: (T, B, E_w); characterStates: (2, N, H_c), forward direction first. Returns (T, B, E_w + 2H_c).
    func concatenateWordFeatures(_ words: Tensor, characterStates: Tensor, positions: [Int]) -> Tensor {
        let T = words.shape[0], B = words.shape[1], E = config.wordEmbeddingDimension
        let H = config.characterRecurrent.hiddenSize, N = positions.count, F = E + 2 * H
        var features = Tensor(shape: [T, B, F])
        features.withUnsafeMutableBufferPointer { target in
            let x = target.baseAddress!
            words.withUnsafeBufferPointer { source in
                for position in 0..<(T * B) { (x + position * F).update(from: source.baseAddress! + position * E, count: E) }
            }
            characterStates.withUnsafeBufferPointer { source in
                let h = source.baseAddress!
                for (n, position) in positions.enumerated() {
                    (x + position * F + E).update(from: h + n * H, count: H)
                    (x + position * F + E + H).update(from: h + (N + n) * H, count: H)
                }
            }
        }
        return features
    }

    /// The inverse of `concatenateWordFeatures` for gradients: ∂L/∂x (T, B, E_w + 2H_c) →
    /// ∂L/∂w (T, B, E_w) and ∂L/∂(character states) (2, N, H_c).
    func splitWordFeatureGradient(_ gradient: Tensor, positions: [Int]) -> (words: Tensor, characterStates: Tensor) {
        let T = gradient.shape[0], B = gradient.shape[1], E = config.wordEmbeddingDimension
        let H = config.characterRecurrent.hiddenSize, N = positions.count, F = E + 2 * H
        var words = Tensor(shape: [T, B, E])
        var states = Tensor(shape: [2, N, H])
        gradient.withUnsafeBufferPointer { source in
            let dx = source.baseAddress!
            words.withUnsafeMutableBufferPointer { target in
                for position in 0..<(T * B) { (target.baseAddress! + position * E).update(from: dx + position * F, count: E) }
            }
            states.withUnsafeMutableBufferPointer { target in
                let dh = target.baseAddress!
                for (n, position) in positions.enumerated() {
                    (dh + n * H).update(from: dx + position * F + E, count: H)
                    (dh + (N + n) * H).update(from: dx + position * F + E + H, count: H)
                }
            }
        }
        return (words, states)
    }

    public func summary() -> ModelSummary {
        var characterRow = characterEncoder.summaryRow(name: "char_rnn")
        characterRow.outputShape = "(N, \(config.characterRecurrent.outputSize))"
        let Ew = config.wordEmbeddingDimension, Ec = config.characterEmbeddingDimension, K = config.tags.count
        return ModelSummary(rows: [
            SummaryRow(name: "char_embedding", kind: "Embedding(\(config.characterVocabularySize), \(Ec))", outputShape: "(N, C, \(Ec))",
                       parameterCount: config.characterVocabularySize * Ec),
            characterRow,
            SummaryRow(name: "word_embedding", kind: "Embedding(\(config.wordVocabularySize), \(Ew))", outputShape: "(B, T, \(Ew))",
                       parameterCount: config.wordVocabularySize * Ew),
            recurrent.summaryRow(name: "rnn"),
            SummaryRow(name: "fc", kind: "Dense + softmax", outputShape: "(B, T, \(K))", parameterCount: head.parameterCount),
        ], store: store)
    }
}
