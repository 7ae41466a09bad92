import RNNCore

extension LanguageModel {
    /// Teacher forcing: inputs (T, B) and targets (T, B) time-major, the loss at every step
    /// (softmax cross-entropy, averaged over targets that are not `ignoreIndex`), then backward.
    /// With a stateful recurrent layer the state carries over from the previous call while the
    /// gradient stops here: truncated BPTT.
    public func trainStep(inputs: [Int32], targets: [Int], steps: Int, batch: Int, lengths: [Int]? = nil,
                          ignoreIndex: Int = SoftmaxCrossEntropy.defaultIgnoreIndex,
                          generator: inout SeededGenerator) throws -> StepResult {
        let (logits, _) = try self.logits(tokens: inputs, steps: steps, batch: batch, lengths: lengths,
                                          training: true, generator: &generator)
        let result = try SoftmaxCrossEntropy.compute(logits: logits.reshaped([steps * batch, config.vocabularySize]),
                                                     targets: targets, ignoreIndex: ignoreIndex)
        try backward(logitsGradient: result.gradient.reshaped([steps, batch, config.vocabularySize]))
        return StepResult(loss: Double(result.loss), count: result.validCount, tokens: result.validCount)
    }

    /// Cross-entropy over targets in evaluation mode, accumulated over calls.
    public func evaluate(inputs: [Int32], targets: [Int], steps: Int, batch: Int, lengths: [Int]? = nil,
                         ignoreIndex: Int = SoftmaxCrossEntropy.defaultIgnoreIndex,
                         into accumulator: inout CrossEntropyAccumulator) throws {
        var generator = SeededGenerator(seed: 0)
        let (logits, _) = try self.logits(tokens: inputs, steps: steps, batch: batch, lengths: lengths,
                                          training: false, generator: &generator)
        let result = try SoftmaxCrossEntropy.compute(logits: logits.reshaped([steps * batch, config.vocabularySize]),
                                                     targets: targets, ignoreIndex: ignoreIndex)
        accumulator.add(result)
    }
}
