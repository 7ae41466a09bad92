import RNNCore

extension SequenceTagger {
    /// Tag targets of a batch laid out like its logits: (T·B) tag ids, `ignoreIndex` at padding.
    /// - tags: tag ids of each sentence of the batch, as long as its words.
    public static func targets(_ tags: [[Int]], for batch: TaggerBatch,
                               ignoreIndex: Int = SoftmaxCrossEntropy.defaultIgnoreIndex) throws -> [Int] {
        let T = batch.words.steps, B = batch.words.size
        guard tags.count == B, zip(tags, batch.words.lengths).allSatisfy({ $0.count == $1 }) else {
            throw RNNError("tagger: the tags do not match the batch's sentences")
        }
        var targets = [Int](repeating: ignoreIndex, count: T * B)
        for (b, sentence) in tags.enumerated() {
            for (t, tag) in sentence.enumerated() { targets[t * B + b] = tag }
        }
        return targets
    }

    /// Forward, loss and backward for one batch: softmax cross-entropy at every real token,
    /// averaged over the tokens (padding ignored). Gradients accumulate into `store`.
    /// - targets: (T·B) tag ids with `SoftmaxCrossEntropy.defaultIgnoreIndex` at padding (`targets(_:for:)`).
    public func trainStep(_ batch: TaggerBatch, targets: [Int], generator: inout SeededGenerator) throws -> StepResult {
        let logits = try self.logits(batch, training: true, generator: &generator)
        let K = config.tags.count
        let result = try SoftmaxCrossEntropy.compute(logits: logits.reshaped([logits.count / K, K]), targets: targets)
        try backward(logitsGradient: result.gradient.reshaped(logits.shape))
        return StepResult(loss: Double(result.loss), count: result.validCount, tokens: result.validCount)
    }

    /// The arg-max tag id of every real token, per sentence, in evaluation mode (no dropout).
    public func predict(_ batch: TaggerBatch) throws -> [[Int]] {
        var generator = SeededGenerator(seed: 0)  // unused: no dropout in evaluation
        let logits = try self.logits(batch, training: false, generator: &generator)
        return Self.argMax(logits, batch: batch)
    }

    /// Token-weighted mean loss and the confusion matrix (truth × prediction) over tagged batches,
    /// in evaluation mode. `targets` as for `trainStep`; the matrix has `classCount` ≥ K classes, so
    /// gold tags the model does not know (ids ≥ K) count as errors.
    public func evaluate(_ batches: [(batch: TaggerBatch, targets: [Int])], classCount: Int? = nil) throws
        -> (loss: Double, confusion: ConfusionMatrix) {
        let K = config.tags.count
        var confusion = try ConfusionMatrix(classCount: max(classCount ?? K, K))
        var accumulator = CrossEntropyAccumulator()
        var generator = SeededGenerator(seed: 0)
        for (batch, targets) in batches {
            let logits = try self.logits(batch, training: false, generator: &generator)
            let known = targets.map { $0 < K ? $0 : SoftmaxCrossEntropy.defaultIgnoreIndex }
            accumulator.add(try SoftmaxCrossEntropy.compute(logits: logits.reshaped([logits.count / K, K]), targets: known))
            let predictions = Self.argMax(logits, batch: batch)
            let B = batch.words.size
            var truth: [Int] = [], predicted: [Int] = []
            for (b, sentence) in predictions.enumerated() {
                for (t, tag) in sentence.enumerated() {
                    truth.append(targets[t * B + b])
                    predicted.append(tag)
                }
            }
            try confusion.add(predictions: predicted, targets: truth)
        }
        return (accumulator.meanCrossEntropy, confusion)
    }

    /// Arg-max over the last axis of logits (T, B, K) at each sentence's real positions.
    private static func argMax(_ logits: Tensor, batch: TaggerBatch) -> [[Int]] {
        let B = batch.words.size, K = logits.shape[2]
        return logits.withUnsafeBufferPointer { scores in
            (0..<B).map { b in
                (0..<batch.words.lengths[b]).map { t in
                    let row = scores.baseAddress! + (t * B + b) * K
                    var best = 0
                    for k in 1..<K where row[k] > row[best] { best = k }
                    return best
                }
            }
        }
    }
}
