import Foundation
import RNN
import RNNCore
import RNNText

/// One translated sentence.
public struct TranslationOutput: Sendable {
    public var text: String
    /// Length-normalised log-probability (the beam's ranking score).
    public var score: Double
    public var logProbability: Double
    public var tokenCount: Int
}

/// BLEU and per-token cross-entropy of a model on a parallel test set.
public struct TranslationReport: Sendable {
    public var bleu: BLEUScore
    /// Mean teacher-forced cross-entropy per target token (nats), end tokens included.
    public var crossEntropy: Double
    public var targetTokens: Int
    public var hypotheses: [String]
}

/// A trained translation model with its tokenizers: what a model directory holds, ready to use.
public final class TrainedTranslator {
    public static let task = "translate"
    public static let sourceTokenizerFile = "source_tokenizer.json", targetTokenizerFile = "target_tokenizer.json"
    public let model: Seq2Seq
    public let sourceTokenizer: Tokenizer
    public let targetTokenizer: Tokenizer
    public let configFile: ModelConfigFile<Seq2SeqConfig>

    init(model: Seq2Seq, sourceTokenizer: Tokenizer, targetTokenizer: Tokenizer, configFile: ModelConfigFile<Seq2SeqConfig>) {
        self.model = model
        self.sourceTokenizer = sourceTokenizer
        self.targetTokenizer = targetTokenizer
        self.configFile = configFile
    }

    public var config: Seq2SeqConfig { model.config }

    /// The tokenizer files of a model: one shared `tokenizer.json`, or one per side.
    static func tokenizerFiles(sourceTokenizer: Tokenizer, targetTokenizer: Tokenizer, shared: Bool) throws -> [String: Data] {
        shared ? [ModelDirectory.tokenizerFile: try targetTokenizer.jsonData()]
               : [sourceTokenizerFile: try sourceTokenizer.jsonData(), targetTokenizerFile: try targetTokenizer.jsonData()]
    }

    /// Loads a translation model directory (`config.json` with task "translate", `model.safetensors`,
    /// `tokenizer.json` or `source_tokenizer.json` + `target_tokenizer.json`).
    public static func load(from path: String) throws -> TrainedTranslator {
        let file = try ModelDirectory.config(at: path, task: task, as: Seq2SeqConfig.self)
        let manager = FileManager.default
        let separate = manager.fileExists(atPath: path + "/" + sourceTokenizerFile)
        let sourceName = separate ? sourceTokenizerFile : ModelDirectory.tokenizerFile
        let targetName = separate ? targetTokenizerFile : ModelDirectory.tokenizerFile
        _ = try ModelDirectory.file(sourceName, in: path)
        _ = try ModelDirectory.file(targetName, in: path)
        let source = try Tokenizer(contentsOf: path + "/" + sourceName)
        let target = separate ? try Tokenizer(contentsOf: path + "/" + targetName) : source
        guard source.vocabSize <= file.model.sourceVocabularySize, target.vocabSize <= file.model.targetVocabularySize else {
            throw RNNError.invalidFile(path, "the tokenizers have \(source.vocabSize) and \(target.vocabSize) tokens but the model "
                + "\(file.model.sourceVocabularySize) and \(file.model.targetVocabularySize): they do not belong together")
        }
        var generator = SeededGenerator(seed: 0)
        let model = try Seq2Seq(file.model, generator: &generator)
        try ModelDirectory.loadWeights(into: model.store, from: path)
        return TrainedTranslator(model: model, sourceTokenizer: source, targetTokenizer: target, configFile: file)
    }

    /// Source ids of a sentence; `location` names it in errors (e.g. "input line 3").
    public func encodeSource(_ text: String, location: String) throws -> [Int32] {
        let ids = sourceTokenizer.encode(text, addSpecialTokens: false).ids
        guard !ids.isEmpty else { throw RNNError("\(location): empty sentence; nothing to translate") }
        guard ids.count <= config.maxSourceLength else {
            throw RNNError("\(location): the sentence has \(ids.count) tokens, more than the model's limit of \(config.maxSourceLength)")
        }
        return ids.map(Int32.init)
    }

    /// Target ids of a reference sentence (no start or end token).
    public func encodeTarget(_ text: String, location: String) throws -> [Int32] {
        let ids = targetTokenizer.encode(text, addSpecialTokens: false).ids
        guard !ids.isEmpty else { throw RNNError("\(location): empty sentence") }
        guard ids.count <= config.maxTargetLength else {
            throw RNNError("\(location): the sentence has \(ids.count) tokens, more than the model's limit of \(config.maxTargetLength)")
        }
        return ids.map(Int32.init)
    }

    /// Text of target ids: the tokenizer's own decoder, or `detokenize` for word-level tokens.
    public func decodeTarget(_ ids: [Int32]) -> String {
        if targetTokenizer.decoder != nil { return targetTokenizer.decode(ids.map(Int.init)) }
        let specials: Set<Int> = [config.targetPaddingId, config.startId, config.endId]
        return detokenize(ids.compactMap { specials.contains(Int($0)) ? nil : targetTokenizer.idToToken(Int($0)) })
    }

    /// Translations of `texts`; `locations[i]` names text i in errors.
    public func translate(_ texts: [String], locations: [String]? = nil,
                          options: BeamSearchOptions = BeamSearchOptions()) throws -> [TranslationOutput] {
        let sources = try texts.enumerated().map { index, text in
            try encodeSource(text, location: locations?[index] ?? "sentence \(index + 1)")
        }
        return try model.decode(sources, options: options).map { decoded in
            TranslationOutput(text: decodeTarget(decoded.tokens), score: decoded.score, logProbability: decoded.logProbability,
                              tokenCount: decoded.tokens.count)
        }
    }

    /// Corpus BLEU (sacreBLEU defaults) of the decoded sources against the raw references, and
    /// the teacher-forced cross-entropy per target token.
    public func evaluate(_ corpus: ParallelCorpus, options: BeamSearchOptions = BeamSearchOptions()) throws -> TranslationReport {
        let outputs = try translate(corpus.sources, locations: corpus.sources.indices.map { corpus.location($0) }, options: options)
        let hypotheses = outputs.map(\.text)
        let bleu = try BLEU().corpusScore(hypotheses: hypotheses, references: [corpus.targets])
        let sources = try corpus.sources.indices.map { try encodeSource(corpus.sources[$0], location: corpus.location($0)) }
        let targets = try corpus.targets.indices.map { try encodeTarget(corpus.targets[$0], location: corpus.location($0, target: true)) }
        let (loss, tokens) = try crossEntropy(sources: sources, targets: targets, batchSize: options.batchSize)
        return TranslationReport(bleu: bleu, crossEntropy: loss, targetTokens: tokens, hypotheses: hypotheses)
    }

    /// Mean teacher-forced cross-entropy per target token over encoded pairs.
    func crossEntropy(sources: [[Int32]], targets: [[Int32]], batchSize: Int) throws -> (loss: Double, tokens: Int) {
        var generator = SeededGenerator(seed: 0)
        let order = makeBatches(lengths: sources.map(\.count), batchSize: batchSize, shuffle: false, bucketing: true, generator: &generator)
        var lossSum = 0.0, tokens = 0
        for indices in order {
            let batch = try Seq2SeqBatch(sources: indices.map { sources[$0] }, targets: indices.map { targets[$0] }, config: config,
                                         indices: indices)
            let result = try model.evaluate(batch)
            lossSum += result.lossSum
            tokens += result.tokens
        }
        return (lossSum / Double(max(tokens, 1)), tokens)
    }
}
