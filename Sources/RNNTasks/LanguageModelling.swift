import Foundation
import RNN
import RNNCore
import RNNText

/// Which next-token model `rnn lm train --model` builds.
public enum LanguageModelKind: String, Codable, Sendable, CaseIterable {
    /// Embedding → recurrent layers → softmax over the vocabulary (`LanguageModel`).
    case rnn
    /// The interpolated Kneser-Ney bigram baseline (`KneserNeyBigram`).
    case bigram
}

/// The `model` section of a language-model directory's `config.json` (task "lm").
public struct LanguageModellingConfig: Codable, Sendable, Equatable {
    /// "rnn" or "bigram".
    public var model: LanguageModelKind
    public var vocabularySize: Int
    /// The end-of-text token appended to every document; it doubles as the start token.
    public var endToken: String
    public var endTokenId: Int
    public var paddingId: Int
    /// Tokens kept per training document (documents mode); also the longest prompt accepted.
    public var maxLength: Int
    /// Trained on one long token stream (truncated BPTT) rather than on separate documents.
    public var corpus: Bool
    /// The network, when `model` is rnn.
    public var network: LanguageModelConfig?
    /// The counts' shape and discounts, when `model` is bigram.
    public var bigram: KneserNeyBigramConfig?
    /// `vocabularyFingerprint(of:)` of the tokenizer trained with the model, to catch a swapped tokenizer.json.
    public var tokenizerFingerprint: String?
    /// Several heads (`--predict-ahead`) and/or a label-conditioned initial state (`--condition-column`);
    /// `network` is then its `base`.
    public var multiStep: MultiStepLanguageModelConfig?
    /// The condition labels, in label-id order (with `--condition-column`).
    public var conditions: [String]?
}

/// FNV-1a (64 bit, hex) of the tokenizer's tokens in id order: equal for the same vocabulary.
public func vocabularyFingerprint(of tokenizer: Tokenizer) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for id in 0..<tokenizer.vocabSize {
        for byte in (tokenizer.idToToken(id) ?? "").utf8 + [0] {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
    }
    return String(hash, radix: 16)
}

/// Everything `rnn lm train` takes besides the data.
public struct LanguageModelTrainingOptions: Sendable {
    public var model: LanguageModelKind = .rnn
    public var cell: CellType = .lstm
    public var layers = 1
    public var hiddenSize = 256
    /// Equal to `hiddenSize` when the embeddings are tied.
    public var embeddingDimension = 256
    /// Share the embedding matrix with the output layer (Press & Wolf 2017): fewer parameters and,
    /// on the jokes, a lower validation perplexity (29 against 34 untied).
    public var tieEmbeddings = true
    /// Dropout on embeddings, between layers and before the output layer.
    public var dropout: Float = 0.4
    public var tokenizer: TokenizerChoice = .word
    public var vocabularySize = 10_000
    public var minFrequency = 2
    /// Keep the first `maxLength` tokens of each document.
    public var maxLength = 64
    /// Treat the file as one corpus (truncated BPTT over a token stream; the last
    /// `validationSplit` of it for validation) instead of one document per line or row.
    public var corpus = false
    /// Truncated-BPTT window in corpus mode.
    public var bptt = 64
    /// Documents per batch, or parallel lanes of the stream in corpus mode.
    public var batchSize = 32
    public var validationSplit = 0.1
    public var seed: UInt64 = 1
    /// K output heads predicting tokens t+1 … t+K (1: the ordinary language model).
    public var predictAhead = 1
    /// CSV/TSV column or JSON field whose label conditions each document through the initial state.
    public var conditionColumn: String?
    /// `.masked`: BERT-style masked tokens with a bidirectional encoder (`trainMasked`).
    public var objective: LanguageModelObjective = .next
    /// Share of tokens masked per document with `.masked`.
    public var maskProbability: Float = 0.15
    /// Which end of a long document `.masked` keeps (as `rnn classify` does).
    public var truncation: TruncationSide = .tail
    /// Continue from `OUT/checkpoint` (written after every epoch, and on Ctrl-C) instead of starting
    /// afresh; the data, seed and options must be those of the interrupted run (`--epochs` may be larger).
    public var resume = false
    public var training = TrainingOptions()

    public init() {
        training.epochs = 20
        training.learningRate = 3e-3
        training.clipNorm = 5
        training.patience = 2
    }

    func validate() throws {
        try training.validate()
        guard batchSize >= 1 else { throw RNNError("--batch-size must be at least 1") }
        guard maxLength >= 1 else { throw RNNError("--max-length must be at least 1") }
        guard bptt >= 1 else { throw RNNError("--bptt must be at least 1") }
        guard vocabularySize >= 4 else { throw RNNError("--vocab-size must be at least 4") }
        if model == .rnn, tieEmbeddings, embeddingDimension != hiddenSize {
            throw RNNError("tied embeddings (the default) need --embedding-dim (\(embeddingDimension)) equal to --hidden (\(hiddenSize)); drop --embedding-dim or pass --no-tie-embeddings")
        }
        guard validationSplit >= 0, validationSplit < 1 else {
            throw RNNError("--validation-split must be in [0, 1), got \(validationSplit)")
        }
        if resume, model == .bigram { throw RNNError("--resume: the bigram model is counted in one pass; there is nothing to resume") }
        guard predictAhead >= 1 else { throw RNNError("--predict-ahead must be at least 1, got \(predictAhead)") }
        if usesMultiStepModel {
            guard model == .rnn else { throw RNNError("--predict-ahead and --condition-column need --model rnn") }
            if conditionColumn != nil, corpus {
                throw RNNError("--condition-column labels documents; it cannot be used with --corpus")
            }
        }
    }

    /// Whether training builds a `MultiStepLanguageModel` (several heads or a condition).
    var usesMultiStepModel: Bool { predictAhead > 1 || conditionColumn != nil }
}

/// Cross-entropy of a model on held-out tokens.
public struct LanguageModelEvaluation: Sendable, Codable, Equatable {
    /// Mean −log P(token) in nats.
    public var crossEntropy: Double
    public var tokens: Int
    public var perplexity: Double { Metrics.perplexity(crossEntropy: crossEntropy) }
    public var bitsPerToken: Double { Metrics.bitsPerToken(crossEntropy: crossEntropy) }

    public init(crossEntropy: Double, tokens: Int) {
        self.crossEntropy = crossEntropy
        self.tokens = tokens
    }

    public var metrics: [String: Double] {
        ["cross_entropy": crossEntropy, "perplexity": perplexity, "bits_per_token": bitsPerToken, "tokens": Double(tokens)]
    }
}

/// What training produced, besides the saved directory.
public struct LanguageModelTrainingResult: Sendable {
    public var model: LanguageModelKind
    public var history: [EpochRecord]
    /// The trained model on the validation part (nil with `--validation-split 0`).
    public var validation: LanguageModelEvaluation?
    /// The Kneser-Ney bigram trained on the same training tokens, on the same validation tokens.
    public var bigramValidation: LanguageModelEvaluation?
    public var trainingTokens: Int
    public var validationTokens: Int
    public var vocabularySize: Int
    public var seconds: Double
    public var summary: ModelSummary?
    /// Per-head validation figures of a multi-step model (`--predict-ahead`, `--condition-column`).
    public var heads: [HeadEvaluation] = []
    /// Masked-token validation figures of a `--objective masked` model.
    public var masked: MaskedLanguageModelEvaluation?
}

/// `rnn lm train`: read, tokenize, split, train (RNN with teacher forcing, or the bigram), validate, save.
public enum LanguageModelTraining {
    public static func train(source: TextSource, options: LanguageModelTrainingOptions, output: String,
                             log: (String) -> Void = { _ in }, onEvent: (TrainingEvent) -> Void = { _ in },
                             writtenBy: String, collective: any Collective = SingleProcessCollective(),
                             stopRequested: @escaping () -> Bool = { false }) throws -> LanguageModelTrainingResult {
        let log = collective.isLeader ? log : { _ in }, onEvent = collective.isLeader ? onEvent : { _ in }
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        try options.validate()
        if collective.isLeader { try ModelDirectory.checkWritable(output) }  // rank 0 alone writes the model
        if options.objective == .masked {
            return try trainMasked(source: source, options: options, output: output, log: log, onEvent: onEvent,
                                   writtenBy: writtenBy, start: start, collective: collective, stopRequested: stopRequested)
        }
        if options.usesMultiStepModel {
            return try trainMultiStep(source: source, options: options, output: output, log: log, onEvent: onEvent,
                                      writtenBy: writtenBy, start: start, collective: collective, stopRequested: stopRequested)
        }
        var generator = SeededGenerator(seed: options.seed)
        let data = try LanguageModelData.prepare(source: source, options: options, generator: &generator)
        var fingerprint = Fingerprint()
        fingerprint.add(String(describing: options))
        fingerprint.add(data.fingerprint)
        let items = data.distributedItems(batchSize: options.batchSize)
        try collective.checkStart(fingerprint: fingerprint.value, items: items.count, itemName: items.name)
        log("read \(data.describe) from \(source.path); tokenizer \(options.tokenizer): \(data.tokenizer.vocabSize) tokens; "
            + "\(data.trainingTokenCount) training and \(data.validationTokenCount) validation targets (\(elapsed().formatted1) s)")

        let V = data.tokenizer.vocabSize
        let bigram = try KneserNeyBigram(pairs: data.trainingPairs, vocabularySize: V)
        let bigramValidation = data.validationTokenCount > 0 ? data.evaluate(bigram) : nil
        if let bigramValidation {
            log(String(format: "bigram baseline (interpolated Kneser-Ney): validation perplexity %.2f", bigramValidation.perplexity))
        }
        var config = LanguageModellingConfig(model: options.model, vocabularySize: V, endToken: data.endToken,
                                             endTokenId: Int(data.endId), paddingId: Int(data.paddingId),
                                             maxLength: options.maxLength, corpus: options.corpus, network: nil, bigram: nil,
                                             tokenizerFingerprint: vocabularyFingerprint(of: data.tokenizer))
        var record: [String: String] = [
            "data": source.path, "model": options.model.rawValue, "tokenizer": options.tokenizer.description,
            "validation_split": "\(options.validationSplit)", "seed": "\(options.seed)", "corpus": "\(options.corpus)",
            "max_length": "\(options.maxLength)", "training_tokens": "\(data.trainingTokenCount)",
            "validation_tokens": "\(data.validationTokenCount)",
        ]
        if let text = source.textColumn { record["text_column"] = text }
        var metrics: [String: Double] = [:]
        if let bigramValidation { metrics["bigram_validation_perplexity"] = bigramValidation.perplexity }
        let store: ParameterStore
        var history: [EpochRecord] = [], historyCSV = "epoch\n", summary: ModelSummary?
        var validation: LanguageModelEvaluation?

        switch options.model {
        case .bigram:
            config.bigram = bigram.config
            store = bigram.parameterStore()
            validation = bigramValidation
        case .rnn:
            var recurrent = RecurrentConfig(cell: options.cell, inputSize: options.embeddingDimension, hiddenSize: options.hiddenSize,
                                            layers: options.layers, dropout: options.layers > 1 ? options.dropout : 0,
                                            stateful: options.corpus)
            if options.cell == .lstm { recurrent.forgetBias = 1 }
            let network = LanguageModelConfig(vocabularySize: V, embeddingDimension: options.embeddingDimension, recurrent: recurrent,
                                              dropout: options.dropout, tieEmbeddings: options.tieEmbeddings)
            let model = try LanguageModel(network, generator: &generator)
            var checkpointConfig = config
            checkpointConfig.network = network
            let run = try TaskTrainingRun(store: model.store, options: options.training, generator: generator, seed: options.seed,
                                          output: output, config: checkpointConfig, configFile: "lm.json",
                                          files: ["tokenizer.json": try data.tokenizer.jsonData()], resume: options.resume,
                                          collective: collective, stopRequested: stopRequested, log: log)
            let trainer = run.trainer
            overlapHeadAllReduce(of: model, in: trainer)
            if let early = trainer.overlappedScalars {
                log("distributed: overlapping the output layer's all-reduce (\(early.count) of \(model.store.scalarCount) gradients) with the backward pass")
            }
            let validationBatches = try data.validationBatches(batchSize: options.batchSize, window: options.bptt)
            // Distributed: each rank scores its rows of every batch; the sums are reduced.
            let validationShard = try run.validationShard(validationBatches, rows: \.size) { $0.selecting(rows: $1) }
            let evaluate = { () throws -> LanguageModelEvaluation in
                model.recurrent.resetState()
                guard collective.isDistributed else { return try data.evaluate(model, batches: validationBatches) }
                let local = validationShard.isEmpty ? LanguageModelEvaluation(crossEntropy: 0, tokens: 0)
                    : try data.evaluate(model, batches: validationShard)
                return try collective.reduceEvaluation(local)
            }
            history = try run.fit(
                batches: { generator in
                    model.recurrent.resetState()
                    return try data.trainingBatches(batchSize: options.batchSize, window: options.bptt, generator: &generator)
                },
                rows: \.size, select: { $0.selecting(rows: $1) },
                step: { batch, generator in
                    announceItems(of: batch.targets, to: trainer, through: model)
                    return try model.trainStep(inputs: batch.inputs, targets: batch.targets, steps: batch.steps, batch: batch.size,
                                               lengths: batch.lengths, generator: &generator)
                },
                validate: validationBatches.isEmpty ? nil : {
                    let result = try evaluate()
                    return ValidationResult(loss: result.crossEntropy,
                                            metrics: ["perplexity": result.perplexity, "bits_per_token": result.bitsPerToken])
                },
                monitor: "loss", higherIsBetter: false, onEvent: onEvent)
            if let best = trainer.best, options.training.restoreBest {
                // The best epoch's weights are restored, and evaluation is deterministic: its score stands.
                let targets = validationBatches.reduce(0) { $0 + $1.targets.filter { $0 != SoftmaxCrossEntropy.defaultIgnoreIndex }.count }
                validation = LanguageModelEvaluation(crossEntropy: best.value, tokens: targets)
            } else if !validationBatches.isEmpty {
                validation = try evaluate()
            }
            var saved = network
            saved.recurrent.stateful = false  // generation and evaluation pass their state explicitly
            config.network = saved
            store = model.store
            historyCSV = trainer.historyCSV()
            summary = model.summary()
            record.merge([
                "batch_size": "\(options.batchSize)", "bptt": "\(options.bptt)", "epochs": "\(options.training.epochs)",
                "optimizer": options.training.optimizer.rawValue, "learning_rate": "\(options.training.learningRate)",
                "clip_norm": options.training.clipNorm.map { "\($0)" } ?? "none",
                "best_epoch": trainer.best.map { "\($0.epoch)" } ?? "last",
            ]) { $1 }
        }
        if let validation { metrics.merge(validation.metrics.mapKeys { "validation_" + $0 }) { $1 } }
        let seconds = elapsed()
        metrics["training_seconds"] = seconds
        let file = ModelConfigFile(task: "lm", model: config, training: record, metrics: metrics, writtenBy: writtenBy)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if collective.isLeader {
            try ModelDirectory.save(file, store: store, extraFiles: [
                ModelDirectory.tokenizerFile: try data.tokenizer.jsonData(),
                "history.json": try encoder.encode(history),
                "history.csv": Data(historyCSV.utf8),
            ], to: output)
        }
        return LanguageModelTrainingResult(model: options.model, history: history, validation: validation,
                                           bigramValidation: bigramValidation, trainingTokens: data.trainingTokenCount,
                                           validationTokens: data.validationTokenCount, vocabularySize: V,
                                           seconds: seconds, summary: summary)
    }

    /// Distributed (dense step): the output layer's gradients are all-reduced while the recurrent
    /// backward runs (`Trainer+Overlap.swift`): its parameters are the store's last (untied head).
    static func overlapHeadAllReduce(of model: LanguageModel, in trainer: Trainer) {
        guard let head = model.head else { return }
        let parameters = [head.weight] + (head.bias.map { [$0] } ?? [])
        let lower = parameters.map(\.offset).min()!, upper = parameters.map { $0.offset + $0.count }.max()!
        guard upper - lower == parameters.reduce(0, { $0 + $1.count }) else { return }  // not contiguous
        trainer.earlyGradientScalars = lower..<upper
    }

    /// Before a step: the hook that tells the trainer, from the model's backward pass, that the
    /// head's gradients are final, with the number of targets the loss averages over.
    static func announceItems(of targets: [Int], to trainer: Trainer, through model: LanguageModel) {
        guard trainer.overlappedScalars != nil else { return }
        let count = targets.reduce(0) { $0 + ($1 != SoftmaxCrossEntropy.defaultIgnoreIndex ? 1 : 0) }
        model.headGradientsFinal = { try trainer.earlyGradientsFinal(localCount: count) }
    }
}
