import Foundation
import RNN
import RNNCore
import RNNText

/// Everything `rnn translate train` takes besides the data: model shape, text handling, training.
public struct TranslationTrainingOptions: Sendable {
    public var cell: CellType = .gru
    /// Encoder layers (and decoder layers).
    public var layers = 1
    /// Units per encoder direction and of the decoder.
    public var hiddenSize = 256
    public var bidirectional = true
    public var embeddingDimension = 256
    public var attention: AttentionKind = .bahdanau
    /// Width of the additive scorer (nil: the hidden size).
    public var attentionSize: Int?
    /// Tokenizer of both sides unless `sourceTokenizer` / `targetTokenizer` say otherwise.
    public var tokenizer: TokenizerChoice = .word
    public var sourceTokenizer: TokenizerChoice?
    public var targetTokenizer: TokenizerChoice?
    /// One tokenizer (and vocabulary) trained on both sides.
    public var sharedVocabulary = false
    public var vocabularySize = 32_000
    public var minFrequency = 2
    /// Longest sentence in tokens; longer training sentences are an error naming file and line.
    public var maxLength = 100
    /// Measured on Multi30k: 0.1 with lr 3e-3 reached 19.0 val BLEU (greedy) in 2 epochs, 0.3 with
    /// lr 2e-3 (cosine) 5.2 in 4 (README, Translation).
    public var dropout: Float = 0.1
    /// Probability of feeding the model's own previous prediction instead of the reference
    /// token (scheduled sampling, drawn per position from a teacher-forced pass).
    public var scheduledSampling = 0.0
    public var batchSize = 64
    /// Held out from training when no validation files are given, to pick the best epoch.
    public var validationSplit = 0.03
    public var validationSource: String?
    public var validationTarget: String?
    /// Beam width and length penalty of the final validation BLEU (epochs use greedy decoding).
    public var beam = BeamSearchOptions()
    public var seed: UInt64 = 1
    /// Continue from `OUT/checkpoint` (written after every epoch).
    public var resume = false
    public var training = TrainingOptions()

    public init() {
        training.epochs = 10
        training.learningRate = 3e-3
        training.clipNorm = 5
    }

    func validate() throws {
        try training.validate()
        guard batchSize >= 1 else { throw RNNError("--batch-size must be at least 1, got \(batchSize)") }
        guard maxLength >= 1 else { throw RNNError("--max-length must be at least 1, got \(maxLength)") }
        guard vocabularySize >= 8 else { throw RNNError("--vocab-size must be at least 8, got \(vocabularySize)") }
        guard scheduledSampling >= 0, scheduledSampling < 1 else {
            throw RNNError("--scheduled-sampling must be in [0, 1), got \(scheduledSampling)")
        }
        guard (validationSource == nil) == (validationTarget == nil) else {
            throw RNNError("give both --val-source and --val-target, or neither")
        }
    }
}

/// What training produced, besides the saved directory.
public struct TranslationTrainingResult {
    public var translator: TrainedTranslator
    public var history: [EpochRecord]
    public var validation: TranslationReport?
    public var trainingPairs: Int
    public var validationPairs: Int
    public var seconds: Double
    public var summary: ModelSummary
}

/// `rnn translate train`: read pairs, build tokenizers, train with teacher forcing, pick the
/// epoch with the best greedy validation BLEU, save.
public enum TranslationTraining {
    public static func train(corpus: ParallelCorpus, options: TranslationTrainingOptions, output: String,
                             log: (String) -> Void = { _ in }, onEvent: (TrainingEvent) -> Void = { _ in },
                             writtenBy: String, collective: any Collective = SingleProcessCollective(),
                             stopRequested: @escaping () -> Bool = { false }) throws -> TranslationTrainingResult {
        let log = collective.isLeader ? log : { _ in }, onEvent = collective.isLeader ? onEvent : { _ in }
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        try options.validate()
        if collective.isLeader { try ModelDirectory.checkWritable(output) }  // rank 0 alone writes the model
        var generator = SeededGenerator(seed: options.seed)
        var trainingIndices = Array(0..<corpus.count), validationCorpus: ParallelCorpus?
        if let source = options.validationSource, let target = options.validationTarget {
            validationCorpus = try ParallelCorpus(source: source, target: target)
        } else if options.validationSplit > 0 {
            let split = try validationSplit(count: corpus.count, fraction: options.validationSplit, generator: &generator)
            trainingIndices = split.training
            validationCorpus = ParallelCorpus(sources: split.validation.map { corpus.sources[$0] }, targets: split.validation.map { corpus.targets[$0] },
                                              sourcePath: corpus.sourcePath + " (held out)", targetPath: corpus.targetPath.map { $0 + " (held out)" })
        }
        guard !trainingIndices.isEmpty else { throw RNNError.invalidFile(corpus.sourcePath, "no training pairs left after the validation split") }

        // Tokenizers: from the checkpoint when resuming, else trained on the training side only.
        let sourceChoice = options.sourceTokenizer ?? options.tokenizer, targetChoice = options.targetTokenizer ?? options.tokenizer
        let trainingSources = trainingIndices.map { corpus.sources[$0] }, trainingTargets = trainingIndices.map { corpus.targets[$0] }
        let sourceTokenizer: Tokenizer, targetTokenizer: Tokenizer
        var sharedTokenizer = options.sharedVocabulary
        if options.resume {
            let folder = try Checkpoint.requireDirectory(in: output)
            let shared = FileManager.default.fileExists(atPath: folder + "/" + ModelDirectory.tokenizerFile)
            sharedTokenizer = shared
            sourceTokenizer = try Tokenizer(contentsOf: folder + "/" + (shared ? ModelDirectory.tokenizerFile : TrainedTranslator.sourceTokenizerFile))
            targetTokenizer = shared ? sourceTokenizer : try Tokenizer(contentsOf: folder + "/" + TrainedTranslator.targetTokenizerFile)
        } else if options.sharedVocabulary {
            guard sourceChoice == targetChoice else { throw RNNError("--shared-vocab needs one tokenizer for both sides") }
            sourceTokenizer = try TranslationTokens.make(sourceChoice, texts: trainingSources + trainingTargets,
                                                         vocabularySize: options.vocabularySize, minFrequency: options.minFrequency)
            targetTokenizer = sourceTokenizer
        } else {
            sourceTokenizer = try TranslationTokens.make(sourceChoice, texts: trainingSources, vocabularySize: options.vocabularySize,
                                                         minFrequency: options.minFrequency)
            targetTokenizer = try TranslationTokens.make(targetChoice, texts: trainingTargets, vocabularySize: options.vocabularySize,
                                                         minFrequency: options.minFrequency)
        }
        let (startId, endId) = try TranslationTokens.ids(in: targetTokenizer, name: "the target tokenizer (\(targetChoice))")

        var config = Seq2SeqConfig(sourceVocabularySize: sourceTokenizer.vocabSize, targetVocabularySize: targetTokenizer.vocabSize,
                                   embeddingDimension: options.embeddingDimension, cell: options.cell, encoderHiddenSize: options.hiddenSize,
                                   encoderLayers: options.layers, bidirectional: options.bidirectional, decoderHiddenSize: options.hiddenSize,
                                   decoderLayers: options.layers, attention: options.attention, attentionSize: options.attentionSize,
                                   dropout: options.dropout, sourcePaddingId: sourceTokenizer.paddingId, targetPaddingId: targetTokenizer.paddingId,
                                   startId: startId, endId: endId, maxSourceLength: options.maxLength, maxTargetLength: options.maxLength)
        config.encoder.dropout = options.layers > 1 ? options.dropout : 0
        let model = try Seq2Seq(config, generator: &generator)
        let untrainedConfigFile = ModelConfigFile(task: TrainedTranslator.task, model: config, writtenBy: writtenBy)
        let translator = TrainedTranslator(model: model, sourceTokenizer: sourceTokenizer, targetTokenizer: targetTokenizer, configFile: untrainedConfigFile)

        // Encode once; errors name the file and line of the offending sentence.
        let sources = try trainingIndices.map { try translator.encodeSource(corpus.sources[$0], location: corpus.location($0)) }
        let targets = try trainingIndices.map { try translator.encodeTarget(corpus.targets[$0], location: corpus.location($0, target: true)) }
        let sourceTokens = sources.reduce(0) { $0 + $1.count }, targetTokens = targets.reduce(0) { $0 + $1.count }
        var fingerprint = Fingerprint()
        fingerprint.add(String(describing: options))
        for (source, target) in zip(sources, targets) {
            fingerprint.add(source)
            fingerprint.add(target)
        }
        try collective.checkStart(fingerprint: fingerprint.value, items: sources.count, itemName: "training pairs")
        log("read \(corpus.count) pairs from \(corpus.sourcePath)\(corpus.targetPath.map { " and " + $0 } ?? ""); \(trainingIndices.count) for training "
            + "(\(sourceTokens) source, \(targetTokens) target tokens), \(validationCorpus?.count ?? 0) for validation; vocabularies "
            + "\(sourceTokenizer.vocabSize) source, \(targetTokenizer.vocabSize) target tokens (\(String(format: "%.1f", elapsed())) s)")

        var validationPairs: (sources: [[Int32]], targets: [[Int32]])?
        if let validationCorpus {
            validationPairs = (try validationCorpus.sources.indices.map { try translator.encodeSource(validationCorpus.sources[$0], location: validationCorpus.location($0)) },
                               try validationCorpus.targets.indices.map { try translator.encodeTarget(validationCorpus.targets[$0], location: validationCorpus.location($0, target: true)) })
        }
        // Distributed: every rank draws the same global batches and keeps its rows r, r+N, … of each.
        let batchesOf = { (generator: inout SeededGenerator) throws -> [Seq2SeqBatch?] in
            let order = makeBatches(lengths: sources.map(\.count), batchSize: options.batchSize, shuffle: true, bucketing: true, generator: &generator)
            return try order.map { global in
                let indices = collective.shardRows(count: global.count).map { global[$0] }
                guard !indices.isEmpty else { return nil }
                return try Seq2SeqBatch(sources: indices.map { sources[$0] }, targets: indices.map { targets[$0] }, config: config, indices: indices)
            }
        }
        let greedy = BeamSearchOptions(beamSize: 1, lengthPenalty: 0, batchSize: max(options.batchSize, 64))
        // Validation: corpus BLEU is not a sum over sentences, so rank 0 decodes the whole
        // validation set and shares its figures through one all-reduce (the others add zeros).
        let validate: (() throws -> ValidationResult)? = validationCorpus.map { corpus in
            {
                var figures = [0.0, 0.0]
                if collective.isLeader {
                    let (loss, _) = try translator.crossEntropy(sources: validationPairs!.sources, targets: validationPairs!.targets,
                                                                batchSize: options.batchSize)
                    let hypotheses = try model.decode(validationPairs!.sources, options: greedy).map { translator.decodeTarget($0.tokens) }
                    figures = [loss, try BLEU().corpusScore(hypotheses: hypotheses, references: [corpus.targets]).score]
                }
                if collective.isDistributed { figures = try collective.sum(figures) }
                return ValidationResult(loss: figures[0], metrics: ["bleu": figures[1], "perplexity": exp(figures[0])])
            }
        }
        let tokenizerFiles = try TrainedTranslator.tokenizerFiles(sourceTokenizer: sourceTokenizer, targetTokenizer: targetTokenizer,
                                                                  shared: sharedTokenizer)
        let run = try TaskTrainingRun(store: model.store, options: options.training, generator: generator, seed: options.seed,
                                      output: output, config: config, configFile: "seq2seq.json", files: tokenizerFiles,
                                      resume: options.resume, collective: collective, stopRequested: stopRequested, log: log)
        let trainer = run.trainer
        let history = try run.fit(
            batches: batchesOf,
            step: { batch, generator in
                guard options.scheduledSampling > 0 else { return try model.trainStep(batch, generator: &generator) }
                return try model.trainStep(batch, targetInput: try sampledInputs(batch, model: model, probability: options.scheduledSampling,
                                                                                 generator: &generator),
                                           generator: &generator)
            },
            validate: validate, monitor: validate == nil ? "loss" : "bleu", higherIsBetter: validate != nil, onEvent: onEvent)
        let trainingSeconds = elapsed()
        let report = collective.isLeader ? try validationCorpus.map { try translator.evaluate($0, options: options.beam) } : nil
        let seconds = elapsed()

        let trainingRecord: [String: String] = [
            "source": corpus.sourcePath, "target": corpus.targetPath ?? "(tsv)",
            "source_tokenizer": sourceChoice.description, "target_tokenizer": targetChoice.description,
            "shared_vocabulary": "\(options.sharedVocabulary)", "min_frequency": "\(options.minFrequency)",
            "batch_size": "\(options.batchSize)", "epochs": "\(options.training.epochs)", "optimizer": options.training.optimizer.rawValue,
            "learning_rate": "\(options.training.learningRate)", "schedule": options.training.schedule.rawValue, "seed": "\(options.seed)",
            "scheduled_sampling": "\(options.scheduledSampling)", "clip_norm": options.training.clipNorm.map { "\($0)" } ?? "none",
            "training_pairs": "\(trainingIndices.count)", "validation_pairs": "\(validationCorpus?.count ?? 0)",
            "best_epoch": trainer.best.map { "\($0.epoch)" } ?? "last",
        ]
        var metrics: [String: Double] = ["training_seconds": trainingSeconds]
        if let report {
            metrics["validation_bleu"] = report.bleu.score
            metrics["validation_cross_entropy"] = report.crossEntropy
            metrics["validation_beam"] = Double(options.beam.beamSize)
        }
        let file = ModelConfigFile(task: TrainedTranslator.task, model: config, training: trainingRecord, metrics: metrics, writtenBy: writtenBy)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var extraFiles = tokenizerFiles
        extraFiles["history.json"] = try encoder.encode(history)
        extraFiles["history.csv"] = Data(trainer.historyCSV().utf8)
        if collective.isLeader { try ModelDirectory.save(file, store: model.store, extraFiles: extraFiles, to: output) }
        return TranslationTrainingResult(
            translator: TrainedTranslator(model: model, sourceTokenizer: sourceTokenizer, targetTokenizer: targetTokenizer, configFile: file),
            history: history, validation: report, trainingPairs: trainingIndices.count, validationPairs: validationCorpus?.count ?? 0,
            seconds: seconds, summary: model.summary())
    }

    /// Scheduled sampling: decoder inputs where each token after the start is, with `probability`,
    /// the model's own arg-max prediction for that position (from a teacher-forced pass without
    /// dropout) instead of the reference token.
    static func sampledInputs(_ batch: Seq2SeqBatch, model: Seq2Seq, probability: Double,
                              generator: inout SeededGenerator) throws -> [Int32] {
        let predictions = try model.evaluate(batch).predictions
        var inputs = batch.targetInput
        let B = batch.size
        for b in 0..<B {
            for t in 1..<batch.targetLengths[b] where generator.nextUnitDouble() < probability {
                inputs[t * B + b] = predictions[(t - 1) * B + b]
            }
        }
        return inputs
    }
}
