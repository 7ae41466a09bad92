import Foundation
import RNNCore

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
extension Trainer {
    /// The step's result summed over ranks, with the store's gradients averaged over the global
    /// batch. One process: `local` unchanged.
    func averageOverRanks(_ local: StepResult) throws -> StepResult {
        guard collective.isDistributed else { return local }
        let gradients = store.allGradients
        scale(gradients, by: Float(local.count))
        // The three numbers first: this small call also waits for the slowest rank, so the
        // gradient all-reduce after it times the transfer alone.
        let start = DispatchTime.now().uptimeNanoseconds
        let totals = try collective.sum([local.count > 0 ? local.loss * Double(local.count) : 0, Double(local.count), Double(local.tokens)])
        let synchronized = DispatchTime.now().uptimeNanoseconds
        try collective.allReduceSum(gradients)
        rankWaitSeconds += Double(synchronized - start) / 1e9
        allReduceSeconds += Double(DispatchTime.now().uptimeNanoseconds - synchronized) / 1e9
        guard totals[1] > 0 else { throw RNNError("distributed training: a global batch with no items on any rank") }
        scale(gradients, by: Float(1 / totals[1]))
        return StepResult(loss: totals[0] / totals[1], count: Int(totals[1]), tokens: Int(totals[2]))
    }

    /// At the start of every epoch: every rank must hold the same weights (same seed, model
    /// options and vocabulary at the start; no drift later) and have the same number of batches
    /// (same data and batch size). Every rank finds a mismatch alike, so rank 0 reports it.
    func verifyRanksAgree(epoch: Int, batchCount: Int) throws {
        guard collective.isDistributed else { return }
        var fingerprint = Fingerprint()
        fingerprint.add(batchCount)
        fingerprint.add(store.scalarCount)
        fingerprint.add(bytes: UnsafeRawBufferPointer(store.allValues))
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

    private func scale(_ values: UnsafeMutableBufferPointer<Float>, by factor: Float) {
        guard factor != 1 else { return }
        for index in values.indices { values[index] *= factor }
    }
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
