import Foundation
import RNNCore

/// A loss value and its gradient with respect to the loss's input (logits or predictions),
/// shaped like that input.
public struct LossResult: Sendable {
    public var loss: Float
    public var gradient: Tensor
}

// MARK: - Binary cross-entropy on logits

/// Binary cross-entropy on logits, sigmoid included (PyTorch's `BCEWithLogitsLoss`).
///
/// Per element, with logit x, target y ∈ [0, 1] and σ the logistic function:
///
///     ℓ(x, y) = −[y·log σ(x) + (1 − y)·log(1 − σ(x))]
///             = max(x, 0) − x·y + log(1 + e^{−|x|})      (the stable form computed here)
///     ∂ℓ/∂x   = σ(x) − y
///
/// Reduction over N elements with optional weights w (a 0/1 mask is a weight):
/// `.elementCount`: L = Σ wᵢ ℓᵢ / N (PyTorch's `weight=` with mean reduction);
/// `.weightSum`: L = Σ wᵢ ℓᵢ / Σ wᵢ (the mean over unmasked elements). Without weights both are the
/// plain mean. When the divisor is 0 (nothing to average) the loss and the gradient are 0.
public enum BinaryCrossEntropy {
    /// What the weighted sum is divided by.
    public enum Normalization: String, Sendable, Codable {
        case elementCount, weightSum
    }

    /// The loss and ∂L/∂logits. `targets` and `weights` have the logits' shape.
    public static func withLogits(_ logits: Tensor, targets: Tensor, weights: Tensor? = nil,
                                  normalization: Normalization = .elementCount) throws -> LossResult {
        guard targets.shape == logits.shape else {
            throw RNNError.shapeMismatch("binary cross-entropy targets", expected: shapeString(logits.shape), actual: targets.shape)
        }
        if let weights, weights.shape != logits.shape {
            throw RNNError.shapeMismatch("binary cross-entropy weights", expected: shapeString(logits.shape), actual: weights.shape)
        }
        if let bad = targets.scalars.first(where: { !($0 >= 0 && $0 <= 1) }) {
            throw RNNError("binary cross-entropy: targets must lie in [0, 1], got \(bad)")
        }
        if let weights, let bad = weights.scalars.first(where: { !($0 >= 0 && $0.isFinite) }) {
            throw RNNError("binary cross-entropy: weights must be finite and non-negative, got \(bad)")
        }
        var gradient = Tensor(shape: logits.shape)
        guard logits.count > 0 else { return LossResult(loss: 0, gradient: gradient) }
        let loss = logits.withUnsafeBufferPointer { x in
            targets.withUnsafeBufferPointer { y in
                gradient.withUnsafeMutableBufferPointer { dx in
                    if let weights {
                        return weights.withUnsafeBufferPointer { w in
                            withLogits(x.baseAddress!, targets: y.baseAddress!, weights: w.baseAddress!,
                                       count: x.count, normalization: normalization, gradient: dx.baseAddress!)
                        }
                    }
                    return withLogits(x.baseAddress!, targets: y.baseAddress!, weights: nil,
                                      count: x.count, normalization: normalization, gradient: dx.baseAddress!)
                }
            }
        }
        return LossResult(loss: loss, gradient: gradient)
    }

    /// Raw-pointer form for hot paths: writes ∂L/∂logits into `gradient` (when not nil) and
    /// returns L. No validation; every pointer covers `count` elements.
    public static func withLogits(_ logits: UnsafePointer<Float>, targets: UnsafePointer<Float>,
                                  weights: UnsafePointer<Float>?, count: Int,
                                  normalization: Normalization = .elementCount,
                                  gradient: UnsafeMutablePointer<Float>?) -> Float {
        var divisor = Double(count)
        if let weights, normalization == .weightSum {
            divisor = 0
            for index in 0..<count { divisor += Double(weights[index]) }
        }
        guard divisor > 0 else {
            gradient?.update(repeating: 0, count: count)
            return 0
        }
        let scale = Float(1 / divisor)
        var total: Double = 0
        for index in 0..<count {
            let x = logits[index], y = targets[index]
            let weight = weights?[index] ?? 1
            let elementLoss = max(x, 0) - x * y + log1p(exp(-abs(x)))
            total += Double(weight * elementLoss)
            gradient?[index] = weight * scale * (stableSigmoid(x) - y)
        }
        return Float(total / divisor)
    }

    /// σ(x) = 1 / (1 + e^{−x}) without overflow: e^{x} / (1 + e^{x}) for x < 0.
    @inline(__always)
    static func stableSigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + exp(-x)) }
        let e = exp(x)
        return e / (1 + e)
    }
}

// MARK: - Softmax cross-entropy

/// What `SoftmaxCrossEntropy` returns: the loss, its gradient, and counts for accuracy.
public struct SoftmaxCrossEntropyResult: Sendable {
    /// Mean over rows whose target is not ignored (0 when there are none).
    public var loss: Float
    /// ∂L/∂logits, (N, V); zero rows where the target is ignored.
    public var gradient: Tensor
    /// Number of rows whose target is not `ignoreIndex`.
    public var validCount: Int
    /// Number of valid rows whose arg-max logit (first on ties) equals the target.
    public var correctCount: Int
}

/// Softmax cross-entropy over the rows of logits (N, V) with integer targets (PyTorch's
/// `CrossEntropyLoss(ignore_index=…)` with mean reduction).
///
/// For a row x with target t, using one stable softmax p = softmax(x − max x) for both passes:
///
///     ℓ = log Σⱼ e^{xⱼ − m} − (x_t − m),   m = maxⱼ xⱼ
///     ∂ℓ/∂xⱼ = pⱼ − [j = t]
///
/// L = Σ_valid ℓ / n_valid. Rows whose target equals `ignoreIndex` add nothing and get a zero
/// gradient. With no valid row, L = 0 and the gradient is 0 (PyTorch returns NaN there).
public enum SoftmaxCrossEntropy {
    /// PyTorch's default `ignore_index`.
    public static let defaultIgnoreIndex = -100

    /// Loss, ∂L/∂logits and counts. `logits`: (N, V); `targets`: N class ids in [0, V) or `ignoreIndex`.
    public static func compute(logits: Tensor, targets: [Int],
                               ignoreIndex: Int = defaultIgnoreIndex) throws -> SoftmaxCrossEntropyResult {
        guard logits.rank == 2 else {
            throw RNNError.shapeMismatch("softmax cross-entropy logits", expected: "(N, V)", actual: logits.shape)
        }
        let rows = logits.shape[0], classes = logits.shape[1]
        guard targets.count == rows else {
            throw RNNError("softmax cross-entropy: \(targets.count) targets for \(rows) rows of logits")
        }
        if let bad = targets.first(where: { $0 != ignoreIndex && !(0..<classes).contains($0) }) {
            throw RNNError("softmax cross-entropy: target \(bad) is outside 0..<\(classes) and is not the ignore index \(ignoreIndex)")
        }
        var gradient = Tensor(shape: logits.shape)
        guard logits.count > 0 else {
            return SoftmaxCrossEntropyResult(loss: 0, gradient: gradient, validCount: 0, correctCount: 0)
        }
        let sums = logits.withUnsafeBufferPointer { x in
            targets.withUnsafeBufferPointer { t in
                gradient.withUnsafeMutableBufferPointer { dx in
                    compute(logits: x.baseAddress!, rows: rows, classes: classes, targets: t.baseAddress!,
                            ignoreIndex: ignoreIndex, gradient: dx.baseAddress!)
                }
            }
        }
        return SoftmaxCrossEntropyResult(loss: sums.meanLoss, gradient: gradient,
                                         validCount: sums.validCount, correctCount: sums.correctCount)
    }

    /// Raw-pointer form for hot paths. `logits`: (rows, classes) row-major; `gradient` (same
    /// shape, may be nil for evaluation) receives ∂L/∂logits for the mean loss. No validation:
    /// every target must be in [0, classes) or equal `ignoreIndex`.
    public static func compute(logits: UnsafePointer<Float>, rows: Int, classes: Int,
                               targets: UnsafePointer<Int>, ignoreIndex: Int,
                               gradient: UnsafeMutablePointer<Float>?) -> Sums {
        var validCount = 0
        for row in 0..<rows where targets[row] != ignoreIndex { validCount += 1 }
        let scale: Float = validCount > 0 ? 1 / Float(validCount) : 0
        var lossSum: Double = 0
        var correctCount = 0
        for row in 0..<rows {
            let x = logits + row * classes
            let target = targets[row]
            guard target != ignoreIndex else {
                gradient.map { ($0 + row * classes).update(repeating: 0, count: classes) }
                continue
            }
            let (maxValue, maxIndex) = maximum(x, count: classes)
            if maxIndex == target { correctCount += 1 }
            let expSum = exponentials(x, count: classes, minus: maxValue, into: gradient.map { $0 + row * classes })
            if let gradient {
                scale8(gradient + row * classes, count: classes, by: scale / expSum)
                gradient[row * classes + target] -= scale
            }
            lossSum += Double(log(expSum) - (x[target] - maxValue))
        }
        return Sums(lossSum: lossSum, validCount: validCount, correctCount: correctCount)
    }

    // The three passes over a row, eight classes at a time (a language model's rows are the
    // vocabulary wide: measured, the scalar `exp` here was ~3% of a jokes-lm training step).

    /// The largest of x[0 ..< count] and the first index holding it.
    private static func maximum(_ x: UnsafePointer<Float>, count: Int) -> (Float, Int) {
        var lanes = Float8(repeating: -.infinity)
        var column = 0
        while column + 8 <= count {
            let values = loadFloat8(x + column)
            lanes = lanes.replacing(with: values, where: values .> lanes)
            column += 8
        }
        var best = lanes.max()
        while column < count {
            best = Swift.max(best, x[column])
            column += 1
        }
        var index = 0
        while index < count - 1 && !(x[index] >= best) { index += 1 }  // NaN rows end at the last index
        return (best, index)
    }

    /// Σⱼ e^{xⱼ − shift}, also storing each term in `terms` when given.
    private static func exponentials(_ x: UnsafePointer<Float>, count: Int, minus shift: Float,
                                     into terms: UnsafeMutablePointer<Float>?) -> Float {
        var lanes = Float8()
        var column = 0
        while column + 8 <= count {
            let e = exp8(loadFloat8(x + column) - shift)
            if let terms { storeFloat8(e, terms + column) }
            lanes += e
            column += 8
        }
        var sum = lanes.sum()
        while column < count {
            let e = exp(x[column] - shift)
            terms?[column] = e
            sum += e
            column += 1
        }
        return sum
    }

    /// x[0 ..< count] *= factor
    private static func scale8(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        var column = 0
        while column + 8 <= count {
            storeFloat8(loadFloat8(x + column) * factor, x + column)
            column += 8
        }
        while column < count {
            x[column] *= factor
            column += 1
        }
    }

    /// Totals from the raw-pointer form.
    public struct Sums: Sendable, Equatable {
        /// Σ ℓ over valid rows (not averaged), accumulated in Double.
        public var lossSum: Double
        public var validCount: Int
        public var correctCount: Int
        /// lossSum / validCount, or 0 with no valid row.
        public var meanLoss: Float { validCount > 0 ? Float(lossSum / Double(validCount)) : 0 }
    }
}

// MARK: - Mean squared error

/// Mean squared error over N elements: L = Σ (pᵢ − tᵢ)² / N, ∂L/∂pᵢ = 2 (pᵢ − tᵢ) / N
/// (PyTorch's `MSELoss`). An empty input gives L = 0.
public enum MeanSquaredError {
    public static func compute(predictions: Tensor, targets: Tensor) throws -> LossResult {
        guard targets.shape == predictions.shape else {
            throw RNNError.shapeMismatch("mean squared error targets", expected: shapeString(predictions.shape), actual: targets.shape)
        }
        var gradient = Tensor(shape: predictions.shape)
        guard predictions.count > 0 else { return LossResult(loss: 0, gradient: gradient) }
        let loss = predictions.withUnsafeBufferPointer { p in
            targets.withUnsafeBufferPointer { t in
                gradient.withUnsafeMutableBufferPointer { dp in
                    compute(predictions: p.baseAddress!, targets: t.baseAddress!, count: p.count,
                            gradient: dp.baseAddress!)
                }
            }
        }
        return LossResult(loss: loss, gradient: gradient)
    }

    /// Raw-pointer form: writes ∂L/∂predictions into `gradient` (when not nil) and returns L.
    public static func compute(predictions: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int,
                               gradient: UnsafeMutablePointer<Float>?) -> Float {
        guard count > 0 else { return 0 }
        let scale = 2 / Float(count)
        var total: Double = 0
        for index in 0..<count {
            let difference = predictions[index] - targets[index]
            total += Double(difference * difference)
            gradient?[index] = scale * difference
        }
        return Float(total / Double(count))
    }
}
