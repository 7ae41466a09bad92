import Foundation
import RNN
import RNNCore
import RNNText

/// Everything `rnn classify train` takes besides the data: model shape, text handling, training.
public struct ClassifierTrainingOptions: Sendable {
    public var cell: CellType = .gru
    public var layers = 1
    public var hiddenSize = 128
    public var bidirectional = true
    public var pooling: PoolingMode = .mean
    public var embeddingDimension = 128
    public var tokenizer: TokenizerChoice = .word
    public var vocabularySize = 20_000
    public var minFrequency = 2
    /// Keep at most this many tokens of each text.
    public var maxLength = 400
    public var truncation: TruncationSide = .tail
    public var dropout: Float = 0.3
    public var batchSize = 64
    public var validationSplit = 0.1
    public var seed: UInt64 = 1
    /// GloVe / word2vec text file to initialise the embedding.
    public var wordVectors: String?
    public var freezeEmbeddings = false
    /// A masked language model directory (`rnn lm train --objective masked`) whose embedding and
    /// recurrent encoder initialise the classifier's; its tokenizer replaces `tokenizer`.
    public var initEncoder: String?
    /// Epochs of masked-token pretraining on the training texts before fine-tuning: `.automatic`
    /// (one epoch when the training texts average at least 64 tokens, else none; see
    /// `ClassificationPretraining.decide`; off with `initEncoder` or `wordVectors`) or `.epochs(N)`
    /// (0: none). Skipped with `initEncoder`; on `resume` continued from its own checkpoint when the run
    /// stopped inside it, else skipped (the classifier's checkpoint holds the pretrained weights).
    public var pretrainEpochs: PretrainingChoice = .automatic
    public var pretrainLearningRate: Float = 3e-3
    /// Dropout of the masked model in the pretraining stage (0.1, as for `rnn lm train --objective masked`).
    public var pretrainDropout: Float = 0.1
    /// Continue from `OUT/checkpoint` (written after every epoch) instead of starting afresh; the
    /// data, seed and options must be those of the interrupted run (`--epochs` may be larger).
    public var resume = false
    public var training = TrainingOptions()

    public init() {
        training.epochs = 3
        training.learningRate = 2e-3
        training.clipNorm = 5
    }
}

/// A trained classifier with its tokenizer: what a model directory holds, ready to use.
public final class TrainedClassifier {
    public let model: TextClassifier
    public let tokenizer: Tokenizer
    public let configFile: ModelConfigFile<ClassifierConfig>
    public let maxLength: Int
    public let truncation: TruncationSide

    init(model: TextClassifier, tokenizer: Tokenizer, configFile: ModelConfigFile<ClassifierConfig>) {
        self.model = model
        self.tokenizer = tokenizer
        self.configFile = configFile
        self.maxLength = Int(configFile.training["max_length"] ?? "") ?? 400
        self.truncation = TruncationSide(rawValue: configFile.training["truncation"] ?? "") ?? .tail
    }

    public var labels: [String] { model.config.labels }

    /// Loads a classifier model directory (`config.json`, `model.safetensors`, `tokenizer.json`).
    public static func load(from path: String) throws -> TrainedClassifier {
        let file = try ModelDirectory.config(at: path, task: "classify", as: ClassifierConfig.self)
        _ = try ModelDirectory.file(ModelDirectory.tokenizerFile, in: path)  // a clear error when missing
        let tokenizer = try Tokenizer(contentsOf: path + "/" + ModelDirectory.tokenizerFile)
        guard tokenizer.vocabSize <= file.model.vocabularySize else {
            throw RNNError.invalidFile(path, "tokenizer.json has \(tokenizer.vocabSize) tokens but the model only \(file.model.vocabularySize): they do not belong together")
        }
        var generator = SeededGenerator(seed: 0)
        let model = try TextClassifier(file.model, generator: &generator)
        try ModelDirectory.loadWeights(into: model.store, from: path)
        return TrainedClassifier(model: model, tokenizer: tokenizer, configFile: file)
    }

    /// Token ids of a text, truncated as in training; never empty (an empty text is one `[UNK]`).
    public func encode(_ text: String) -> [Int32] {
        let ids = truncate(tokenizer.encode(text).ids, maxLength: maxLength, keep: truncation)
        if ids.isEmpty { return [Int32(tokenizer.tokenToId("[UNK]") ?? 1)] }
        return ids.map { Int32($0) }
    }

    /// Label and its probability for each text, in batches.
    public func predict(_ texts: [String], batchSize: Int = 64) throws -> [(label: String, probability: Double, probabilities: [Double])] {
        var results: [(String, Double, [Double])] = []
        for start in stride(from: 0, to: texts.count, by: batchSize) {
            let part = texts[start..<min(start + batchSize, texts.count)]
            let batch = try TokenBatch(sequences: part.map(encode), padding: Int32(model.config.paddingId))
            for probabilities in try model.probabilities(batch) {
                let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
                results.append((labels[best], Double(probabilities[best]), probabilities.map(Double.init)))
            }
        }
        return results
    }

    /// Metrics on labelled texts; `labelNames[i]` must be one of the model's labels.
    public func evaluate(texts: [String], labelNames: [String], batchSize: Int = 64) throws -> ClassificationReport {
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        let labelIndices = try labelNames.map { name -> Int in
            guard let id = index[name] else {
                throw RNNError("label '\(name)' is not one the model knows (\(labels.joined(separator: ", ")))")
            }
            return id
        }
        let sequences = texts.map(encode)
        var generator = SeededGenerator(seed: 0)
        let order = makeBatches(lengths: sequences.map(\.count), batchSize: batchSize, shuffle: false, bucketing: true, generator: &generator)
        let batches = try order.map { indices in
            (try TokenBatch(sequences: indices.map { sequences[$0] }, padding: Int32(model.config.paddingId), indices: indices),
             indices.map { labelIndices[$0] })
        }
        let (loss, confusion) = try model.evaluate(batches)
        return ClassificationReport(labels: labels, confusion: confusion, loss: loss)
    }
}

/// Accuracy, precision, recall, F1 and the confusion matrix of a labelled evaluation.
public struct ClassificationReport: Sendable {
    public var labels: [String]
    public var confusion: ConfusionMatrix
    public var loss: Double

    /// For two classes the positive class is the second label (e.g. `pos` of neg/pos); for more,
    /// precision, recall and F1 are macro averages.
    public var precision: Double { labels.count == 2 ? confusion.precision(of: 1) : confusion.macroPrecision }
    public var recall: Double { labels.count == 2 ? confusion.recall(of: 1) : confusion.macroRecall }
    public var f1: Double { labels.count == 2 ? confusion.f1(of: 1) : confusion.macroF1 }
    public var accuracy: Double { confusion.accuracy }
    public var examples: Int { confusion.total }

    public var metrics: [String: Double] {
        ["accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1, "loss": loss]
    }
}

/// What training produced, besides the saved directory.
public struct ClassifierTrainingResult: Sendable {
    public var history: [EpochRecord]
    public var validation: ClassificationReport?
    public var trainingExamples: Int
    public var validationExamples: Int
    public var seconds: Double
    public var summary: ModelSummary
}

/// `rnn classify train`: read, tokenize, split, train, validate, save.
public enum ClassificationTraining {
    public static func train(source: TextSource, options: ClassifierTrainingOptions, output: String,
                             log: (String) -> Void = { _ in }, onEvent: (TrainingEvent) -> Void = { _ in },
                             writtenBy: String, collective: any Collective = SingleProcessCollective(),
                             stopRequested: @escaping () -> Bool = { false }) throws -> ClassifierTrainingResult {
        let log = collective.isLeader ? log : { _ in }, onEvent = collective.isLeader ? onEvent : { _ in }
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        try options.training.validate()
        guard options.batchSize >= 1 else { throw RNNError("--batch-size must be at least 1") }
        guard options.maxLength >= 1 else { throw RNNError("--max-length must be at least 1") }
        guard options.vocabularySize >= 4 else { throw RNNError("--vocab-size must be at least 4") }
        if let epochs = options.pretrainEpochs.fixedEpochs, epochs < 0 {
            throw RNNError("--pretrain-epochs must be auto or 0 or more, got \(epochs)")
        }
        guard options.pretrainDropout >= 0, options.pretrainDropout < 1 else {
            throw RNNError("--pretrain-dropout must be in [0, 1), got \(options.pretrainDropout)")
        }
        if collective.isLeader { try ModelDirectory.checkWritable(output) }  // rank 0 alone writes the model

        let (texts, labels, classNames) = try source.labelledExamples()
        var generator = SeededGenerator(seed: options.seed)
        let split = try validationSplit(count: texts.count, fraction: options.validationSplit, labels: labels, generator: &generator)
        var fingerprint = Fingerprint()
        fingerprint.add(String(describing: options))
        for text in texts { fingerprint.add(text) }
        fingerprint.add(labels)
        try collective.checkStart(fingerprint: fingerprint.value, items: split.training.count, itemName: "training examples")
        log("read \(texts.count) examples in \(classNames.count) classes (\(classNames.joined(separator: ", "))) from \(source.path); "
            + "\(split.training.count) for training, \(split.validation.count) for validation")

        if options.initEncoder != nil, options.wordVectors != nil {
            throw RNNError("--init-encoder and --glove both initialise the embedding; use one of them")
        }
        let pretrained = try options.initEncoder.map(TrainedMaskedLanguageModel.load(from:))
        // --resume continues the classifier's checkpoint or, for a run stopped in the masked
        // pretraining stage, that stage's: the tokenizer and the decision come from there.
        let pretrainingFolder = ClassificationPretraining.checkpointDirectory(in: output)
        let resumesPretraining = options.resume && Checkpoint.directory(in: output) == nil
            && Checkpoint.directory(in: pretrainingFolder) != nil
        let resumeFrom = resumesPretraining ? pretrainingFolder : output
        var tokenizer = options.resume
            ? try Tokenizer(contentsOf: Checkpoint.requireDirectory(in: resumeFrom) + "/tokenizer.json")
            : try pretrained?.tokenizer ?? options.tokenizer.make(texts: split.training.map { texts[$0] }, vocabularySize: options.vocabularySize,
                                                               minFrequency: options.minFrequency, extraSpecialTokens: ClassificationPretraining.firstTokenizerExtraTokens(for: options))
        var sequences = try encodeAll(texts, tokenizer: tokenizer, maxLength: options.maxLength, truncation: options.truncation)
        // A resumed run reports the decision of the run it continues (its checkpoint records it).
        let recordedDecision = options.resume
            ? (try? Checkpoint.file(PretrainingDecision.checkpointFile, in: resumeFrom)).flatMap { try? JSONDecoder().decode(PretrainingDecision.self, from: $0) }
            : nil
        let pretraining = recordedDecision ?? ClassificationPretraining.decide(options, trainingSequences: split.training.map { sequences[$0] })
        let maskToken = ClassificationPretraining.extraTokens(forEpochs: pretraining.epochs, options: options)
        if !options.resume, pretrained == nil, options.pretrainEpochs.fixedEpochs == nil,
           ClassificationPretraining.firstTokenizerExtraTokens(for: options) != maskToken {
            // auto trained its first tokenizer as if pretraining, and the rule did not fire: the
            // tokenizer and ids --pretrain-epochs 0 would have made.
            tokenizer = try options.tokenizer.make(texts: split.training.map { texts[$0] }, vocabularySize: options.vocabularySize,
                                                   minFrequency: options.minFrequency, extraSpecialTokens: maskToken)
            sequences = try encodeAll(texts, tokenizer: tokenizer, maxLength: options.maxLength, truncation: options.truncation)
        }
        let meanLength = Double(sequences.reduce(0) { $0 + $1.count }) / Double(max(sequences.count, 1))
        log("tokenizer \(options.tokenizer): \(tokenizer.vocabSize) tokens; mean length \(String(format: "%.0f", meanLength)) tokens after truncation to \(options.maxLength) (\(elapsed().formatted1) s)")
        log(pretraining.logLine + (recordedDecision != nil ? " (as recorded in the checkpoint)" : ""))

        var recurrent = RecurrentConfig(cell: options.cell, inputSize: options.embeddingDimension, hiddenSize: options.hiddenSize,
                                        layers: options.layers, bidirectional: options.bidirectional,
                                        dropout: options.layers > 1 ? options.dropout : 0)
        if options.cell == .lstm { recurrent.forgetBias = 1 }
        let config = ClassifierConfig(vocabularySize: tokenizer.vocabSize, embeddingDimension: options.embeddingDimension,
                                      paddingId: tokenizer.paddingId, recurrent: recurrent, pooling: options.pooling,
                                      dropout: options.dropout, labels: classNames)
        let model = try TextClassifier(config, generator: &generator)
        if let path = options.wordVectors {
            let coverage = try initializeEmbedding(model.embedding, tokenizer: tokenizer, vectorsPath: path)
            log("word vectors \(path): \(String(format: "%.1f", coverage * 100))% of the vocabulary covered")
        }
        if let pretrained, !options.resume {
            let copied = try initializeEncoder(of: model, from: pretrained.model, path: options.initEncoder!)
            log("encoder \(options.initEncoder!): embedding and \(copied - 1) recurrent tensors copied; its tokenizer (\(tokenizer.vocabSize) tokens) is used")
        }
        let checkpointFiles = [ModelDirectory.tokenizerFile: try tokenizer.jsonData(),
                               PretrainingDecision.checkpointFile: try JSONEncoder().encode(pretraining)]
        let runsPretraining = pretraining.epochs > 0 && pretrained == nil && (!options.resume || resumesPretraining)
        if runsPretraining {
            _ = try ClassificationPretraining.pretrain(model, sequences: split.training.map { sequences[$0] }, tokenizer: tokenizer,
                                                       settings: .init(epochs: pretraining.epochs, learningRate: options.pretrainLearningRate,
                                                                       dropout: options.pretrainDropout),
                                                       options: options, generator: &generator, output: output, resume: resumesPretraining,
                                                       checkpointFiles: checkpointFiles, collective: collective,
                                                       stopRequested: stopRequested, log: log)
        }
        model.embedding.isFrozen = options.freezeEmbeddings

        let batchesOf = { (indices: [Int], shuffle: Bool, generator: inout SeededGenerator) throws -> [(batch: TokenBatch, labels: [Int])] in
            let order = makeBatches(lengths: indices.map { sequences[$0].count }, batchSize: options.batchSize, shuffle: shuffle,
                                    bucketing: true, generator: &generator)
            return try order.map { positions in
                let examples = positions.map { indices[$0] }
                return (try TokenBatch(sequences: examples.map { sequences[$0] }, padding: Int32(config.paddingId), indices: examples),
                        examples.map { labels[$0] })
            }
        }
        let validationBatches = try batchesOf(split.validation, false, &generator)
        let run = try TaskTrainingRun(store: model.store, options: options.training, generator: generator, seed: options.seed,
                                      output: output, config: config, configFile: "classifier.json",
                                      files: checkpointFiles, resume: options.resume && !resumesPretraining,
                                      collective: collective, stopRequested: stopRequested, describesStep: !runsPretraining, log: log)
        let trainer = run.trainer
        let selectRows = { (item: (batch: TokenBatch, labels: [Int]), rows: [Int]) throws -> (batch: TokenBatch, labels: [Int]) in
            (try item.batch.selecting(rows: rows), rows.map { item.labels[$0] })
        }
        let validationShard = try run.validationShard(validationBatches, rows: { $0.batch.size }, select: selectRows)
        let history = try run.fit(
            batches: { generator in try batchesOf(split.training, true, &generator) },
            rows: { $0.batch.size }, select: selectRows,
            step: { item, generator in try model.trainStep(item.batch, labels: item.labels, generator: &generator) },
            validate: validationBatches.isEmpty ? nil : {
                guard collective.isDistributed else {
                    let (loss, confusion) = try model.evaluate(validationBatches)
                    return ValidationResult(loss: loss, metrics: ["accuracy": confusion.accuracy])
                }
                // Each rank scores its rows; loss sums, counts and correct predictions are summed.
                let (loss, confusion) = validationShard.isEmpty ? (0, try ConfusionMatrix(classCount: classNames.count))
                    : try model.evaluate(validationShard)
                let totals = try run.sumOverRanks([loss * Double(confusion.total), Double(confusion.total), Double(confusion.correct)])
                return ValidationResult(loss: totals[0] / max(totals[1], 1), metrics: ["accuracy": totals[2] / max(totals[1], 1)])
            },
            monitor: "accuracy", higherIsBetter: true, onEvent: onEvent)

        var report: ClassificationReport?
        if !validationBatches.isEmpty && collective.isLeader {
            let (loss, confusion) = try model.evaluate(validationBatches)
            report = ClassificationReport(labels: classNames, confusion: confusion, loss: loss)
        }
        let seconds = elapsed()
        let trainingRecord: [String: String] = [
            "data": source.path, "tokenizer": options.tokenizer.description, "max_length": "\(options.maxLength)",
            "truncation": options.truncation.rawValue, "batch_size": "\(options.batchSize)", "epochs": "\(options.training.epochs)",
            "optimizer": options.training.optimizer.rawValue, "learning_rate": "\(options.training.learningRate)",
            "validation_split": "\(options.validationSplit)", "seed": "\(options.seed)",
            "clip_norm": options.training.clipNorm.map { "\($0)" } ?? "none",
            "training_examples": "\(split.training.count)", "validation_examples": "\(split.validation.count)",
            "best_epoch": trainer.best.map { "\($0.epoch)" } ?? "last", "pretrain_epochs": "\(pretraining.epochs)",
            "pretraining": pretraining.mode + ": " + pretraining.reason,
        ].merging(options.initEncoder.map { ["init_encoder": $0] } ?? [:]) { $1 }
        var metrics = report.map { $0.metrics.mapKeys { "validation_" + $0 } } ?? [:]
        metrics["training_seconds"] = seconds
        let file = ModelConfigFile(task: "classify", model: config, training: trainingRecord, metrics: metrics, writtenBy: writtenBy)
        try run.saveModel(file, store: model.store, history: history, files: [ModelDirectory.tokenizerFile: try tokenizer.jsonData()])
        // The stage's checkpoint is not needed once the classifier is saved (absent without the stage).
        if collective.isLeader, FileManager.default.fileExists(atPath: pretrainingFolder) {
            do { try FileManager.default.removeItem(atPath: pretrainingFolder) } catch {
                log("note: the model is saved, but its pretraining checkpoint \(pretrainingFolder) could not be removed (\(error.localizedDescription))")
            }
        }
        return ClassifierTrainingResult(history: history, validation: report, trainingExamples: split.training.count,
                                        validationExamples: split.validation.count, seconds: seconds, summary: model.summary())
    }

    /// Encodes every text, truncated; an empty result becomes one `[UNK]`.
    static func encodeAll(_ texts: [String], tokenizer: Tokenizer, maxLength: Int, truncation: TruncationSide) throws -> [[Int32]] {
        let unknown = Int32(tokenizer.tokenToId("[UNK]") ?? 1)
        return texts.map { text in
            let ids = truncate(tokenizer.encode(text).ids, maxLength: maxLength, keep: truncation)
            return ids.isEmpty ? [unknown] : ids.map { Int32($0) }
        }
    }

    /// Copies the embedding and every recurrent tensor (`embedding.weight`, `rnn.*`) of a masked
    /// language model into the classifier; returns how many tensors were copied. The shapes must
    /// match exactly; the message says which options to change.
    static func initializeEncoder(of model: TextClassifier, from encoder: MaskedLanguageModel, path: String) throws -> Int {
        let source = encoder.config, target = model.config
        func describe(_ embedding: Int, _ recurrent: RecurrentConfig) -> String {
            "\(recurrent.cell.rawValue), \(recurrent.layers) layer(s) × \(recurrent.hiddenSize) units, "
                + (recurrent.bidirectional ? "bidirectional" : "unidirectional") + ", embedding \(embedding)"
        }
        let sameShape = source.embeddingDimension == target.embeddingDimension && source.vocabularySize == target.vocabularySize
            && source.recurrent.cell == target.recurrent.cell && source.recurrent.hiddenSize == target.recurrent.hiddenSize
            && source.recurrent.layers == target.recurrent.layers && source.recurrent.bidirectional == target.recurrent.bidirectional
            && source.recurrent.bias == target.recurrent.bias && source.recurrent.merge == target.recurrent.merge
        guard sameShape else {
            throw RNNError.invalidFile(path, "the encoder is \(describe(source.embeddingDimension, source.recurrent)); the classifier asks for "
                + "\(describe(target.embeddingDimension, target.recurrent)): pass matching --cell, --layers, --hidden, --embedding-dim")
        }
        var copied = 0
        for parameter in encoder.store.parameters where parameter.name.hasPrefix("embedding.") || parameter.name.hasPrefix("rnn.") {
            guard let destination = model.store.parameter(named: parameter.name) else {
                throw RNNError.invalidFile(path, "the classifier has no parameter \(parameter.name) to initialise")
            }
            try model.store.setValues(destination, from: encoder.store.tensor(parameter))
            copied += 1
        }
        return copied
    }

    /// Copies matching word vectors into the embedding; returns the vocabulary coverage.
    static func initializeEmbedding(_ embedding: Embedding, tokenizer: Tokenizer, vectorsPath: String) throws -> Double {
        let tokens = (0..<tokenizer.vocabSize).map { tokenizer.idToToken($0) ?? "" }
        let vectors = try WordVectorsReader(path: vectorsPath, vocabulary: tokens).read()
        guard vectors.dimension == embedding.dimension else {
            throw RNNError.invalidFile(vectorsPath, "vectors have \(vectors.dimension) dimensions; set --embedding-dim \(vectors.dimension)")
        }
        let match = vectors.match(vocabulary: tokens)
        var rows: [Int: [Float]] = [:]
        let missing = Set(match.missingIDs)
        for id in 0..<tokens.count where !missing.contains(id) && id != embedding.paddingIndex {
            rows[id] = match.vectors[id]
        }
        try embedding.setVectors(rows)
        return match.coverage
    }
}

extension Double {
    var formatted1: String { String(format: "%.1f", self) }
}

extension Dictionary {
    func mapKeys<NewKey: Hashable>(_ transform: (Key) -> NewKey) -> [NewKey: Value] {
        Dictionary<NewKey, Value>(uniqueKeysWithValues: map { (transform($0.key), $0.value) })
    }
}
