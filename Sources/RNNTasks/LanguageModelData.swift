import Foundation
import RNN
import RNNCore
import RNNText

/// One teacher-forcing batch, time-major: `inputs[t·B + b]` is step t of row b and
/// `targets[t·B + b]` the token that follows it (`SoftmaxCrossEntropy.defaultIgnoreIndex` on padding).
public struct LanguageModelBatch: Sendable, Equatable {
    public var inputs: [Int32]
    public var targets: [Int]
    public var steps: Int
    public var size: Int
    /// Valid steps per row (documents), nil when every row is full (stream windows).
    public var lengths: [Int]?
}

/// The training and validation tokens of a language-model run, and the batches made from them.
///
/// Documents mode: each document (CSV row, JSON object, line) is tokenized, cut to `maxLength`
/// tokens and framed by the end token: input `<eos> t₁ … tₙ`, target `t₁ … tₙ <eos>`.
/// Corpus mode: the file is one token stream; the last `validationSplit` of its characters is
/// validation; batches are `StreamWindows` for truncated BPTT.
struct LanguageModelData {
    enum Tokens {
        case documents(training: [[Int32]], validation: [[Int32]])
        case stream(training: [Int32], validation: [Int32])
    }

    let tokenizer: Tokenizer
    let endToken: String
    let endId: Int32
    let paddingId: Int32
    let tokens: Tokens

    static let endTokenCandidates = ["<eos>", "</s>", "<|endoftext|>", "[SEP]"]

    /// Reads the source, carves the validation part with the seed, trains the tokenizer on the training part.
    static func prepare(source: TextSource, options: LanguageModelTrainingOptions,
                        generator: inout SeededGenerator) throws -> LanguageModelData {
        let trainingTexts: [String], validationTexts: [String]
        if options.corpus {
            let text = try source.corpus()
            let cut = text.index(text.startIndex, offsetBy: Int(Double(text.count) * (1 - options.validationSplit)))
            trainingTexts = [String(text[..<cut])]
            validationTexts = options.validationSplit > 0 ? [String(text[cut...])] : []
        } else {
            let documents = try source.documents()
            let split = try validationSplit(count: documents.count, fraction: options.validationSplit, generator: &generator)
            trainingTexts = split.training.map { documents[$0] }
            validationTexts = split.validation.map { documents[$0] }
        }
        let tokenizer = try options.tokenizer.make(texts: trainingTexts, vocabularySize: options.vocabularySize,
                                                   minFrequency: options.minFrequency, extraSpecialTokens: ["<eos>"])
        let (endToken, endId) = try endTokenOf(tokenizer, name: options.tokenizer.description)
        func encode(_ text: String) -> [Int32] { tokenizer.encode(text, addSpecialTokens: false).ids.map { Int32($0) } }
        let tokens: Tokens
        if options.corpus {
            let training = trainingTexts.flatMap(encode), validation = validationTexts.flatMap(encode)
            guard training.count >= 2 else { throw RNNError.invalidFile(source.path, "the corpus has fewer than two tokens") }
            tokens = .stream(training: training, validation: validation)
        } else {
            let cut = { (text: String) in Array(encode(text).prefix(options.maxLength)) }
            tokens = .documents(training: trainingTexts.map(cut), validation: validationTexts.map(cut))
        }
        return LanguageModelData(tokenizer: tokenizer, endToken: endToken, endId: endId,
                                 paddingId: Int32(tokenizer.paddingId), tokens: tokens)
    }

    /// The tokenizer's end-of-text token: `<eos>` (ours), else `</s>`, `<|endoftext|>` or `[SEP]`.
    static func endTokenOf(_ tokenizer: Tokenizer, name: String) throws -> (String, Int32) {
        for candidate in endTokenCandidates {
            if let id = tokenizer.tokenToId(candidate) { return (candidate, Int32(id)) }
        }
        throw RNNError("tokenizer \(name) has no end-of-text token (one of \(endTokenCandidates.joined(separator: ", "))); add <eos> to it")
    }

    var describe: String {
        switch tokens {
        case let .documents(training, validation):
            "\(training.count + validation.count) documents (\(training.count) training, \(validation.count) validation)"
        case let .stream(training, validation):
            "a corpus of \(training.count + validation.count) tokens (the last \(validation.count) for validation)"
        }
    }

    var trainingTokenCount: Int {
        switch tokens {
        case .documents(let training, _): training.reduce(0) { $0 + $1.count + 1 }
        case .stream(let training, _): max(training.count - 1, 0)
        }
    }

    var validationTokenCount: Int {
        switch tokens {
        case .documents(_, let validation): validation.reduce(0) { $0 + $1.count + 1 }
        case .stream(_, let validation): max(validation.count - 1, 0)
        }
    }

    var trainingPairs: [(Int32, Int32)] {
        switch tokens {
        case .documents(let training, _): documentPairs(training, endToken: endId)
        case .stream(let training, _): streamPairs(training)
        }
    }

    func evaluate(_ bigram: KneserNeyBigram) -> LanguageModelEvaluation {
        let pairs: [(Int32, Int32)]
        switch tokens {
        case .documents(_, let validation): pairs = documentPairs(validation, endToken: endId)
        case .stream(_, let validation): pairs = streamPairs(validation)
        }
        let sum = bigram.crossEntropySum(pairs: pairs)
        return LanguageModelEvaluation(crossEntropy: sum.nats / Double(max(sum.count, 1)), tokens: sum.count)
    }

    func trainingBatches(batchSize: Int, window: Int, generator: inout SeededGenerator) throws -> [LanguageModelBatch] {
        switch tokens {
        case .documents(let training, _):
            return try Self.documentBatches(training, batchSize: batchSize, endId: endId, paddingId: paddingId,
                                            shuffle: true, generator: &generator)
        case .stream(let training, _):
            return try Self.streamBatches(training, lanes: batchSize, window: window)
        }
    }

    func validationBatches(batchSize: Int, window: Int) throws -> [LanguageModelBatch] {
        var generator = SeededGenerator(seed: 0)
        switch tokens {
        case .documents(_, let validation):
            return try Self.documentBatches(validation, batchSize: batchSize, endId: endId, paddingId: paddingId,
                                            shuffle: false, generator: &generator)
        case .stream(_, let validation):
            return try Self.streamBatches(validation, lanes: batchSize, window: window)
        }
    }

    func evaluate(_ model: LanguageModel, batches: [LanguageModelBatch]) throws -> LanguageModelEvaluation {
        if case .stream = tokens { return try Self.crossEntropy(model, batches: batches, carryState: true) }
        return try Self.crossEntropy(model, batches: batches, carryState: false)
    }

    // MARK: Batching and scoring, shared with `TrainedLanguageModel`

    /// Padded teacher-forcing batches of documents (bucketed by length).
    static func documentBatches(_ documents: [[Int32]], batchSize: Int, endId: Int32, paddingId: Int32, shuffle: Bool,
                                generator: inout SeededGenerator) throws -> [LanguageModelBatch] {
        try indexedDocumentBatches(documents, batchSize: batchSize, endId: endId, paddingId: paddingId, shuffle: shuffle,
                                   generator: &generator).map(\.batch)
    }

    /// `documentBatches` with the document index of every row (to look up a row's condition).
    static func indexedDocumentBatches(_ documents: [[Int32]], batchSize: Int, endId: Int32, paddingId: Int32, shuffle: Bool,
                                       generator: inout SeededGenerator) throws -> [(batch: LanguageModelBatch, rows: [Int])] {
        guard !documents.isEmpty else { return [] }
        let order = makeBatches(lengths: documents.map { $0.count + 1 }, batchSize: batchSize, shuffle: shuffle,
                                bucketing: true, generator: &generator)
        return try order.map { indices in
            let batch = try TokenBatch(sequences: indices.map { [endId] + documents[$0] }, padding: paddingId)
            var targets = [Int](repeating: SoftmaxCrossEntropy.defaultIgnoreIndex, count: batch.tokens.count)
            for (row, index) in indices.enumerated() {
                for (t, token) in (documents[index] + [endId]).enumerated() { targets[t * batch.size + row] = Int(token) }
            }
            return (LanguageModelBatch(inputs: batch.tokens, targets: targets, steps: batch.steps, size: batch.size,
                                       lengths: batch.lengths), indices)
        }
    }

    /// Consecutive truncated-BPTT windows over a stream: up to `lanes` lanes, shortened to fit a short stream.
    static func streamBatches(_ stream: [Int32], lanes: Int, window: Int) throws -> [LanguageModelBatch] {
        guard stream.count >= 2 else { return [] }
        let window = min(window, stream.count - 1)
        let lanes = max(1, min(lanes, (stream.count - 1) / window))
        let windows = try StreamWindows(stream: stream, lanes: lanes, window: window)
        return (0..<windows.count).map { k in
            let (inputs, targets) = windows.window(k)
            return LanguageModelBatch(inputs: inputs, targets: targets.map { Int($0) }, steps: window, size: lanes, lengths: nil)
        }
    }

    /// Mean cross-entropy over the batches in evaluation mode; with `carryState`, each batch
    /// starts from the previous one's final state (consecutive stream windows).
    static func crossEntropy(_ model: LanguageModel, batches: [LanguageModelBatch], carryState: Bool) throws -> LanguageModelEvaluation {
        var generator = SeededGenerator(seed: 0)
        var state: RecurrentState?
        var lossSum = 0.0, count = 0
        let V = model.config.vocabularySize
        for batch in batches {
            let (logits, final) = try model.logits(tokens: batch.inputs, steps: batch.steps, batch: batch.size, lengths: batch.lengths,
                                                   initialState: carryState ? state : nil, training: false, generator: &generator)
            if carryState { state = final }
            let sums = logits.withUnsafeBufferPointer { x in
                batch.targets.withUnsafeBufferPointer { t in
                    SoftmaxCrossEntropy.compute(logits: x.baseAddress!, rows: batch.steps * batch.size, classes: V,
                                                targets: t.baseAddress!, ignoreIndex: SoftmaxCrossEntropy.defaultIgnoreIndex,
                                                gradient: nil)
                }
            }
            lossSum += sums.lossSum
            count += sums.validCount
        }
        return LanguageModelEvaluation(crossEntropy: lossSum / Double(max(count, 1)), tokens: count)
    }
}
