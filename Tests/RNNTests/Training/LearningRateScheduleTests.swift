import Foundation
import RNN
import RNNCore
import XCTest

/// Schedules against their closed forms evaluated by hand, and reduce-on-plateau against
/// learning rates printed by `scripts/plateau_reference.py` (torch 2.15 `ReduceLROnPlateau`).
final class LearningRateScheduleTests: XCTestCase {
    func testConstantAndStep() throws {
        let constant = try ConstantSchedule(learningRate: 0.3)
        XCTAssertEqual([0, 1, 1000].map(constant.learningRate(at:)), [0.3, 0.3, 0.3])

        let step = try StepSchedule(initialLearningRate: 1, stepSize: 3, gamma: 0.5)
        // ⌊t/3⌋ = 0,0,0,1,1,1,2 → 1, 0.5, 0.25.
        XCTAssertEqual((0...6).map(step.learningRate(at:)), [1, 1, 1, 0.5, 0.5, 0.5, 0.25])
        XCTAssertThrowsError(try StepSchedule(initialLearningRate: 1, stepSize: 0)) {
            XCTAssertEqual(($0 as? RNNError)?.message, "step schedule: stepSize must be >= 1, got 0")
        }
        XCTAssertThrowsError(try StepSchedule(initialLearningRate: 1, stepSize: 2, gamma: 0))
        XCTAssertThrowsError(try ConstantSchedule(learningRate: -1))
    }

    func testCosineAnnealing() throws {
        let cosine = try CosineAnnealingSchedule(initialLearningRate: 1, minimumLearningRate: 0.2, steps: 4)
        // cos(π t/4) for t = 0...4 is 1, √½, 0, −√½, −1: rate 0.2 + 0.8 (1 + cos)/2.
        let half = Float(0.5.squareRoot())
        let expected: [Float] = [1, 0.2 + 0.4 * (1 + half), 0.6, 0.2 + 0.4 * (1 - half), 0.2]
        for (t, rate) in expected.enumerated() {
            XCTAssertEqual(cosine.learningRate(at: t), rate, accuracy: 1e-6, "t = \(t)")
        }
        XCTAssertEqual(cosine.learningRate(at: 9), 0.2, accuracy: 1e-7, "holds the minimum after N steps")
        XCTAssertThrowsError(try CosineAnnealingSchedule(initialLearningRate: 1, steps: 0))
    }

    func testWarmupThenInnerSchedule() throws {
        let inner = try StepSchedule(initialLearningRate: 0.4, stepSize: 2, gamma: 0.5)
        let warmup = try WarmupSchedule(warmupSteps: 3, then: inner)
        // Warm-up: 0.4 · (t + 1)/4 for t = 0, 1, 2; then the inner schedule from its t = 0.
        let rates = (0..<8).map(warmup.learningRate(at:))
        let expected: [Float] = [0.1, 0.2, 0.3, 0.4, 0.4, 0.2, 0.2, 0.1]
        for (rate, value) in zip(rates, expected) { XCTAssertEqual(rate, value, accuracy: 1e-7, "\(rates)") }
        let none = try WarmupSchedule(warmupSteps: 0, then: inner)
        XCTAssertEqual((0..<4).map(none.learningRate(at:)), (0..<4).map(inner.learningRate(at:)))
        XCTAssertThrowsError(try WarmupSchedule(warmupSteps: -1, then: inner))
        let decoded = try JSONDecoder().decode(WarmupSchedule<StepSchedule>.self, from: JSONEncoder().encode(warmup))
        XCTAssertEqual(decoded, warmup)
    }

    func testReduceOnPlateauHandTrace() throws {
        var plateau = try ReduceOnPlateau(learningRate: 1, factor: 0.5, patience: 1, threshold: 0,
                                          thresholdMode: .absolute, cooldown: 1)
        // 3 (best) → 3 (bad 1) → 3 (bad 2 > patience 1: halve, cooldown 1)
        // → 3 (cooldown eats it) → 3 (bad 1) → 3 (bad 2: halve) → 1 (new best).
        let rates = [3.0, 3, 3, 3, 3, 3, 1].map { plateau.step(metric: $0) }
        XCTAssertEqual(rates, [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
        XCTAssertEqual(plateau.best, 1)
        XCTAssertEqual(plateau.badEvaluations, 0)
    }

    /// Printed by `scripts/plateau_reference.py`; same metrics and settings.
    func testReduceOnPlateauMatchesPyTorch() throws {
        let metrics = [1.0, 0.9, 0.95, 0.9, 0.91, 0.8999, 0.92, 0.93, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76, 0.77]
        let minRelative = [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.02]
        let maxAbsolute = [0.1, 0.1, 0.010000000000000002, 0.010000000000000002, 0.0010000000000000002,
                           0.0010000000000000002, 0.00010000000000000003, 0.00010000000000000003, 1.0000000000000004e-05,
                           1.0000000000000004e-05, 1.0000000000000004e-06, 1.0000000000000004e-06, 1.0000000000000005e-07,
                           1.0000000000000005e-07, 1.0000000000000005e-08, 1.0000000000000005e-08]
        var first = try ReduceOnPlateau(learningRate: 0.1, mode: .min, factor: 0.5, patience: 2, threshold: 1e-3,
                                        cooldown: 1, minimumLearningRate: 0.02)
        var second = try ReduceOnPlateau(learningRate: 0.1, mode: .max, factor: 0.1, patience: 1, threshold: 0.05,
                                         thresholdMode: .absolute)
        for (index, metric) in metrics.enumerated() {
            XCTAssertEqual(Double(first.step(metric: metric)), minRelative[index], accuracy: 1e-7 * minRelative[index], "min, step \(index)")
            XCTAssertEqual(Double(second.step(metric: metric)), maxAbsolute[index], accuracy: 1e-6 * maxAbsolute[index], "max, step \(index)")
        }
    }

    func testReduceOnPlateauNaNIsNeverAnImprovementAndStateRoundTrips() throws {
        var plateau = try ReduceOnPlateau(learningRate: 0.1, patience: 0)
        XCTAssertFalse(plateau.isImprovement(.nan))
        XCTAssertEqual(plateau.step(metric: .nan), 0.1 * 0.1, accuracy: 1e-9, "patience 0: one bad evaluation reduces")
        XCTAssertNil(plateau.best)
        plateau.step(metric: 2)
        let data = try JSONEncoder().encode(plateau)
        XCTAssertEqual(try JSONDecoder().decode(ReduceOnPlateau.self, from: data), plateau)
        XCTAssertThrowsError(try ReduceOnPlateau(learningRate: 0.1, factor: 1)) {
            XCTAssertEqual(($0 as? RNNError)?.message, "reduce-on-plateau: factor must be in (0, 1), got 1.0")
        }
    }
}
