import Foundation
import RNNCore

extension TextClassifier {
    /// Forward, loss and backward for one labelled batch (`labels[b]`: class index of row b).
    /// Two classes: binary cross-entropy on the single logit; more: softmax cross-entropy.
    /// Gradients accumulate into `store`; the caller zeroes them (the `Trainer` does).
    public func trainStep(_ batch: TokenBatch, labels: [Int], generator: inout SeededGenerator) throws -> StepResult {
        guard labels.count == batch.size else {
            throw RNNError("classifier: \(labels.count) labels for a batch of \(batch.size)")
        }
        let logits = try self.logits(batch, training: true, generator: &generator)
        let (loss, gradient) = try lossAndGradient(logits: logits, labels: labels)
        try backward(logitsGradient: gradient)
        return StepResult(loss: Double(loss), count: batch.size, tokens: batch.lengths.reduce(0, +))
    }

    /// The mean loss over the batch and ∂L/∂logits.
    public func lossAndGradient(logits: Tensor, labels: [Int]) throws -> (Float, Tensor) {
        if let bad = labels.first(where: { !config.labels.indices.contains($0) }) {
            throw RNNError("classifier: label index \(bad) outside 0..<\(config.labels.count)")
        }
        if config.outputCount == 1 {
            let targets = try Tensor(shape: logits.shape, scalars: labels.map { Float($0) })
            let result = try BinaryCrossEntropy.withLogits(logits, targets: targets)
            return (result.loss, result.gradient)
        }
        let result = try SoftmaxCrossEntropy.compute(logits: logits, targets: labels, ignoreIndex: SoftmaxCrossEntropy.defaultIgnoreIndex)
        return (result.loss, result.gradient)
    }

    /// Class probabilities per row, (B, classes), in evaluation mode (no dropout).
    public func probabilities(_ batch: TokenBatch) throws -> [[Float]] {
        var generator = SeededGenerator(seed: 0)  // unused: no dropout in evaluation
        let logits = try self.logits(batch, training: false, generator: &generator)
        let K = config.outputCount
        return (0..<batch.size).map { row in
            if K == 1 {
                let p = 1 / (1 + Foundation.exp(-logits.scalars[row]))
                return [1 - p, p]
            }
            let line = logits.scalars[row * K..<(row + 1) * K]
            let top = line.max()!
            let exponentials = line.map { Foundation.exp($0 - top) }
            let total = exponentials.reduce(0, +)
            return exponentials.map { $0 / total }
        }
    }

    /// Mean loss and confusion matrix over labelled batches, in evaluation mode.
    public func evaluate(_ batches: [(batch: TokenBatch, labels: [Int])]) throws -> (loss: Double, confusion: ConfusionMatrix) {
        var confusion = try ConfusionMatrix(classCount: config.labels.count)
        var lossSum = 0.0, count = 0
        var generator = SeededGenerator(seed: 0)
        for (batch, labels) in batches {
            let logits = try self.logits(batch, training: false, generator: &generator)
            let (loss, _) = try lossAndGradient(logits: logits, labels: labels)
            lossSum += Double(loss) * Double(batch.size)
            count += batch.size
            let K = config.outputCount
            let predictions = (0..<batch.size).map { row -> Int in
                if K == 1 { return logits.scalars[row] > 0 ? 1 : 0 }
                let line = logits.scalars[row * K..<(row + 1) * K]
                return line.indices.max { line[$0] < line[$1] }! - row * K
            }
            try confusion.add(predictions: predictions, targets: labels)
        }
        return (count > 0 ? lossSum / Double(count) : 0, confusion)
    }
}
