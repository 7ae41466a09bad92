import Foundation
import RNNCore

extension StepResult {
    /// The step's figures that the ranks sum: loss × items, items, tokens (the all-reduce steps);
    /// the node-shared step appends each rank's item count.
    var figuresToSum: [Double] { [count > 0 ? loss * Double(count) : 0, Double(count), Double(tokens)] }

    /// The global batch's result from `figuresToSum` summed over ranks.
    init(summedFigures totals: [Double]) throws {
        guard totals[1] > 0 else { throw RNNError("distributed training: a global batch with no items on any rank") }
        self.init(loss: totals[0] / totals[1], count: Int(totals[1]), tokens: Int(totals[2]))
    }
}

/// Data-parallel steps. Rank r of N runs the task's step on its shard of the global batch (rows
/// r, r+N, …), which leaves in the store the gradient of its own mean loss over its n_r items:
///
///     g_r = (1/n_r) Σ_{i ∈ shard r} ∇ℓ_i
///
/// The gradient of the mean loss over the whole global batch of n = Σ n_r items is then
///
///     g = (1/n) Σ_r n_r · g_r
///
/// so each rank scales its buffer by n_r, one in-place all-reduce sums the contiguous gradient
/// buffer, and each rank scales by 1/n (n itself, the loss sum and the token count are summed
/// in a three-number all-reduce just before). Counting items rather than ranks keeps this exact
/// when shards hold different numbers of rows or of unmasked tokens (padding, the last batch).
/// Clipping and the optimizer step follow on identical gradients, so the weights stay identical.
///
/// **Sharded step** (ZeRO stage 1; `--sharded-optimizer`, `shardsOptimizerStep`, with an `Optimizer`): rank r
/// owns the contiguous part P_r of the parameter buffer (`shardRange`, N near-equal parts). In
/// place of the all-reduce and the N-fold repeated update:
///
///     g[P_r] ← (1/n) Σ_r' n_r' g_r'[P_r]          reduce-scatter (half an all-reduce's traffic)
///     ‖g‖²  = Σ_r ‖g[P_r]‖²                       one-number all-reduce of the parts' sums
///     g[P_r] ← clip(g[P_r], ‖g‖)                  the same factor on every rank
///     θ[P_r], m[P_r], v[P_r] ← update(θ[P_r], g[P_r])   this rank's part of the optimizer only
///     θ ← all-gather of the θ[P_r]                every rank holds all weights again
///
/// Each scalar goes through the same arithmetic as in the dense step, so the weights agree with
/// it (and with one process) to rounding in the order of the sums. The optimizer state is
/// gathered (`gatherOptimizerState`) before a checkpoint, so checkpoints hold all of it and a
/// run resumes on any number of ranks.
extension Trainer {
    /// The optimizer when this run shards its step, nil otherwise (one process, dense mode, or an
    /// optimizer that cannot update a part of the buffer).
    var shardedOptimizer: (any ShardableOptimizer)? {
        guard collective.isDistributed, collective.shardsOptimizerStep || nodeShared != nil else { return nil }
        return optimizer as? any ShardableOptimizer
    }

    /// The step's result summed over ranks, with the store's gradients averaged over the global
    /// batch (sharded step: only this rank's part of them). One process: `local` unchanged.
    func averageOverRanks(_ local: StepResult) throws -> StepResult {
        guard collective.isDistributed else { return local }
        if let nodeShared { return try averageThroughSharedMemory(local, nodeShared) }
        if let early = overlappedScalars { return try averageOverlapping(local, early: early) }
        let gradients = store.allGradients
        let sharded = shardedOptimizer != nil
        timed(\.update) { scale(gradients, by: Float(local.count)) }
        // The three numbers first: this small call also waits for the slowest rank, so the
        // gradient all-reduce after it times the transfer alone.
        let totals = try timed(\.wait) { try collective.sum(local.figuresToSum) }
        try timed(\.communication) {
            if sharded {
                allReducedGradientFloats += gradients.count
                try collective.reduceScatterSum(gradients)
            } else {
                try allReduceGradientSum(gradients.indices)
            }
        }
        let global = try StepResult(summedFigures: totals)
        let part = sharded ? collective.shardRange(count: gradients.count) : gradients.indices
        timed(\.update) { scale(UnsafeMutableBufferPointer(rebasing: gradients[part]), by: Float(1 / totals[1])) }
        return global
    }

    /// Clipping after the gradients are averaged: by global norm (`clipNorm`) then by value
    /// (`clipValue`). Returns the global norm before clipping (summed from the ranks' parts in a
    /// sharded step); a non-finite norm leaves the gradients as they are.
    func clipGradients() throws -> Float {
        guard shardedOptimizer != nil else {
            return try timed(\.update) {
                let norm: Float
                if let clipNorm = options.clipNorm {
                    norm = try GradientClipping.clipByGlobalNorm(store, maxNorm: clipNorm)
                } else {
                    norm = GradientClipping.globalNorm(of: store)
                }
                if norm.isFinite, let clipValue = options.clipValue { try GradientClipping.clipByValue(store, limit: clipValue) }
                return norm
            }
        }
        let part = collective.shardRange(count: store.scalarCount)
        var sumOfSquares = [timed(\.update) { trainableSumOfSquares(in: part) }]
        try timed(\.communication) { try collective.allReduceSum(&sumOfSquares) }
        return timed(\.update) {
            // GradientClipping's rule, on this rank's part.
            let norm = Float(sumOfSquares[0].squareRoot())
            guard norm.isFinite else { return norm }
            if let clipNorm = options.clipNorm, norm > clipNorm {
                let factor = Float(Double(clipNorm) / (Double(norm) + 1e-6))
                forEachTrainablePiece(of: part) { gradients, count in
                    for i in 0..<count { gradients[i] *= factor }
                }
            }
            if let limit = options.clipValue {
                forEachTrainablePiece(of: part) { gradients, count in
                    for i in 0..<count {
                        let value = gradients[i]
                        gradients[i] = value > limit ? limit : (value < -limit ? -limit : value)
                    }
                }
            }
            return norm
        }
    }

    /// The optimizer step: this rank's part and an all-gather of the weights (sharded), or the
    /// whole buffer.
    func updateWeights() throws {
        guard let sharded = shardedOptimizer else {
            timed(\.update) { optimizer.step() }
            return
        }
        timed(\.update) { sharded.step(scalars: collective.shardRange(count: store.scalarCount)) }
        if let nodeShared {
            try timed(\.communication) { try publishWeights(nodeShared) }
        } else {
            try timed(\.communication) { try collective.allGather(store.allValues) }
        }
    }

    /// Sharded step: brings every rank's part of the optimizer state to every rank, so the state
    /// a checkpoint saves is whole. Collective: every rank calls it at the same points (before
    /// each checkpoint). Nothing to do otherwise.
    func gatherOptimizerState() throws {
        guard let sharded = shardedOptimizer else { return }
        try timed(\.communication) {
            for slot in sharded.stateSlots { try collective.allGather(slot) }
        }
    }

    /// Σ g² in Double over the trainable gradients inside `part`.
    private func trainableSumOfSquares(in part: Range<Int>) -> Double {
        var sum = 0.0
        forEachTrainablePiece(of: part) { gradients, count in sum += GradientClipping.sumOfSquaresOf(gradients, count: count) }
        return sum
    }

    /// Calls `body` with each trainable parameter's gradients inside `part` (start, count).
    private func forEachTrainablePiece(of part: Range<Int>, _ body: (UnsafeMutablePointer<Float>, Int) -> Void) {
        let gradients = store.allGradients.baseAddress!
        for parameter in store.parameters where !store.isFrozen(parameter) {
            let lower = max(parameter.offset, part.lowerBound), upper = min(parameter.offset + parameter.count, part.upperBound)
            if lower < upper { body(gradients + lower, upper - lower) }
        }
    }

    /// Runs `body`, adding its wall-clock and CPU time to `phase` of this epoch's `phases`
    /// (and the communication and wait phases to `allReduceSeconds` and `rankWaitSeconds`).
    func timed<Result>(_ phase: WritableKeyPath<StepPhases, PhaseTime>, _ body: () throws -> Result) rethrows -> Result {
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUSeconds()
        let result = try body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        phases[keyPath: phase].seconds += seconds
        phases[keyPath: phase].cpuSeconds += processCPUSeconds() - cpuStart
        if phase == \.communication { allReduceSeconds += seconds }
        if phase == \.wait { rankWaitSeconds += seconds }
        return result
    }

    /// At the start of every epoch: every rank must hold the same weights (same seed, model
    /// options and vocabulary at the start; no drift later) and have the same number of batches
    /// (same data and batch size). Every rank finds a mismatch alike, so rank 0 reports it.
    func verifyRanksAgree(epoch: Int, batchCount: Int) throws {
        guard collective.isDistributed else { return }
        var fingerprint = Fingerprint()
        fingerprint.add(batchCount)
        fingerprint.add(store.scalarCount)
        fingerprint.add(words: UnsafeBufferPointer(store.allValues))
        do {
            try collective.verifyIdentical(fingerprint.value, what: "weights or numbers of batches at the start of epoch \(epoch) (options, seed or data differ)")
        } catch let error as RNNError {
            throw CollectiveFailure(error)
        }
    }

    /// A stop every rank meets alike (a non-finite loss or gradient norm, computed from the summed
    /// values): in a distributed run, reported once by rank 0.
    func agreedOnEveryRank(_ error: RNNError) -> any Error {
        collective.isDistributed ? CollectiveFailure(error) : error
    }

    func scale(_ values: UnsafeMutableBufferPointer<Float>, by factor: Float) {
        guard factor != 1 else { return }
        for index in values.indices { values[index] *= factor }
    }
}

/// An optimizer that can update a part of the parameter buffer, for the sharded step.
public protocol ShardableOptimizer: TrainingOptimizer {
    /// `step()` on the scalars `range` of the store only.
    func step(scalars range: Range<Int>)
    /// The per-scalar state slots, each aligned with the store's `allValues`.
    var stateSlots: [UnsafeMutableBufferPointer<Float>] { get }
}

extension Optimizer: ShardableOptimizer {}

/// Wall-clock and CPU seconds of one part of the training steps.
public struct PhaseTime: Codable, Sendable, Equatable {
    public var seconds = 0.0
    /// CPU seconds of this process, all threads (MPI's busy-polling while it waits included).
    public var cpuSeconds = 0.0
}

/// Where an epoch's training steps spent their time, on this rank (rank 0's in `history.json`).
public struct StepPhases: Codable, Sendable, Equatable {
    /// The task's forward and backward pass.
    public var compute = PhaseTime()
    /// Distributed runs: the small all-reduce of loss, count and tokens, which waits for the
    /// slowest rank.
    public var wait = PhaseTime()
    /// Distributed runs: the gradient all-reduce (dense), or the reduce-scatter, norm
    /// all-reduce and weight all-gather (sharded).
    public var communication = PhaseTime()
    /// Scaling the gradients, clipping and the optimizer step.
    public var update = PhaseTime()
    public init() {}
}

/// CPU time of this process, all threads.
func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Helpers the tasks use to shard their batches and reduce their validation metrics.
public enum DistributedTraining {
    /// The dropout generator of `rank` in `epoch` of a distributed run. Ranks must share the
    /// shuffling generator (so they cut the same global batches) but draw different dropout masks
    /// for their different rows; deriving this one from (seed, rank, epoch) keeps the shuffling
    /// generator in step everywhere and makes a resumed run draw the same masks.
    public static func dropoutGenerator(seed: UInt64, rank: Int, epoch: Int) -> SeededGenerator {
        var fingerprint = Fingerprint()
        fingerprint.add(seed)
        fingerprint.add(rank)
        fingerprint.add(epoch)
        return SeededGenerator(seed: fingerprint.value)
    }

    /// Columns `rows` of a time-major (steps, size) array, keeping the first `keepSteps` steps.
    public static func selectColumns<Element>(_ values: [Element], size: Int, rows: [Int], keepSteps: Int) -> [Element] {
        var result: [Element] = []
        result.reserveCapacity(keepSteps * rows.count)
        for t in 0..<keepSteps {
            for row in rows { result.append(values[t * size + row]) }
        }
        return result
    }
}

extension TokenBatch {
    /// The batch of rows `rows` (non-empty), padded only to its own longest row.
    public func selecting(rows: [Int]) throws -> TokenBatch {
        guard !rows.isEmpty else { throw RNNError("batch: no rows selected") }
        var copy = self
        copy.lengths = rows.map { lengths[$0] }
        copy.indices = rows.map { indices[$0] }
        copy.tokens = DistributedTraining.selectColumns(tokens, size: size, rows: rows, keepSteps: copy.lengths.max()!)
        return copy
    }
}
