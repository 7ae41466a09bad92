import Foundation
import RNNCore

/// Which optimizer `TrainingOptions` builds.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    case sgd, adam, adamw, rmsprop, adagrad
}

/// How the learning rate moves over training.
public enum ScheduleKind: String, Codable, Sendable, CaseIterable {
    /// The same rate throughout.
    case constant
    /// Cosine annealing to 1% of the rate over all steps.
    case cosine
    /// Multiply by 0.1 when the monitored validation metric stops improving for one epoch.
    case plateau
}

/// The optimization side of a training run (the model side lives in each task's config).
public struct TrainingOptions: Codable, Sendable, Equatable {
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 0
    /// SGD and RMSprop momentum.
    public var momentum: Float = 0
    /// Clip gradients to this global L2 norm (nil: no clipping).
    public var clipNorm: Float? = 5
    /// Clamp each gradient into ±clipValue (nil: no clamping).
    public var clipValue: Float?
    public var epochs: Int = 1
    public var schedule: ScheduleKind = .constant
    /// Linear warm-up over this many steps.
    public var warmupSteps: Int = 0
    /// Stop after this many epochs without improvement of the monitored metric (nil: never).
    public var patience: Int?
    /// Keep the weights of the best validation epoch at the end.
    public var restoreBest: Bool = true

    public init() {}

    public func validate() throws {
        guard epochs >= 1 else { throw RNNError("--epochs must be at least 1, got \(epochs)") }
        guard learningRate > 0, learningRate.isFinite else { throw RNNError("--lr must be positive, got \(learningRate)") }
        if let clipNorm, !(clipNorm > 0) { throw RNNError("--clip-norm must be positive, got \(clipNorm)") }
        if let clipValue, !(clipValue > 0) { throw RNNError("--clip-value must be positive, got \(clipValue)") }
        if let patience, patience < 1 { throw RNNError("--patience must be at least 1, got \(patience)") }
    }

    /// The optimizer these options describe, over `store`.
    public func makeOptimizer(for store: ParameterStore) throws -> any TrainingOptimizer {
        switch optimizer {
        case .sgd: try Optimizer(store: store, rule: SGD(momentum: momentum, nesterov: false, weightDecay: weightDecay), learningRate: learningRate)
        case .adam: try Optimizer(store: store, rule: Adam(weightDecay: weightDecay), learningRate: learningRate)
        case .adamw: try Optimizer(store: store, rule: AdamW(weightDecay: weightDecay), learningRate: learningRate)
        case .rmsprop: try Optimizer(store: store, rule: RMSprop(momentum: momentum, weightDecay: weightDecay), learningRate: learningRate)
        case .adagrad: try Optimizer(store: store, rule: Adagrad(weightDecay: weightDecay), learningRate: learningRate)
        }
    }
}

/// What one training step reports: the mean loss over `count` items (examples or tokens).
public struct StepResult: Sendable {
    public var loss: Double
    public var count: Int
    /// Tokens processed, for throughput.
    public var tokens: Int

    public init(loss: Double, count: Int, tokens: Int) {
        self.loss = loss
        self.count = count
        self.tokens = tokens
    }
}

/// One epoch's record, saved as `history.json` / `history.csv` beside the model.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var validationLoss: Double?
    /// Validation metrics by name (accuracy, f1, perplexity, ...).
    public var metrics: [String: Double]
    public var meanGradientNorm: Double
    public var maxGradientNorm: Double
    public var learningRate: Double
    public var seconds: Double
    public var tokensPerSecond: Double
    /// Distributed runs: seconds spent in the gradient all-reduce this epoch (nil: one process).
    public var allReduceSeconds: Double? = nil
    /// Distributed runs: seconds spent waiting for the slowest rank before it.
    public var rankWaitSeconds: Double? = nil
    /// Distributed runs: floats of the gradient this rank handed to MPI's all-reduce (or
    /// reduce-scatter) this epoch, row flags included; 0 with the shared-memory step. Divided by
    /// the steps and the gradient's size, the share of it actually sent (Trainer+TouchedRows.swift).
    public var allReducedGradientFloats: Int? = nil
    /// CPU seconds of this process (all its threads) over the epoch's training steps: on a busy
    /// machine a better measure of the work than `seconds`.
    public var cpuSeconds: Double? = nil
    /// Where the training steps' time went (compute, waiting, communication, update).
    public var phases: StepPhases? = nil
}

/// What the trainer tells its caller while it runs (the CLI draws a progress bar from these).
public enum TrainingEvent: Sendable {
    /// After each optimizer step; `gradientNorm` is that step's global norm before clipping.
    case batch(epoch: Int, batch: Int, batches: Int, runningLoss: Double, gradientNorm: Double, tokensPerSecond: Double, elapsed: Double)
    case epoch(EpochRecord)
}

/// Validation results: a loss and metrics.
public struct ValidationResult: Sendable {
    public var loss: Double
    public var metrics: [String: Double]

    public init(loss: Double, metrics: [String: Double]) {
        self.loss = loss
        self.metrics = metrics
    }
}

/// Where a run stands after an epoch. With the weights, the optimizer state, the best weights and
/// the caller's random generator state (`generatorState`), training continues exactly as if it
/// had never stopped.
public struct TrainerState: Codable, Sendable, Equatable {
    public var completedEpochs: Int
    public var steps: Int
    public var history: [EpochRecord]
    public var bestValue: Double?
    public var bestEpoch: Int?
    public var epochsWithoutImprovement: Int
    public var plateau: ReduceOnPlateau?
    /// The task's generator (shuffling, dropout) at the end of the epoch.
    public var generatorState: [UInt64]
    /// Set when training stopped inside an epoch (`stopRequested`, e.g. Ctrl-C); nil at epoch ends.
    public var partialEpoch: PartialEpoch? = nil
}

/// The training loop, the same for every task: per batch, zero the gradients, run the task's
/// step (forward + backward: a function of the weights and the batch), check the loss and the
/// gradient norm are finite, clip, set the learning rate, update. Per epoch: validate, record,
/// keep the best weights, stop early when the monitored metric stops improving.
public final class Trainer {
    public let store: ParameterStore
    public let options: TrainingOptions
    public let optimizer: any TrainingOptimizer
    public private(set) var history: [EpochRecord] = []
    /// Optimizer steps taken.
    public private(set) var steps = 0
    /// The monitored metric's best value and the epoch it came from.
    public private(set) var best: (value: Double, epoch: Int)?
    /// The weights of the best epoch so far (when `restoreBest`).
    public private(set) var bestWeights: [Float]?
    private var plateau: ReduceOnPlateau?
    private var epochsWithoutImprovement = 0
    private var completedEpochs = 0
    /// The ranks of a data-parallel run (one process by default): see `Trainer+Distributed.swift`.
    public var collective: any Collective = SingleProcessCollective()
    /// Seconds spent in the gradient all-reduce, and waiting for the other ranks before it, this epoch.
    var allReduceSeconds = 0.0, rankWaitSeconds = 0.0
    /// Floats of the gradient handed to MPI's all-reduce or reduce-scatter this epoch.
    var allReducedGradientFloats = 0
    /// This epoch's step time by phase (see `timed` in Trainer+Distributed.swift).
    var phases = StepPhases()
    /// The store's scalars whose gradients the task's backward pass finishes early (a model's
    /// output layer), contiguous; the task calls `earlyGradientsFinal` then (Trainer+Overlap.swift).
    public var earlyGradientScalars: Range<Int>?
    /// The all-reduce of `earlyGradientScalars` started in this step's backward pass, and the item
    /// count it was scaled by.
    var pendingEarlyReduction: (pending: PendingAllReduce, count: Int)?
    /// The shared-memory segments of this `fit`'s node-shared step (Trainer+SharedMemory.swift).
    var nodeShared: NodeSharedSegments?
    /// Buffers of the all-reduce that sends only touched embedding rows (Trainer+TouchedRows.swift).
    let touchedRows = TouchedRowBuffers()
    /// Checked after every optimizer step; when true, `fit` stops after that step and throws
    /// `TrainingInterrupted` with the state to checkpoint (see Trainer+Interruption.swift).
    public var stopRequested: () -> Bool = { false }
    /// The partly done epoch a resumed run continues inside (from `resume`).
    var resumedPartialEpoch: PartialEpoch?

    public init(store: ParameterStore, options: TrainingOptions) throws {
        try options.validate()
        self.store = store
        self.options = options
        self.optimizer = try options.makeOptimizer(for: store)
    }

    /// Trains up to `options.epochs` epochs in all (fewer when early stopping triggers). A trainer
    /// remembers the epochs it has completed (and those restored by `resume`), so a second call
    /// continues where the first stopped and returns at once when all epochs are done: make a new
    /// `Trainer` to train again from the current weights.
    /// - batches: the batches of epoch e (shuffled by the caller with its seeded generator).
    /// - step: forward and backward of one batch; gradients accumulate into the store.
    /// - validate: evaluation on held-out data (nil: none); `monitor` names the metric to keep
    ///   the best epoch by ("loss" for the validation loss), `higherIsBetter` its direction.
    /// - onEpochEnd: called after every epoch with the state to checkpoint (the caller adds its
    ///   generator state and saves weights, `optimizer.stateTensors()` and `bestWeights`).
    @discardableResult
    public func fit<Batch>(batches: (Int) throws -> [Batch], step: (Batch) throws -> StepResult,
                           validate: (() throws -> ValidationResult)?, monitor: String = "loss", higherIsBetter: Bool = false,
                           onEvent: (TrainingEvent) -> Void = { _ in },
                           onEpochEnd: (TrainerState) throws -> Void = { _ in }) throws -> [EpochRecord] {
        if options.schedule == .plateau && plateau == nil {
            plateau = try ReduceOnPlateau(learningRate: options.learningRate, mode: higherIsBetter ? .max : .min, factor: 0.1, patience: 0)
        }
        let stoppedEarly = options.patience.map { epochsWithoutImprovement >= $0 } ?? false
        try beginNodeSharedStep()
        defer { leaveNodeSharedMemory() }
        for epoch in (completedEpochs + 1)..<max(options.epochs + 1, completedEpochs + 1) where !stoppedEarly {
            let epochBatches = try batches(epoch)
            guard !epochBatches.isEmpty else { throw RNNError("training: no batches (empty training set?)") }
            let totalSteps = epochBatches.count * options.epochs
            let partial = try takeResumedPartialEpoch(epoch: epoch, batches: epochBatches.count)
            let start = DispatchTime.now().uptimeNanoseconds - UInt64((partial?.seconds ?? 0) * 1e9)
            let cpuStart = processCPUSeconds()
            var lossSum = partial?.lossSum ?? 0, lossCount = partial?.lossCount ?? 0, tokens = partial?.tokens ?? 0
            var normSum = partial?.normSum ?? 0, normMax = partial?.normMax ?? 0
            allReduceSeconds = 0
            rankWaitSeconds = 0
            allReducedGradientFloats = 0
            phases = StepPhases()
            try verifyRanksAgree(epoch: epoch, batchCount: epochBatches.count)
            for (index, batch) in epochBatches.enumerated() where index >= (partial?.batchesDone ?? 0) {
                store.zeroGradients()
                let result = try averageOverRanks(timed(\.compute) { try step(batch) })
                guard result.loss.isFinite else {
                    throw agreedOnEveryRank(stopped("epoch \(epoch) step \(steps + 1): the loss is \(result.loss)"))
                }
                let norm = try clipGradients()
                guard norm.isFinite else {
                    throw agreedOnEveryRank(stopped("epoch \(epoch) step \(steps + 1): the gradient norm is \(norm)"))
                }
                optimizer.learningRate = try learningRate(step: steps, totalSteps: totalSteps)
                try updateWeights()
                steps += 1
                lossSum += result.loss * Double(result.count)
                lossCount += result.count
                tokens += result.tokens
                normSum += Double(norm)
                normMax = max(normMax, Double(norm))
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                onEvent(.batch(epoch: epoch, batch: index + 1, batches: epochBatches.count,
                               runningLoss: lossSum / Double(max(lossCount, 1)), gradientNorm: Double(norm),
                               tokensPerSecond: Double(tokens) / max(elapsed, 1e-9), elapsed: elapsed))
                if try stopRequestedOnAnyRank() {
                    try gatherOptimizerState()
                    throw interruption(PartialEpoch(epoch: epoch, batchesDone: index + 1, lossSum: lossSum, lossCount: lossCount,
                                                    tokens: tokens, normSum: normSum, normMax: normMax, seconds: elapsed))
                }
            }
            let trainSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let trainCPUSeconds = processCPUSeconds() - cpuStart
            let validation = try validate?()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let record = EpochRecord(epoch: epoch, trainLoss: lossSum / Double(max(lossCount, 1)),
                                     validationLoss: validation?.loss, metrics: validation?.metrics ?? [:],
                                     meanGradientNorm: normSum / Double(epochBatches.count), maxGradientNorm: normMax,
                                     learningRate: Double(optimizer.learningRate), seconds: seconds,
                                     tokensPerSecond: Double(tokens) / max(trainSeconds, 1e-9),
                                     allReduceSeconds: collective.isDistributed ? allReduceSeconds : nil,
                                     rankWaitSeconds: collective.isDistributed ? rankWaitSeconds : nil,
                                     allReducedGradientFloats: collective.isDistributed ? allReducedGradientFloats : nil,
                                     cpuSeconds: trainCPUSeconds, phases: phases)
            history.append(record)
            completedEpochs = epoch
            onEvent(.epoch(record))

            var stop = false
            if let validation {
                let value = monitor == "loss" ? validation.loss : (validation.metrics[monitor] ?? validation.loss)
                if var plateau {
                    plateau.step(metric: value)
                    self.plateau = plateau
                }
                if best == nil || (higherIsBetter ? value > best!.value : value < best!.value) {
                    best = (value, epoch)
                    if options.restoreBest { bestWeights = store.snapshot() }
                    epochsWithoutImprovement = 0
                } else {
                    epochsWithoutImprovement += 1
                    if let patience = options.patience, epochsWithoutImprovement >= patience { stop = true }
                }
            }
            try gatherOptimizerState()
            try onEpochEnd(state(generatorState: []))
            if stop { break }
        }
        try endNodeSharedStep()
        if let bestWeights { store.restore(bestWeights) }
        return history
    }

    /// The current state (the caller fills in `generatorState`).
    public func state(generatorState: [UInt64]) -> TrainerState {
        TrainerState(completedEpochs: completedEpochs, steps: steps, history: history, bestValue: best?.value, bestEpoch: best?.epoch,
                     epochsWithoutImprovement: epochsWithoutImprovement, plateau: plateau, generatorState: generatorState)
    }

    /// Continues from a checkpoint: the next `fit` starts after `state.completedEpochs`. Weights
    /// and optimizer state are restored by the caller; `bestWeights` are those of the best epoch.
    public func resume(from state: TrainerState, bestWeights: [Float]?) throws {
        guard state.completedEpochs <= options.epochs else {
            throw RNNError("the checkpoint has \(state.completedEpochs) epochs done, more than --epochs \(options.epochs)")
        }
        if let bestWeights, bestWeights.count != store.scalarCount {
            throw RNNError("checkpoint: best weights hold \(bestWeights.count) values for a model of \(store.scalarCount)")
        }
        completedEpochs = state.completedEpochs
        steps = state.steps
        history = state.history
        if let value = state.bestValue, let epoch = state.bestEpoch { best = (value, epoch) } else { best = nil }
        epochsWithoutImprovement = state.epochsWithoutImprovement
        plateau = state.plateau
        self.bestWeights = bestWeights
        try resumeInsideEpoch(state.partialEpoch)
    }

    /// The rate for optimizer step `step` (0-based) of `totalSteps`: the schedule (cosine to 1% of
    /// the rate, or the plateau rule's current rate) behind an optional linear warm-up.
    private func learningRate(step: Int, totalSteps: Int) throws -> Float {
        let base: any LearningRateSchedule
        switch options.schedule {
        case .constant:
            base = try ConstantSchedule(learningRate: options.learningRate)
        case .cosine:
            base = try CosineAnnealingSchedule(initialLearningRate: options.learningRate,
                                               minimumLearningRate: options.learningRate * 0.01,
                                               steps: max(totalSteps - options.warmupSteps, 1))
        case .plateau:
            base = try ConstantSchedule(learningRate: plateau?.learningRate ?? options.learningRate)
        }
        guard options.warmupSteps > 0 else { return base.learningRate(at: step) }
        return try WarmupSchedule(warmupSteps: options.warmupSteps, then: AnySchedule(base)).learningRate(at: step)
    }

    /// A non-finite loss or gradient: restore the best weights so far (so the caller can still save
    /// a good model) and explain what to change.
    private func stopped(_ what: String) -> RNNError {
        if let bestWeights { store.restore(bestWeights) }
        return RNNError("\(what); training stopped. Lower --lr or set --clip-norm (the best weights so far are kept)")
    }

    /// The history as CSV (one row per epoch; metric columns sorted by name).
    public func historyCSV() -> String {
        let metricNames = Set(history.flatMap { $0.metrics.keys }).sorted()
        var lines = [(["epoch", "train_loss", "validation_loss"] + metricNames
                      + ["mean_gradient_norm", "max_gradient_norm", "learning_rate", "seconds", "tokens_per_second"]).joined(separator: ",")]
        for record in history {
            var fields = ["\(record.epoch)", "\(record.trainLoss)", record.validationLoss.map { "\($0)" } ?? ""]
            fields += metricNames.map { record.metrics[$0].map { "\($0)" } ?? "" }
            fields += ["\(record.meanGradientNorm)", "\(record.maxGradientNorm)", "\(record.learningRate)",
                       "\(record.seconds)", "\(record.tokensPerSecond)"]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A schedule behind an existential, so `WarmupSchedule` can wrap whichever the options chose.
private struct AnySchedule: LearningRateSchedule {
    let base: any LearningRateSchedule
    init(_ base: any LearningRateSchedule) { self.base = base }
    func learningRate(at step: Int) -> Float { base.learningRate(at: step) }
}
