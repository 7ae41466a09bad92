import Foundation
import RNN
import RNNCore
import RNNText

/// One head of a multi-step model on held-out tokens: head k predicts the token k steps ahead.
public struct HeadEvaluation: Sendable, Codable, Equatable {
    /// 1 … K.
    public var head: Int
    /// Mean −log P(token t+k) in nats.
    public var crossEntropy: Double
    /// Fraction of targets that are the head's arg-max.
    public var accuracy: Double
    public var tokens: Int
}

/// A batch of a multi-step run: teacher-forcing tokens and, when conditioned, each row's label id.
struct ConditionedBatch {
    var batch: LanguageModelBatch
    var conditions: [Int]?
    /// Distributed runs: the whole global batch's valid targets per head (see `multiStepStep`).
    var headCounts: [Int]? = nil
}

/// The tokens of a multi-step run and each document's condition (label ids; empty when unconditioned).
struct MultiStepData {
    let data: LanguageModelData
    let conditionNames: [String]?
    let trainingConditions: [Int]
    let validationConditions: [Int]

    /// Reads the source. With a condition column: labelled documents, a validation split
    /// stratified by label and carved with the seed, the tokenizer trained on the training part.
    static func prepare(source: TextSource, options: LanguageModelTrainingOptions,
                        generator: inout SeededGenerator) throws -> MultiStepData {
        guard let column = options.conditionColumn else {
            return MultiStepData(data: try LanguageModelData.prepare(source: source, options: options, generator: &generator),
                                 conditionNames: nil, trainingConditions: [], validationConditions: [])
        }
        var labelled = source
        labelled.labelColumn = column
        let (texts, labels, names) = try labelled.labelledExamples()
        let split = try validationSplit(count: texts.count, fraction: options.validationSplit, labels: labels, generator: &generator)
        let tokenizer = try options.tokenizer.make(texts: split.training.map { texts[$0] }, vocabularySize: options.vocabularySize,
                                                   minFrequency: options.minFrequency, extraSpecialTokens: ["<eos>"])
        let (endToken, endId) = try LanguageModelData.endTokenOf(tokenizer, name: options.tokenizer.description)
        func encode(_ index: Int) -> [Int32] {
            Array(tokenizer.encode(texts[index], addSpecialTokens: false).ids.prefix(options.maxLength).map { Int32($0) })
        }
        let data = LanguageModelData(tokenizer: tokenizer, endToken: endToken, endId: endId, paddingId: Int32(tokenizer.paddingId),
                                     tokens: .documents(training: split.training.map(encode), validation: split.validation.map(encode)))
        return MultiStepData(data: data, conditionNames: names, trainingConditions: split.training.map { labels[$0] },
                             validationConditions: split.validation.map { labels[$0] })
    }

    func batches(validation: Bool, batchSize: Int, window: Int, generator: inout SeededGenerator) throws -> [ConditionedBatch] {
        guard conditionNames != nil, case let .documents(training, held) = data.tokens else {
            let plain = validation ? try data.validationBatches(batchSize: batchSize, window: window)
                                   : try data.trainingBatches(batchSize: batchSize, window: window, generator: &generator)
            return plain.map { ConditionedBatch(batch: $0, conditions: nil) }
        }
        let conditions = validation ? validationConditions : trainingConditions
        return try LanguageModelData.indexedDocumentBatches(validation ? held : training, batchSize: batchSize, endId: data.endId,
                                                            paddingId: data.paddingId, shuffle: !validation, generator: &generator)
            .map { ConditionedBatch(batch: $0.batch, conditions: $0.rows.map { conditions[$0] }) }
    }
}

/// Per-head cross-entropy and accuracy of a multi-step model over batches (evaluation mode).
func evaluateHeads(_ model: MultiStepLanguageModel, batches: [ConditionedBatch]) throws -> [HeadEvaluation] {
    var generator = SeededGenerator(seed: 0)
    model.base.recurrent.resetState()
    var loss = [Double](repeating: 0, count: model.config.heads)
    var correct = [Int](repeating: 0, count: model.config.heads), count = correct
    for item in batches {
        let batch = item.batch
        let logits = try model.logits(tokens: batch.inputs, steps: batch.steps, batch: batch.size, lengths: batch.lengths,
                                      conditions: item.conditions, training: false, generator: &generator)
        let sums = try model.headLosses(logits: logits, targets: batch.targets, steps: batch.steps, batch: batch.size,
                                        withGradients: false).sums
        for (head, sum) in sums.enumerated() {
            loss[head] += sum.lossSum
            correct[head] += sum.correctCount
            count[head] += sum.validCount
        }
    }
    return (0..<model.config.heads).map { head in
        HeadEvaluation(head: head + 1, crossEntropy: loss[head] / Double(max(count[head], 1)),
                       accuracy: Double(correct[head]) / Double(max(count[head], 1)), tokens: count[head])
    }
}

extension LanguageModelTraining {
    /// `train` for `--predict-ahead K` and/or `--condition-column`: a `MultiStepLanguageModel`
    /// (untied heads) trained on the mean of the heads' losses; validation monitors head 1's
    /// cross-entropy, so its perplexity compares with the one-head model's.
    static func trainMultiStep(source: TextSource, options: LanguageModelTrainingOptions, output: String,
                               log: (String) -> Void, onEvent: (TrainingEvent) -> Void, writtenBy: String,
                               start: UInt64, collective: any Collective,
                               stopRequested: @escaping () -> Bool) throws -> LanguageModelTrainingResult {
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        var generator = SeededGenerator(seed: options.seed)
        let prepared = try MultiStepData.prepare(source: source, options: options, generator: &generator)
        let data = prepared.data
        var fingerprint = Fingerprint()
        fingerprint.add(String(describing: options))
        fingerprint.add(data.fingerprint)
        fingerprint.add(prepared.trainingConditions + prepared.validationConditions)
        let items = data.distributedItems(batchSize: options.batchSize)
        try collective.checkStart(fingerprint: fingerprint.value, items: items.count, itemName: items.name)
        let V = data.tokenizer.vocabSize
        log("read \(data.describe) from \(source.path); tokenizer \(options.tokenizer): \(V) tokens; "
            + (prepared.conditionNames.map { "conditions \($0.joined(separator: ", ")); " } ?? "")
            + "\(options.predictAhead) head(s), embeddings untied (\(elapsed().formatted1) s)")
        let bigram = try KneserNeyBigram(pairs: data.trainingPairs, vocabularySize: V)
        let bigramValidation = data.validationTokenCount > 0 ? data.evaluate(bigram) : nil

        var recurrent = RecurrentConfig(cell: options.cell, inputSize: options.embeddingDimension, hiddenSize: options.hiddenSize,
                                        layers: options.layers, dropout: options.layers > 1 ? options.dropout : 0, stateful: options.corpus)
        if options.cell == .lstm { recurrent.forgetBias = 1 }
        let network = LanguageModelConfig(vocabularySize: V, embeddingDimension: options.embeddingDimension, recurrent: recurrent,
                                          dropout: options.dropout, tieEmbeddings: false)
        let modelConfig = MultiStepLanguageModelConfig(base: network, heads: options.predictAhead,
                                                       conditionCount: prepared.conditionNames?.count ?? 0)
        let model = try MultiStepLanguageModel(modelConfig, generator: &generator)
        var saved = modelConfig
        saved.base.recurrent.stateful = false  // generation and evaluation pass their state explicitly
        let config = LanguageModellingConfig(model: .rnn, vocabularySize: V, endToken: data.endToken, endTokenId: Int(data.endId),
                                             paddingId: Int(data.paddingId), maxLength: options.maxLength, corpus: options.corpus,
                                             network: saved.base, bigram: nil, tokenizerFingerprint: vocabularyFingerprint(of: data.tokenizer),
                                             multiStep: saved, conditions: prepared.conditionNames)
        let run = try TaskTrainingRun(store: model.store, options: options.training, generator: generator, seed: options.seed,
                                      output: output, config: config, configFile: "lm.json",
                                      files: ["tokenizer.json": try data.tokenizer.jsonData()], resume: options.resume,
                                      collective: collective, stopRequested: stopRequested, log: log)
        let trainer = run.trainer
        var noShuffle = SeededGenerator(seed: 0)
        let validationBatches = try prepared.batches(validation: true, batchSize: options.batchSize, window: options.bptt,
                                                     generator: &noShuffle)
        // Distributed: each rank scores its rows of every validation batch; the sums are reduced.
        let validationShard = try run.validationShard(validationBatches, rows: \.batch.size) { $0.selecting(rows: $1, heads: options.predictAhead) }
        let evaluate = { () throws -> [HeadEvaluation] in
            guard collective.isDistributed else { return try evaluateHeads(model, batches: validationBatches) }
            let local = validationShard.isEmpty
                ? (1...options.predictAhead).map { HeadEvaluation(head: $0, crossEntropy: 0, accuracy: 0, tokens: 0) }
                : try evaluateHeads(model, batches: validationShard)
            return try collective.reduceHeads(local)
        }
        var heads: [HeadEvaluation] = []
        let history = try run.fit(
            batches: { generator in
                model.base.recurrent.resetState()
                return try prepared.batches(validation: false, batchSize: options.batchSize, window: options.bptt, generator: &generator)
            },
            rows: \.batch.size, select: { $0.selecting(rows: $1, heads: options.predictAhead) },
            step: { item, generator in
                guard !collective.isDistributed else { return try multiStepStep(model, item, generator: &generator) }
                return try model.trainStep(inputs: item.batch.inputs, targets: item.batch.targets, steps: item.batch.steps,
                                           batch: item.batch.size, lengths: item.batch.lengths, conditions: item.conditions,
                                           generator: &generator)
            },
            validate: validationBatches.isEmpty ? nil : {
                let result = try evaluate()
                var metrics = ["perplexity": Metrics.perplexity(crossEntropy: result[0].crossEntropy)]
                for head in result { metrics["head\(head.head)_accuracy"] = head.accuracy }
                return ValidationResult(loss: result[0].crossEntropy, metrics: metrics)
            },
            monitor: "loss", higherIsBetter: false, onEvent: onEvent)
        if !validationBatches.isEmpty { heads = try evaluate() }
        let validation = heads.first.map { LanguageModelEvaluation(crossEntropy: $0.crossEntropy, tokens: $0.tokens) }

        var record: [String: String] = [
            "data": source.path, "model": "rnn", "tokenizer": options.tokenizer.description,
            "validation_split": "\(options.validationSplit)", "seed": "\(options.seed)", "corpus": "\(options.corpus)",
            "max_length": "\(options.maxLength)", "training_tokens": "\(data.trainingTokenCount)",
            "validation_tokens": "\(data.validationTokenCount)", "predict_ahead": "\(options.predictAhead)",
            "batch_size": "\(options.batchSize)", "bptt": "\(options.bptt)", "epochs": "\(options.training.epochs)",
            "optimizer": options.training.optimizer.rawValue, "learning_rate": "\(options.training.learningRate)",
            "best_epoch": trainer.best.map { "\($0.epoch)" } ?? "last",
        ]
        if let text = source.textColumn { record["text_column"] = text }
        if let column = options.conditionColumn { record["condition_column"] = column }
        var metrics: [String: Double] = [:]
        if let bigramValidation { metrics["bigram_validation_perplexity"] = bigramValidation.perplexity }
        if let validation { metrics.merge(validation.metrics.mapKeys { "validation_" + $0 }) { $1 } }
        for head in heads {
            metrics["validation_head\(head.head)_cross_entropy"] = head.crossEntropy
            metrics["validation_head\(head.head)_accuracy"] = head.accuracy
        }
        let seconds = elapsed()
        metrics["training_seconds"] = seconds
        let file = ModelConfigFile(task: "lm", model: config, training: record, metrics: metrics, writtenBy: writtenBy)
        try run.saveModel(file, store: model.store, history: history, files: [ModelDirectory.tokenizerFile: try data.tokenizer.jsonData()])
        return LanguageModelTrainingResult(model: .rnn, history: history, validation: validation, bigramValidation: bigramValidation,
                                           trainingTokens: data.trainingTokenCount, validationTokens: data.validationTokenCount,
                                           vocabularySize: V, seconds: seconds, summary: model.summary(), heads: heads)
    }
}
