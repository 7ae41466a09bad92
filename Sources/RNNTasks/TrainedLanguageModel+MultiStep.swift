import Foundation
import RNN
import RNNCore
import RNNText

extension TrainedLanguageModel {
    /// The labels a conditioned model writes for (empty when unconditioned).
    public var conditions: [String] { config.conditions ?? [] }

    /// Output heads: K for a `--predict-ahead K` model, else 1.
    public var heads: Int { multiStep?.config.heads ?? 1 }

    /// The condition's learned initial state as a stepper history; nil for an unconditioned model.
    /// A conditioned model needs a known label; an unconditioned one takes none.
    func initialHistory(condition: String?) throws -> LanguageModelStepper.History? {
        guard let embedding = multiStep?.condition else {
            if let condition {
                throw RNNError("this model is not conditioned; --condition '\(condition)' needs a model trained with --condition-column")
            }
            return nil
        }
        let known = conditions.joined(separator: ", ")
        guard let condition else { throw RNNError("this model is conditioned on a label: pass --condition (one of \(known))") }
        guard let label = conditions.firstIndex(of: condition) else {
            throw RNNError("unknown condition '\(condition)'; this model knows: \(known)")
        }
        let rows = embedding.rows(label: label)
        return LanguageModelStepper.History(hidden: rows.hidden, cell: rows.cell ?? [])
    }

    /// Cross-entropy and accuracy of every head on new data, read as in training (documents with
    /// the training's condition column when conditioned, or one stream for a corpus model).
    public func evaluateHeads(source: TextSource, batchSize: Int = 32) throws -> [HeadEvaluation] {
        guard let model = multiStep else {
            let result = try evaluate(source: source, batchSize: batchSize)
            return [HeadEvaluation(head: 1, crossEntropy: result.crossEntropy, accuracy: .nan, tokens: result.tokens)]
        }
        var generator = SeededGenerator(seed: 0)
        let batches: [ConditionedBatch]
        if config.corpus {
            let stream = encode(try source.corpus())
            guard stream.count >= 2 else { throw RNNError.invalidFile(source.path, "has fewer than two tokens") }
            let window = Int(configFile.training["bptt"] ?? "") ?? 64
            batches = try LanguageModelData.streamBatches(stream, lanes: batchSize, window: window)
                .map { ConditionedBatch(batch: $0, conditions: nil) }
        } else if model.condition != nil {
            var labelled = source
            labelled.labelColumn = labelled.labelColumn ?? configFile.training["condition_column"]
            let (texts, labels, names) = try labelled.labelledExamples()
            let known = Set(conditions)
            if let unknown = names.first(where: { !known.contains($0) }) {
                throw RNNError.invalidFile(source.path, "condition '\(unknown)' is not one the model knows (\(conditions.joined(separator: ", ")))")
            }
            let ids = labels.map { conditions.firstIndex(of: names[$0])! }
            let documents = texts.map { Array(encode($0).prefix(config.maxLength)) }
            batches = try LanguageModelData.indexedDocumentBatches(documents, batchSize: batchSize, endId: endId,
                                                                   paddingId: Int32(config.paddingId), shuffle: false, generator: &generator)
                .map { ConditionedBatch(batch: $0.batch, conditions: $0.rows.map { ids[$0] }) }
        } else {
            let documents = try source.documents().map { Array(encode($0).prefix(config.maxLength)) }
            batches = try LanguageModelData.documentBatches(documents, batchSize: batchSize, endId: endId,
                                                            paddingId: Int32(config.paddingId), shuffle: false, generator: &generator)
                .map { ConditionedBatch(batch: $0, conditions: nil) }
        }
        guard !batches.isEmpty else { throw RNNError.invalidFile(source.path, "no documents to evaluate") }
        return try RNNTasks.evaluateHeads(model, batches: batches)
    }

    /// Sampling that emits up to `options.tokensPerStep` (n ≤ K) tokens per model step: from the
    /// state after the last fed token, head k (k = 1 … n) samples token t+k from its own
    /// distribution (temperature, top-k, top-p as for one head); the n tokens are emitted (up to an
    /// end token) and then fed back one by one, which gives the state for the next block. The
    /// heads sample independently, so a block can be less coherent than n one-token steps; the
    /// log-probability is the sum of each head's log-probability of its token.
    func sampleSeveralPerStep(context: [Int32], initialHistory: LanguageModelStepper.History?, banned: Set<Int>,
                              options: GenerationOptions) throws -> [(ids: [Int32], stopped: StopReason, logProbability: Double)] {
        guard let model = multiStep else {
            throw RNNError("--tokens-per-step \(options.tokensPerStep) needs a model trained with --predict-ahead")
        }
        guard options.tokensPerStep <= model.config.heads else {
            throw RNNError("--tokens-per-step \(options.tokensPerStep) exceeds the model's \(model.config.heads) heads (--predict-ahead)")
        }
        let stepper = try LanguageModelStepper(model: model.base)
        let V = model.config.base.vocabularySize, H = model.config.base.recurrent.hiddenSize
        let top = (model.config.base.recurrent.layers - 1) * H
        var master = SeededGenerator(seed: options.seed)
        var results: [(ids: [Int32], stopped: StopReason, logProbability: Double)] = []
        for _ in 0..<options.samples {
            var generator = master.split()
            var history = initialHistory ?? stepper.emptyHistory()
            var logits = [Float](repeating: 0, count: V)
            func feed(_ token: Int32) {
                logits.withUnsafeMutableBufferPointer { stepper.step(token, history: &history, logits: $0.baseAddress!) }
            }
            context.forEach(feed)
            var ids: [Int32] = [], logProbability = 0.0, stopped = StopReason.maxTokens
            generation: while ids.count < options.maxTokens {
                var block: [Int32] = []
                for k in 1...min(options.tokensPerStep, options.maxTokens - ids.count) {
                    let headLogits = k == 1 ? logits : aheadLogits(model.aheadHeads[k - 2], store: model.store, state: Array(history.hidden[top..<top + H]))
                    var distribution = logSoftmaxRows(headLogits, columns: V)
                    for id in banned { distribution[id] = -.infinity }
                    let token = Int32(sampleToken(distribution[...], options: options, generator: &generator))
                    ids.append(token)
                    logProbability += Double(distribution[Int(token)])
                    if token == endId {
                        stopped = .endToken
                        break generation
                    }
                    block.append(token)
                }
                block.forEach(feed)
            }
            results.append((ids, stopped, logProbability))
        }
        return results
    }
}

/// W s + b for one head (V, H) and a top-layer state s (H).
private func aheadLogits(_ head: Dense, store: ParameterStore, state: [Float]) -> [Float] {
    let V = head.outputSize, H = head.inputSize
    let weight = store.values(of: head.weight)
    let bias = head.bias.map { store.values(of: $0) }
    return (0..<V).map { row in
        var sum: Float = bias?[row] ?? 0
        for j in 0..<H { sum += weight[row * H + j] * state[j] }
        return sum
    }
}
