import Foundation
import RNNCore

/// A learning rate as a function of the number of scheduler steps taken so far, t = 0, 1, 2, …
/// (PyTorch's `last_epoch`). Whether a scheduler step is one batch or one epoch is the caller's
/// choice; the trainer sets `optimizer.learningRate = schedule.learningRate(at: t)` before each.
public protocol LearningRateSchedule: Sendable {
    func learningRate(at step: Int) -> Float
}

private func checkRate(_ value: Float, _ name: String) throws {
    guard value >= 0, value.isFinite else { throw RNNError("learning-rate schedule: \(name) must be finite and >= 0, got \(value)") }
}

/// γ(t) = γ₀.
public struct ConstantSchedule: LearningRateSchedule, Codable, Equatable {
    public let learningRate: Float

    public init(learningRate: Float) throws {
        try checkRate(learningRate, "learningRate")
        self.learningRate = learningRate
    }

    public func learningRate(at step: Int) -> Float { learningRate }
}

/// γ(t) = γ₀ · gamma^⌊t / stepSize⌋ (PyTorch's `StepLR`).
public struct StepSchedule: LearningRateSchedule, Codable, Equatable {
    public let initialLearningRate: Float
    public let stepSize: Int
    public let gamma: Float

    public init(initialLearningRate: Float, stepSize: Int, gamma: Float = 0.1) throws {
        try checkRate(initialLearningRate, "initialLearningRate")
        guard stepSize >= 1 else { throw RNNError("step schedule: stepSize must be >= 1, got \(stepSize)") }
        guard gamma > 0, gamma.isFinite else { throw RNNError("step schedule: gamma must be finite and > 0, got \(gamma)") }
        self.initialLearningRate = initialLearningRate
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func learningRate(at step: Int) -> Float {
        Float(Double(initialLearningRate) * pow(Double(gamma), Double(max(step, 0) / stepSize)))
    }
}

/// Cosine annealing from γ₀ to γ_min over N steps, then holding γ_min:
///
///     γ(t) = γ_min + (γ₀ − γ_min) · (1 + cos(π · min(t, N) / N)) / 2
///
/// Equal to PyTorch's `CosineAnnealingLR(T_max=N, eta_min=γ_min)` for t ≤ N; past N PyTorch's
/// rate climbs back up along the cosine, this one stays at the minimum.
public struct CosineAnnealingSchedule: LearningRateSchedule, Codable, Equatable {
    public let initialLearningRate: Float
    public let minimumLearningRate: Float
    public let steps: Int

    public init(initialLearningRate: Float, minimumLearningRate: Float = 0, steps: Int) throws {
        try checkRate(initialLearningRate, "initialLearningRate")
        try checkRate(minimumLearningRate, "minimumLearningRate")
        guard steps >= 1 else { throw RNNError("cosine schedule: steps must be >= 1, got \(steps)") }
        self.initialLearningRate = initialLearningRate
        self.minimumLearningRate = minimumLearningRate
        self.steps = steps
    }

    public func learningRate(at step: Int) -> Float {
        let progress = Double(min(max(step, 0), steps)) / Double(steps)
        let minimum = Double(minimumLearningRate)
        return Float(minimum + (Double(initialLearningRate) - minimum) * (1 + cos(Double.pi * progress)) / 2)
    }
}

/// Linear warm-up over W steps in front of another schedule, which starts after the warm-up:
///
///     γ(t) = γ_inner(0) · (t + 1) / (W + 1)    for t < W
///     γ(t) = γ_inner(t − W)                    for t ≥ W
///
/// so the rate rises in equal steps from γ_inner(0)/(W + 1) and never is 0.
public struct WarmupSchedule<Inner: LearningRateSchedule>: LearningRateSchedule {
    public let warmupSteps: Int
    public let inner: Inner

    public init(warmupSteps: Int, then inner: Inner) throws {
        guard warmupSteps >= 0 else { throw RNNError("warm-up schedule: warmupSteps must be >= 0, got \(warmupSteps)") }
        self.warmupSteps = warmupSteps
        self.inner = inner
    }

    public func learningRate(at step: Int) -> Float {
        guard step < warmupSteps else { return inner.learningRate(at: step - warmupSteps) }
        return Float(Double(inner.learningRate(at: 0)) * Double(max(step, 0) + 1) / Double(warmupSteps + 1))
    }
}

extension WarmupSchedule: Equatable where Inner: Equatable {}
extension WarmupSchedule: Codable where Inner: Codable {}

/// Lowers the learning rate when a monitored metric stops improving, with the semantics of
/// PyTorch's `ReduceLROnPlateau`. Call `step(metric:)` once per evaluation (usually per epoch).
///
/// Improvement over the best value so far b, with threshold δ:
/// mode `.min`: `.relative` a < b(1 − δ), `.absolute` a < b − δ;
/// mode `.max`: `.relative` a > b(1 + δ), `.absolute` a > b + δ. A NaN metric never improves.
/// After more than `patience` evaluations without improvement, γ ← max(γ · factor, γ_min)
/// (only if that lowers γ by more than 1e-8), the bad-evaluation count resets, and the next
/// `cooldown` evaluations count no bad evaluations. A value type: store it in a checkpoint
/// (it is `Codable`) to resume.
public struct ReduceOnPlateau: Codable, Equatable, Sendable {
    public enum Mode: String, Codable, Sendable { case min, max }
    public enum ThresholdMode: String, Codable, Sendable { case relative, absolute }

    public let mode: Mode
    public let factor: Float
    public let patience: Int
    public let threshold: Double
    public let thresholdMode: ThresholdMode
    public let cooldown: Int
    public let minimumLearningRate: Float
    /// The current learning rate.
    public private(set) var learningRate: Float
    /// Best metric so far; nil before any evaluation improved on +∞ (`.min`) or −∞ (`.max`).
    /// (Optional rather than ±∞ so the state encodes to JSON.)
    public private(set) var best: Double?
    public private(set) var badEvaluations = 0
    public private(set) var cooldownRemaining = 0

    /// Defaults are PyTorch's: factor 0.1, patience 10, threshold 1e-4 relative, cooldown 0.
    public init(learningRate: Float, mode: Mode = .min, factor: Float = 0.1, patience: Int = 10,
                threshold: Double = 1e-4, thresholdMode: ThresholdMode = .relative, cooldown: Int = 0,
                minimumLearningRate: Float = 0) throws {
        try checkRate(learningRate, "learningRate")
        try checkRate(minimumLearningRate, "minimumLearningRate")
        guard factor > 0, factor < 1 else { throw RNNError("reduce-on-plateau: factor must be in (0, 1), got \(factor)") }
        guard patience >= 0, cooldown >= 0 else {
            throw RNNError("reduce-on-plateau: patience and cooldown must be >= 0, got \(patience) and \(cooldown)")
        }
        guard threshold >= 0, threshold.isFinite else {
            throw RNNError("reduce-on-plateau: threshold must be finite and >= 0, got \(threshold)")
        }
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.thresholdMode = thresholdMode
        self.cooldown = cooldown
        self.minimumLearningRate = minimumLearningRate
        self.learningRate = learningRate
        self.best = nil
    }

    /// Whether `metric` improves on `best` by more than the threshold.
    public func isImprovement(_ metric: Double) -> Bool {
        let best = best ?? (mode == .min ? .infinity : -.infinity)
        return switch (mode, thresholdMode) {
        case (.min, .relative): metric < best * (1 - threshold)
        case (.min, .absolute): metric < best - threshold
        case (.max, .relative): metric > best * (1 + threshold)
        case (.max, .absolute): metric > best + threshold
        }
    }

    /// Records one evaluation of the monitored metric and returns the learning rate to use next.
    @discardableResult
    public mutating func step(metric: Double) -> Float {
        if isImprovement(metric) {
            best = metric
            badEvaluations = 0
        } else {
            badEvaluations += 1
        }
        if cooldownRemaining > 0 {
            cooldownRemaining -= 1
            badEvaluations = 0
        }
        if badEvaluations > patience {
            let reduced = max(learningRate * factor, minimumLearningRate)
            if learningRate - reduced > 1e-8 { learningRate = reduced }
            cooldownRemaining = cooldown
            badEvaluations = 0
        }
        return learningRate
    }
}
