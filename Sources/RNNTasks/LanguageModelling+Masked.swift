import Foundation
import RNN
import RNNCore
import RNNText

/// What an "lm" model is trained to predict (`rnn lm train --objective`).
public enum LanguageModelObjective: String, Codable, Sendable, CaseIterable {
    /// The next token at every step (teacher forcing); generates text.
    case next
    /// BERT-style: randomly masked tokens from both sides; an encoder for `classify train --init-encoder`.
    case masked
}

/// The `model` section of a masked language model's `config.json` (task "lm", objective "masked").
public struct MaskedLanguageModellingConfig: Codable, Sendable, Equatable {
    /// Always `.masked`: what tells this directory apart from a next-token model.
    public var objective: LanguageModelObjective
    public var vocabularySize: Int
    /// The `[MASK]` token.
    public var maskToken: String
    /// Tokens kept per document in training (`truncation` says which end).
    public var maxLength: Int
    public var truncation: TruncationSide
    public var network: MaskedLanguageModelConfig
    /// `vocabularyFingerprint(of:)` of the tokenizer trained with the model.
    public var tokenizerFingerprint: String
}

/// Reads only the `objective` of a language model's `config.json` (absent: a next-token model).
private struct ObjectiveProbe: Codable, Sendable {
    var objective: LanguageModelObjective?
}

extension LanguageModelObjective {
    /// The objective of the "lm" model directory at `path` (checks it is one).
    public static func of(modelAt path: String) throws -> LanguageModelObjective {
        try ModelDirectory.config(at: path, task: "lm", as: ObjectiveProbe.self).model.objective ?? .next
    }
}

/// Masked-token cross-entropy and accuracy on held-out text.
public struct MaskedLanguageModelEvaluation: Sendable, Codable, Equatable {
    /// Mean −log P(original token) over the masked positions, in nats.
    public var crossEntropy: Double
    /// Share of masked positions whose arg-max prediction is the original token.
    public var accuracy: Double
    /// Masked (predicted) positions.
    public var tokens: Int

    public var metrics: [String: Double] {
        ["masked_cross_entropy": crossEntropy, "masked_accuracy": accuracy, "masked_tokens": Double(tokens),
         "masked_perplexity": Metrics.perplexity(crossEntropy: crossEntropy)]
    }
}

/// Special tokens a masked model never masks nor draws as a random replacement.
let maskedModelSpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<pad>", "<unk>", "<s>", "</s>", "<eos>", "<mask>", "<|endoftext|>"]

/// Token ids of documents for the masked objective, encoded exactly as `rnn classify` encodes
/// texts (so an encoder sees in pretraining what the classifier will show it).
func maskedModelSequences(_ texts: [String], tokenizer: Tokenizer, maxLength: Int, truncation: TruncationSide) throws -> [[Int32]] {
    try ClassificationTraining.encodeAll(texts, tokenizer: tokenizer, maxLength: maxLength, truncation: truncation)
}

/// Padded batches of `sequences`, similar lengths together, corrupted with `generator`.
func maskedBatches(_ sequences: [[Int32]], config: MaskedLanguageModelConfig, batchSize: Int, shuffle: Bool,
                   generator: inout SeededGenerator) throws -> [MaskedBatch] {
    let order = makeBatches(lengths: sequences.map(\.count), batchSize: batchSize, shuffle: shuffle, bucketing: true,
                            generator: &generator)
    var batches: [MaskedBatch] = []
    for indices in order {
        let batch = MaskedBatch(corrupting: try TokenBatch(sequences: indices.map { sequences[$0] }, padding: Int32(config.paddingId)),
                                config: config, generator: &generator)
        if !batch.positions.isEmpty { batches.append(batch) }   // a batch of only special tokens has nothing to predict
    }
    return batches
}

/// Masked-token cross-entropy and accuracy over batches, in evaluation mode.
func evaluateMasked(_ model: MaskedLanguageModel, batches: [MaskedBatch]) throws -> MaskedLanguageModelEvaluation {
    var accumulator = CrossEntropyAccumulator()
    for batch in batches { try model.evaluate(batch, into: &accumulator) }
    return MaskedLanguageModelEvaluation(crossEntropy: accumulator.meanCrossEntropy, accuracy: accumulator.accuracy,
                                         tokens: accumulator.tokenCount)
}

/// The seed of the fixed validation masks: the same positions are predicted after every epoch.
let validationMaskSeedOffset: UInt64 = 0x6d61_736b

extension LanguageModelTraining {
    /// `train` for `--objective masked`: documents (cut like classifier inputs), a tokenizer with
    /// `[MASK]`, a bidirectional encoder trained on freshly drawn masks every epoch (dynamic
    /// masking), validated on fixed masks; the best epoch (lowest masked cross-entropy) is kept.
    static func trainMasked(source: TextSource, options: LanguageModelTrainingOptions, output: String,
                            log: (String) -> Void, onEvent: (TrainingEvent) -> Void, writtenBy: String,
                            start: UInt64, collective: any Collective,
                            stopRequested: @escaping () -> Bool) throws -> LanguageModelTrainingResult {
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        guard options.model == .rnn else { throw RNNError("--objective masked trains a recurrent network; drop --model bigram") }
        guard !options.corpus else { throw RNNError("--objective masked reads documents; drop --corpus") }
        guard !options.usesMultiStepModel else {
            throw RNNError("--objective masked cannot be combined with --predict-ahead or --condition-column")
        }
        guard options.maskProbability > 0, options.maskProbability <= 1 else {
            throw RNNError("--mask-probability must be in (0, 1], got \(options.maskProbability)")
        }
        var generator = SeededGenerator(seed: options.seed)
        let documents = try source.documents()
        let split = try validationSplit(count: documents.count, fraction: options.validationSplit, generator: &generator)
        let trainingTexts = split.training.map { documents[$0] }
        let extra: [String] = options.tokenizer == .wordPiece || options.tokenizer.isFile ? [] : ["[MASK]"]
        let tokenizer = try options.tokenizer.make(texts: trainingTexts, vocabularySize: options.vocabularySize,
                                                   minFrequency: options.minFrequency, extraSpecialTokens: extra)
        guard let maskId = tokenizer.tokenToId("[MASK]") else {
            throw RNNError("tokenizer \(options.tokenizer) has no [MASK] token; the masked objective needs one")
        }
        let specialIds = maskedModelSpecialTokens.compactMap { tokenizer.tokenToId($0) }.sorted()
        let training = try maskedModelSequences(trainingTexts, tokenizer: tokenizer, maxLength: options.maxLength,
                                                truncation: options.truncation)
        let validation = try maskedModelSequences(split.validation.map { documents[$0] }, tokenizer: tokenizer,
                                                  maxLength: options.maxLength, truncation: options.truncation)
        let tokenCount = training.reduce(0) { $0 + $1.count }
        var fingerprint = Fingerprint()
        fingerprint.add(String(describing: options))
        for sequence in training + validation { fingerprint.add(sequence) }
        try collective.checkStart(fingerprint: fingerprint.value, items: training.count, itemName: "training documents")
        log("read \(documents.count) documents (\(training.count) training, \(validation.count) validation) from \(source.path); "
            + "tokenizer \(options.tokenizer): \(tokenizer.vocabSize) tokens; \(tokenCount) training tokens (\(elapsed().formatted1) s)")

        let V = tokenizer.vocabSize
        var recurrent = RecurrentConfig(cell: options.cell, inputSize: options.embeddingDimension, hiddenSize: options.hiddenSize,
                                        layers: options.layers, bidirectional: true, dropout: options.layers > 1 ? options.dropout : 0)
        if options.cell == .lstm { recurrent.forgetBias = 1 }
        let network = MaskedLanguageModelConfig(vocabularySize: V, embeddingDimension: options.embeddingDimension,
                                                paddingId: tokenizer.paddingId, maskId: maskId, specialIds: specialIds,
                                                recurrent: recurrent, dropout: options.dropout,
                                                maskProbability: options.maskProbability)
        let model = try MaskedLanguageModel(network, generator: &generator)
        let config = MaskedLanguageModellingConfig(objective: .masked, vocabularySize: V, maskToken: "[MASK]",
                                                   maxLength: options.maxLength, truncation: options.truncation,
                                                   network: network, tokenizerFingerprint: vocabularyFingerprint(of: tokenizer))
        let run = try TaskTrainingRun(store: model.store, options: options.training, generator: generator, seed: options.seed,
                                      output: output, config: config, configFile: "masked-lm.json",
                                      files: ["tokenizer.json": try tokenizer.jsonData()], resume: options.resume,
                                      collective: collective, stopRequested: stopRequested, log: log)
        let trainer = run.trainer
        var validationGenerator = SeededGenerator(seed: options.seed &+ validationMaskSeedOffset)
        let validationBatches = validation.isEmpty ? []
            : try maskedBatches(validation, config: network, batchSize: options.batchSize, shuffle: false, generator: &validationGenerator)
        // Distributed: the global batches are corrupted alike on every rank, then each takes its
        // rows (and their targets); validation sums are reduced over ranks.
        let validationShard = try run.validationShard(validationBatches, rows: \.size) { $0.selecting(rows: $1) }
            .filter { !$0.positions.isEmpty }
        let evaluate = { () throws -> MaskedLanguageModelEvaluation in
            guard collective.isDistributed else { return try evaluateMasked(model, batches: validationBatches) }
            let local = validationShard.isEmpty ? MaskedLanguageModelEvaluation(crossEntropy: 0, accuracy: 0, tokens: 0)
                : try evaluateMasked(model, batches: validationShard)
            return try collective.reduceMasked(local)
        }
        let history = try run.fit(
            batches: { generator in
                try maskedBatches(training, config: network, batchSize: options.batchSize, shuffle: true, generator: &generator)
            },
            rows: \.size, select: { $0.selecting(rows: $1) },
            step: { batch, generator in
                // A rank's rows may hold no target of the global batch: nothing to learn from them.
                batch.positions.isEmpty ? .empty : try model.trainStep(batch, generator: &generator)
            },
            validate: validationBatches.isEmpty ? nil : {
                let result = try evaluate()
                return ValidationResult(loss: result.crossEntropy, metrics: ["accuracy": result.accuracy])
            },
            monitor: "loss", higherIsBetter: false, onEvent: onEvent)
        let evaluation = validationBatches.isEmpty ? nil : try evaluate()

        var record: [String: String] = [
            "data": source.path, "model": "rnn", "objective": "masked", "tokenizer": options.tokenizer.description,
            "validation_split": "\(options.validationSplit)", "seed": "\(options.seed)", "max_length": "\(options.maxLength)",
            "truncation": options.truncation.rawValue, "training_documents": "\(training.count)",
            "validation_documents": "\(validation.count)", "training_tokens": "\(tokenCount)",
            "batch_size": "\(options.batchSize)", "epochs": "\(options.training.epochs)",
            "optimizer": options.training.optimizer.rawValue, "learning_rate": "\(options.training.learningRate)",
            "clip_norm": options.training.clipNorm.map { "\($0)" } ?? "none",
            "best_epoch": trainer.best.map { "\($0.epoch)" } ?? "last",
        ]
        if let text = source.textColumn { record["text_column"] = text }
        var metrics = evaluation.map { $0.metrics.mapKeys { "validation_" + $0 } } ?? [:]
        let seconds = elapsed()
        metrics["training_seconds"] = seconds
        let file = ModelConfigFile(task: "lm", model: config, training: record, metrics: metrics, writtenBy: writtenBy)
        try run.saveModel(file, store: model.store, history: history, files: [ModelDirectory.tokenizerFile: try tokenizer.jsonData()])
        var result = LanguageModelTrainingResult(model: .rnn, history: history,
                                                 validation: evaluation.map { LanguageModelEvaluation(crossEntropy: $0.crossEntropy, tokens: $0.tokens) },
                                                 bigramValidation: nil, trainingTokens: tokenCount,
                                                 validationTokens: validation.reduce(0) { $0 + $1.count },
                                                 vocabularySize: V, seconds: seconds, summary: model.summary())
        result.masked = evaluation
        return result
    }
}

/// A trained masked language model with its tokenizer: what an "lm" directory with objective
/// "masked" holds; evaluates masked-token prediction and provides an encoder for classifiers.
public final class TrainedMaskedLanguageModel {
    public let configFile: ModelConfigFile<MaskedLanguageModellingConfig>
    public let model: MaskedLanguageModel
    public let tokenizer: Tokenizer

    public var config: MaskedLanguageModellingConfig { configFile.model }

    init(configFile: ModelConfigFile<MaskedLanguageModellingConfig>, model: MaskedLanguageModel, tokenizer: Tokenizer) {
        self.configFile = configFile
        self.model = model
        self.tokenizer = tokenizer
    }

    /// Loads a masked "lm" model directory; checks that the tokenizer belongs to the model.
    public static func load(from path: String) throws -> TrainedMaskedLanguageModel {
        guard try LanguageModelObjective.of(modelAt: path) == .masked else {
            throw RNNError.invalidFile(path, "is a next-token language model, not a masked one (train it with rnn lm train --objective masked)")
        }
        let file = try ModelDirectory.config(at: path, task: "lm", as: MaskedLanguageModellingConfig.self)
        _ = try ModelDirectory.file(ModelDirectory.tokenizerFile, in: path)
        let tokenizer = try Tokenizer(contentsOf: path + "/" + ModelDirectory.tokenizerFile)
        let config = file.model
        guard tokenizer.vocabSize == config.vocabularySize, config.network.vocabularySize == config.vocabularySize,
              vocabularyFingerprint(of: tokenizer) == config.tokenizerFingerprint else {
            throw RNNError.invalidFile(path, "tokenizer.json is not the tokenizer this model was trained with (its vocabulary differs): they do not belong together")
        }
        guard tokenizer.tokenToId(config.maskToken) == config.network.maskId else {
            throw RNNError.invalidFile(path, "tokenizer.json does not map \(config.maskToken) to id \(config.network.maskId) as the model does")
        }
        var generator = SeededGenerator(seed: 0)
        let model = try MaskedLanguageModel(config.network, generator: &generator)
        try ModelDirectory.loadWeights(into: model.store, from: path)
        return TrainedMaskedLanguageModel(configFile: file, model: model, tokenizer: tokenizer)
    }

    /// Masked-token cross-entropy and accuracy on documents, encoded and cut as in training; the
    /// masks (which tokens, and whether each reads [MASK], a random token or itself) are drawn
    /// with `maskSeed`, so the same seed scores the same positions.
    public func evaluate(source: TextSource, maskSeed: UInt64 = 0, batchSize: Int = 64) throws -> MaskedLanguageModelEvaluation {
        let sequences = try maskedModelSequences(try source.documents(), tokenizer: tokenizer, maxLength: config.maxLength,
                                                 truncation: config.truncation)
        var generator = SeededGenerator(seed: maskSeed)
        let batches = try maskedBatches(sequences, config: config.network, batchSize: batchSize, shuffle: false, generator: &generator)
        guard !batches.isEmpty else { throw RNNError.invalidFile(source.path, "has no ordinary tokens to mask") }
        return try evaluateMasked(model, batches: batches)
    }

    /// "masked rnn (gru, 1 × 128, bidirectional)".
    public var describe: String {
        let recurrent = config.network.recurrent
        return "masked rnn (\(recurrent.cell.rawValue), \(recurrent.layers) × \(recurrent.hiddenSize), bidirectional)"
    }
}

extension TokenizerChoice {
    var isFile: Bool {
        if case .file = self { return true }
        return false
    }
}
