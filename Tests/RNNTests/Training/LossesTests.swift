import Foundation
import RNN
import RNNCore
import XCTest

/// Losses against hand-worked values and against Double references of their formulas.
///
/// Gradient checks: each loss formula is re-written in Double in this file (independently of the
/// Float32 implementation) and differentiated by central differences with h = 1e-5 in Double;
/// the Float32 analytic gradient must match to 1e-5 relative to its largest entry.
final class LossesTests: XCTestCase {
    private var generator = SeededGenerator(seed: 7)

    private func randomTensor(_ shape: [Int], scale: Float) -> Tensor {
        var tensor = Tensor(shape: shape)
        for index in 0..<tensor.count { tensor.scalars[index] = (2 * generator.nextUnitFloat() - 1) * scale }
        return tensor
    }

    /// Central differences of `f` at `x` (Double), one coordinate at a time.
    private func numericalGradient(_ x: [Double], _ f: ([Double]) -> Double) -> [Double] {
        let h = 1e-5
        return x.indices.map { index in
            var plus = x, minus = x
            plus[index] += h
            minus[index] -= h
            return (f(plus) - f(minus)) / (2 * h)
        }
    }

    private func assertGradient(_ analytic: Tensor, _ numeric: [Double], _ what: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        let expected = try! Tensor(shape: analytic.shape, scalars: numeric.map { Float($0) })
        assertClose(analytic, expected, relative: 1e-5, what, file: file, line: line)
    }

    // MARK: Binary cross-entropy

    /// The textbook definition −[y log σ(x) + (1 − y) log(1 − σ(x))], in Double.
    private func referenceBCE(_ x: [Double], _ y: [Double], _ w: [Double]?, dividingByWeights: Bool) -> Double {
        var total = 0.0, divisor = Double(x.count)
        if dividingByWeights, let w { divisor = w.reduce(0, +) }
        for i in x.indices {
            let p = 1 / (1 + Foundation.exp(-x[i]))
            total += (w?[i] ?? 1) * -(y[i] * Foundation.log(p) + (1 - y[i]) * Foundation.log(1 - p))
        }
        return total / divisor
    }

    func testBinaryCrossEntropyHandWorked() throws {
        // x = 0 gives σ = 1/2, loss ln 2 whatever the target; gradient (1/2 − y)/N.
        let result = try BinaryCrossEntropy.withLogits(try Tensor(shape: [2], scalars: [0, 0]),
                                                       targets: try Tensor(shape: [2], scalars: [1, 0]))
        XCTAssertEqual(result.loss, Float(M_LN2), accuracy: 1e-7)
        XCTAssertEqual(result.gradient.scalars, [-0.25, 0.25])
    }

    func testBinaryCrossEntropyMatchesDefinitionAndGradient() throws {
        let logits = randomTensor([3, 4], scale: 4)
        var targets = randomTensor([3, 4], scale: 1)
        targets.scalars = targets.scalars.map { abs($0) }   // soft labels in [0, 1]
        var weights = randomTensor([3, 4], scale: 1)
        weights.scalars = weights.scalars.map { abs($0) }
        let x = logits.scalars.map(Double.init), y = targets.scalars.map(Double.init), w = weights.scalars.map(Double.init)
        for (normalization, byWeights) in [(BinaryCrossEntropy.Normalization.elementCount, false), (.weightSum, true)] {
            let result = try BinaryCrossEntropy.withLogits(logits, targets: targets, weights: weights, normalization: normalization)
            let reference = referenceBCE(x, y, w, dividingByWeights: byWeights)
            XCTAssertEqual(Double(result.loss), reference, accuracy: 1e-6 * reference, "\(normalization)")
            assertGradient(result.gradient, numericalGradient(x) { referenceBCE($0, y, w, dividingByWeights: byWeights) },
                           "BCE gradient, \(normalization)")
        }
        let unweighted = try BinaryCrossEntropy.withLogits(logits, targets: targets)
        XCTAssertEqual(Double(unweighted.loss), referenceBCE(x, y, nil, dividingByWeights: false), accuracy: 1e-6)
    }

    func testBinaryCrossEntropyMaskAveragesOverUnmaskedElements() throws {
        let logits = try Tensor(shape: [4], scalars: [1.5, -0.5, 3, 0.25])
        let targets = try Tensor(shape: [4], scalars: [1, 0, 0, 1])
        let mask = try Tensor(shape: [4], scalars: [1, 1, 0, 1])
        let masked = try BinaryCrossEntropy.withLogits(logits, targets: targets, weights: mask, normalization: .weightSum)
        let kept = try BinaryCrossEntropy.withLogits(try Tensor(shape: [3], scalars: [1.5, -0.5, 0.25]),
                                                     targets: try Tensor(shape: [3], scalars: [1, 0, 1]))
        XCTAssertEqual(masked.loss, kept.loss, accuracy: 1e-6)
        XCTAssertEqual(masked.gradient.scalars[2], 0)
        XCTAssertEqual([masked.gradient.scalars[0], masked.gradient.scalars[1], masked.gradient.scalars[3]],
                       kept.gradient.scalars)
        let nothing = try BinaryCrossEntropy.withLogits(logits, targets: targets, weights: Tensor(shape: [4]),
                                                        normalization: .weightSum)
        XCTAssertEqual(nothing.loss, 0)
        XCTAssertEqual(nothing.gradient.maxAbs, 0)
    }

    func testBinaryCrossEntropyExtremeLogitsStayFinite() throws {
        let logits = try Tensor(shape: [4], scalars: [100, -100, 100, -100])
        let targets = try Tensor(shape: [4], scalars: [1, 0, 0, 1])
        let result = try BinaryCrossEntropy.withLogits(logits, targets: targets)
        XCTAssertTrue(result.loss.isFinite)
        XCTAssertTrue(result.gradient.scalars.allSatisfy(\.isFinite))
        // Two confident right answers cost ~e^−100 ≈ 0; two confident wrong ones cost 100 each.
        XCTAssertEqual(result.loss, 200 / 4, accuracy: 1e-4)
        assertClose(result.gradient, try Tensor(shape: [4], scalars: [0, 0, 0.25, -0.25]), absolute: 1e-7, "BCE gradient")
    }

    func testBinaryCrossEntropyRejectsBadInput() {
        let logits = Tensor(shape: [2])
        XCTAssertThrowsError(try BinaryCrossEntropy.withLogits(logits, targets: Tensor(shape: [3])))
        XCTAssertThrowsError(try BinaryCrossEntropy.withLogits(logits, targets: try Tensor(shape: [2], scalars: [0, 2]))) {
            XCTAssertEqual(($0 as? RNNError)?.message, "binary cross-entropy: targets must lie in [0, 1], got 2.0")
        }
        XCTAssertThrowsError(try BinaryCrossEntropy.withLogits(logits, targets: logits, weights: try Tensor(shape: [2], scalars: [1, -1])))
    }

    // MARK: Softmax cross-entropy

    /// Σ over non-ignored rows of log Σ e^x − x_t, divided by their count, in Double.
    private func referenceSoftmaxCE(_ x: [Double], classes: Int, targets: [Int], ignore: Int) -> Double {
        var total = 0.0, valid = 0
        for (row, target) in targets.enumerated() where target != ignore {
            let logits = x[(row * classes)..<((row + 1) * classes)]
            let m = logits.max()!
            total += m + Foundation.log(logits.reduce(0) { $0 + Foundation.exp($1 - m) }) - logits[row * classes + target]
            valid += 1
        }
        return total / Double(valid)
    }

    func testSoftmaxCrossEntropyHandWorked() throws {
        // Row 0: equal logits, loss ln 2, gradient (1/2 − 1, 1/2) / 1 valid row. Row 1 is ignored.
        let logits = try Tensor(shape: [2, 2], scalars: [0, 0, 5, -5])
        let result = try SoftmaxCrossEntropy.compute(logits: logits, targets: [0, -100])
        XCTAssertEqual(result.loss, Float(M_LN2), accuracy: 1e-7)
        XCTAssertEqual(result.gradient.scalars, [-0.5, 0.5, 0, 0])
        XCTAssertEqual(result.validCount, 1)
        XCTAssertEqual(result.correctCount, 1, "a tie goes to the first class")
    }

    /// 4 classes run the scalar tail of the vectorized passes only; 21 runs two 8-wide chunks and a tail.
    func testSoftmaxCrossEntropyGradientAndCounts() throws {
        for classes in [4, 21] {
            try checkSoftmaxCrossEntropyGradientAndCounts(classes: classes)
        }
    }

    private func checkSoftmaxCrossEntropyGradientAndCounts(classes: Int) throws {
        let rows = 5, pad = 3
        let logits = randomTensor([rows, classes], scale: 3)
        let targets = [2, pad, 0, 1, pad]
        let result = try SoftmaxCrossEntropy.compute(logits: logits, targets: targets, ignoreIndex: pad)
        let x = logits.scalars.map(Double.init)
        let reference = referenceSoftmaxCE(x, classes: classes, targets: targets, ignore: pad)
        XCTAssertEqual(Double(result.loss), reference, accuracy: 1e-6 * reference)
        assertGradient(result.gradient, numericalGradient(x) { referenceSoftmaxCE($0, classes: classes, targets: targets, ignore: pad) },
                       "softmax cross-entropy gradient")
        XCTAssertEqual(result.validCount, 3)
        var correct = 0
        for (row, target) in targets.enumerated() where target != pad {
            let scores = logits.scalars[(row * classes)..<((row + 1) * classes)]
            if scores.firstIndex(of: scores.max()!)! - row * classes == target { correct += 1 }
        }
        XCTAssertEqual(result.correctCount, correct)
        for row in [1, 4] {
            XCTAssertEqual(Array(result.gradient.scalars[(row * classes)..<((row + 1) * classes)]), [Float](repeating: 0, count: classes))
        }
        // Every valid gradient row sums to 0 (softmax sums to 1, minus the one-hot).
        let rowSum = result.gradient.scalars[0..<classes].reduce(0, +)
        XCTAssertEqual(rowSum, 0, accuracy: 1e-6)

        // The raw form without a gradient gives the same totals.
        let sums = logits.withUnsafeBufferPointer { x in
            targets.withUnsafeBufferPointer { t in
                SoftmaxCrossEntropy.compute(logits: x.baseAddress!, rows: rows, classes: classes, targets: t.baseAddress!,
                                            ignoreIndex: pad, gradient: nil)
            }
        }
        XCTAssertEqual(sums.meanLoss, result.loss)
        XCTAssertEqual(sums.validCount, result.validCount)
        XCTAssertEqual(sums.correctCount, result.correctCount)
    }

    func testSoftmaxCrossEntropyExtremeLogitsStayFinite() throws {
        let logits = try Tensor(shape: [2, 3], scalars: [100, -100, 0, -100, 100, 100])
        let result = try SoftmaxCrossEntropy.compute(logits: logits, targets: [1, 2])
        XCTAssertTrue(result.loss.isFinite)
        XCTAssertTrue(result.gradient.scalars.allSatisfy(\.isFinite))
        // Row 0 costs 200 (target 100 below the max); row 1 costs ln 2 (tie of two 100s).
        XCTAssertEqual(result.loss, (200 + Float(M_LN2)) / 2, accuracy: 1e-4)
        assertClose(result.gradient, try Tensor(shape: [2, 3], scalars: [0.5, -0.5, 0, 0, 0.25, -0.25]), absolute: 1e-7,
                    "softmax cross-entropy gradient")
    }

    func testSoftmaxCrossEntropyAllIgnoredAndBadTargets() throws {
        let logits = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let none = try SoftmaxCrossEntropy.compute(logits: logits, targets: [-100, -100])
        XCTAssertEqual(none.loss, 0)
        XCTAssertEqual(none.validCount, 0)
        XCTAssertEqual(none.gradient.maxAbs, 0)
        XCTAssertThrowsError(try SoftmaxCrossEntropy.compute(logits: logits, targets: [0, 3])) {
            XCTAssertEqual(($0 as? RNNError)?.message,
                           "softmax cross-entropy: target 3 is outside 0..<3 and is not the ignore index -100")
        }
        XCTAssertThrowsError(try SoftmaxCrossEntropy.compute(logits: logits, targets: [0]))
        XCTAssertThrowsError(try SoftmaxCrossEntropy.compute(logits: Tensor(shape: [6]), targets: [0]))
    }

    // MARK: Mean squared error

    func testMeanSquaredErrorHandWorkedAndGradient() throws {
        let result = try MeanSquaredError.compute(predictions: try Tensor(shape: [2], scalars: [1, 2]),
                                                  targets: Tensor(shape: [2]))
        XCTAssertEqual(result.loss, 2.5)          // (1 + 4) / 2
        XCTAssertEqual(result.gradient.scalars, [1, 2])   // 2 (p − t) / 2

        let predictions = randomTensor([2, 3], scale: 2), targets = randomTensor([2, 3], scale: 2)
        let t = targets.scalars.map(Double.init)
        func reference(_ p: [Double]) -> Double { zip(p, t).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(p.count) }
        let random = try MeanSquaredError.compute(predictions: predictions, targets: targets)
        let p = predictions.scalars.map(Double.init)
        XCTAssertEqual(Double(random.loss), reference(p), accuracy: 1e-6)
        assertGradient(random.gradient, numericalGradient(p, reference), "MSE gradient")
        XCTAssertThrowsError(try MeanSquaredError.compute(predictions: predictions, targets: Tensor(shape: [3, 2])))
    }
}
