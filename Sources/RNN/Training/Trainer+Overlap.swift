import Foundation
import RNNCore

/// Communication hidden behind the backward pass (the dense step only), as DDP's gradient buckets
/// do. A language model's output layer is the first layer its backward pass finishes, and the
/// largest block of its gradient buffer (jokes-lm: 459 k of 1.61 M floats). The task names its
/// scalars (`earlyGradientScalars`, a contiguous range: the head's parameters are added last)
/// and calls `earlyGradientsFinal(localCount:)` from the model's backward pass right after the
/// head; then, per step on rank r with n_r items, E the early range and R the rest:
///
///     g[E] ← n_r · g_r[E];  start all-reduce of g[E]     (MPI_Iallreduce; recurrent backward runs on)
///     g[R] ← n_r · g_r[R]
///     n, loss, tokens ← Σ over ranks                    (blocking; Open MPI advances g[E] meanwhile)
///     g[R] ← Σ_r g[R];  wait for g[E]
///     g ← g / n
///
/// Every element goes through the same multiplications and the same sum over ranks as in the
/// blocking step (`averageOverRanks`), so with 2 ranks (a + b = b + a) the weights are bitwise
/// those of the blocking step; with more, Open MPI's non-blocking algorithm may add the ranks'
/// values in another order (differences of float rounding). A rank whose step has no rows, or
/// whose model did not call back, starts the same reduction in `averageOverlapping`, so every
/// rank issues the same collective calls in the same order.
extension Trainer {
    /// The early range when this run overlaps its communication: distributed, dense step, and the
    /// collective allows it (`--blocking-allreduce` turns it off).
    public var overlappedScalars: Range<Int>? {
        guard collective.isDistributed, collective.overlapsGradientAllReduce, !usesNodeSharedStep, shardedOptimizer == nil,
              let early = earlyGradientScalars, !early.isEmpty else { return nil }
        return early
    }

    /// Called by the task's backward pass once the gradients of `earlyGradientScalars` are final,
    /// with the number of items its loss averages over (n_r, as its `StepResult.count` will say):
    /// scales them by n_r and starts their all-reduce. Does nothing when this run does not overlap.
    public func earlyGradientsFinal(localCount: Int) throws {
        guard let early = overlappedScalars, pendingEarlyReduction == nil else { return }
        let slice = UnsafeMutableBufferPointer(rebasing: store.allGradients[early])
        scale(slice, by: Float(localCount))
        allReducedGradientFloats += slice.count
        let pending = try collective.startAllReduceSum(slice)
        try collective.progress(pending)
        pendingEarlyReduction = (pending, localCount)
    }

    /// `averageOverRanks` of the dense step with the early range's all-reduce started in the
    /// backward pass (or here).
    func averageOverlapping(_ local: StepResult, early: Range<Int>) throws -> StepResult {
        let gradients = store.allGradients
        let started: PendingAllReduce
        if let pendingEarlyReduction {
            self.pendingEarlyReduction = nil
            guard pendingEarlyReduction.count == local.count else {
                throw RNNError("distributed training: the step averaged over \(local.count) items but announced \(pendingEarlyReduction.count) to earlyGradientsFinal")
            }
            started = pendingEarlyReduction.pending
        } else {
            started = try timed(\.communication) {
                let slice = UnsafeMutableBufferPointer(rebasing: gradients[early])
                scale(slice, by: Float(local.count))
                allReducedGradientFloats += slice.count
                return try collective.startAllReduceSum(slice)
            }
        }
        let rest = [0..<early.lowerBound, early.upperBound..<gradients.count].filter { !$0.isEmpty }
        timed(\.update) { for piece in rest { scale(UnsafeMutableBufferPointer(rebasing: gradients[piece]), by: Float(local.count)) } }
        let totals = try timed(\.wait) { try collective.sum(local.figuresToSum) }
        try timed(\.communication) {
            for piece in rest { try allReduceGradientSum(piece) }
            try collective.wait(started)
        }
        let global = try StepResult(summedFigures: totals)
        timed(\.update) { scale(gradients, by: Float(1 / totals[1])) }
        return global
    }
}
