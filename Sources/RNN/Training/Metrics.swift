import Foundation
import RNNCore

/// Counts of (true class, predicted class) pairs: `counts[truth][prediction]`, rows are the
/// true classes as in scikit-learn's `confusion_matrix`. Precision, recall and F1 follow
/// scikit-learn with `zero_division=0`: a ratio whose denominator is 0 is 0.
public struct ConfusionMatrix: Sendable, Equatable, Codable {
    public let classCount: Int
    /// Row-major (classCount, classCount): `counts[truth * classCount + prediction]`.
    public private(set) var counts: [Int]

    public init(classCount: Int) throws {
        guard classCount >= 1 else { throw RNNError("confusion matrix: classCount must be >= 1, got \(classCount)") }
        self.classCount = classCount
        self.counts = Array(repeating: 0, count: classCount * classCount)
    }

    /// A matrix filled from paired predictions and targets, all class ids in [0, classCount).
    public init(predictions: [Int], targets: [Int], classCount: Int) throws {
        try self.init(classCount: classCount)
        try add(predictions: predictions, targets: targets)
    }

    /// Adds one batch of pairs (e.g. per evaluation batch).
    public mutating func add(predictions: [Int], targets: [Int]) throws {
        guard predictions.count == targets.count else {
            throw RNNError("confusion matrix: \(predictions.count) predictions for \(targets.count) targets")
        }
        let range = 0..<classCount
        if let bad = (predictions + targets).first(where: { !range.contains($0) }) {
            throw RNNError("confusion matrix: class id \(bad) is outside 0..<\(classCount)")
        }
        for (prediction, truth) in zip(predictions, targets) { counts[truth * classCount + prediction] += 1 }
    }

    public func count(truth: Int, prediction: Int) -> Int { counts[truth * classCount + prediction] }

    public var total: Int { counts.reduce(0, +) }
    public var correct: Int { (0..<classCount).reduce(0) { $0 + count(truth: $1, prediction: $1) } }

    /// correct / total (0 for an empty matrix).
    public var accuracy: Double { ratio(correct, total) }

    public func truePositives(_ positive: Int) -> Int { count(truth: positive, prediction: positive) }
    /// Predicted `positive`, truly another class.
    public func falsePositives(_ positive: Int) -> Int {
        (0..<classCount).reduce(0) { $0 + count(truth: $1, prediction: positive) } - truePositives(positive)
    }
    /// Truly `positive`, predicted another class.
    public func falseNegatives(_ positive: Int) -> Int {
        (0..<classCount).reduce(0) { $0 + count(truth: positive, prediction: $1) } - truePositives(positive)
    }

    /// TP / (TP + FP) for one class taken as the positive class.
    public func precision(of positive: Int) -> Double {
        ratio(truePositives(positive), truePositives(positive) + falsePositives(positive))
    }

    /// TP / (TP + FN) for one class taken as the positive class.
    public func recall(of positive: Int) -> Double {
        ratio(truePositives(positive), truePositives(positive) + falseNegatives(positive))
    }

    /// 2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall.
    public func f1(of positive: Int) -> Double {
        let tp = truePositives(positive)
        return ratio(2 * tp, 2 * tp + falsePositives(positive) + falseNegatives(positive))
    }

    /// Classes that occur as a truth or a prediction: what scikit-learn averages over by default.
    public var presentClasses: [Int] {
        (0..<classCount).filter { c in
            (0..<classCount).contains { count(truth: c, prediction: $0) > 0 || count(truth: $0, prediction: c) > 0 }
        }
    }

    /// Unweighted mean of per-class precision over `presentClasses` (0 if none).
    public var macroPrecision: Double { macro(precision(of:)) }
    /// Unweighted mean of per-class recall over `presentClasses` (0 if none).
    public var macroRecall: Double { macro(recall(of:)) }
    /// Unweighted mean of per-class F1 over `presentClasses` (0 if none); not the F1 of the
    /// macro precision and recall.
    public var macroF1: Double { macro(f1(of:)) }

    private func macro(_ metric: (Int) -> Double) -> Double {
        let classes = presentClasses
        return classes.isEmpty ? 0 : classes.reduce(0) { $0 + metric($1) } / Double(classes.count)
    }
}

private func ratio(_ numerator: Int, _ denominator: Int) -> Double {
    denominator == 0 ? 0 : Double(numerator) / Double(denominator)
}

/// Classification and language-model metrics that need no confusion matrix.
public enum Metrics {
    /// Fraction of positions where prediction equals target (0 for empty input).
    public static func accuracy(predictions: [Int], targets: [Int]) throws -> Double {
        guard predictions.count == targets.count else {
            throw RNNError("accuracy: \(predictions.count) predictions for \(targets.count) targets")
        }
        return ratio(zip(predictions, targets).filter { $0 == $1 }.count, targets.count)
    }

    /// Class ids from binary logits: 1 where logit > threshold (logit 0 ⇔ probability 0.5).
    public static func binaryPredictions(logits: Tensor, threshold: Float = 0) -> [Int] {
        logits.scalars.map { $0 > threshold ? 1 : 0 }
    }

    /// Perplexity from a mean cross-entropy H in nats per token: e^H.
    public static func perplexity(crossEntropy: Double) -> Double { exp(crossEntropy) }

    /// Bits per token (or per character) from a mean cross-entropy in nats: H / ln 2.
    public static func bitsPerToken(crossEntropy: Double) -> Double { crossEntropy / log(2) }
}

/// Token-weighted mean cross-entropy over many batches: batches with more valid tokens count
/// more, so the mean equals the loss over the whole data set, not the mean of batch means.
public struct CrossEntropyAccumulator: Sendable, Equatable, Codable {
    public private(set) var lossSum: Double = 0
    public private(set) var tokenCount = 0
    public private(set) var correctCount = 0

    public init() {}

    /// Adds a batch's mean loss over `tokens` valid targets, `correct` of them arg-max correct.
    public mutating func add(meanLoss: Float, tokens: Int, correct: Int = 0) {
        lossSum += Double(meanLoss) * Double(tokens)
        tokenCount += tokens
        correctCount += correct
    }

    /// Adds a `SoftmaxCrossEntropy` result.
    public mutating func add(_ result: SoftmaxCrossEntropyResult) {
        add(meanLoss: result.loss, tokens: result.validCount, correct: result.correctCount)
    }

    /// Σ loss / Σ tokens, in nats (0 before any token).
    public var meanCrossEntropy: Double { tokenCount > 0 ? lossSum / Double(tokenCount) : 0 }
    public var perplexity: Double { Metrics.perplexity(crossEntropy: meanCrossEntropy) }
    public var bitsPerToken: Double { Metrics.bitsPerToken(crossEntropy: meanCrossEntropy) }
    public var accuracy: Double { ratio(correctCount, tokenCount) }
}
