import Foundation
import RNNCore

/// The node-shared step: when every rank runs on one machine (the default there; off with
/// `--no-shared-memory`), the ranks exchange gradients and weights through memory they all map
/// (an MPI-3 shared-memory window) instead of copying them through MPI's all-reduce. For the
/// length of a `fit`, the ranks' stores hold ONE copy of the weights, in rank 0's segment, and
/// rank q's gradients in its own segment, so every rank reads every rank's gradients and writes
/// the weights all of them use. Rank r owns the part P_r of the parameter buffer (`shardRange`)
/// and, per step with n_q items on rank q:
///
///     n, loss, tokens, (n_q)_q ← Σ over ranks       the step's small all-reduce: every gradient is final
///     g_r[P_r] ← (1/n) Σ_q n_q · g_q[P_r]           read from the N segments, in rank order
///     ‖g‖² = Σ_r ‖g[P_r]‖²                          one-number all-reduce; clip P_r by ‖g‖
///     θ[P_r], m[P_r], v[P_r] ← update(g_r[P_r])     this rank's part of the optimizer only
///     barrier                                        every rank sees all the new θ
///
/// This is the sharded step (ZeRO-1) of `Trainer+Distributed.swift` with the reduce-scatter and
/// the all-gather done by loads and stores. Each element goes through the products and the sum of
/// the dense step (`averageOverRanks`: n_q · g_q, summed over ranks, times 1/n), so on 2 ranks
/// (a + b = b + a) the averaged gradient is bitwise that of MPI's all-reduce; the weights agree
/// with it, and with one process, to rounding (the gradient norm is summed by parts). Per step
/// each rank reads its part of the buffer from every segment once, against a full copy of the
/// buffer in and out of MPI (and two scaling passes) in the all-reduce step; and the machine's
/// caches hold one copy of the weights instead of N. Writes to the weights outside the optimizer
/// step (loading, restoring the best epoch) happen before and after `fit`, in each rank's own
/// memory. Across machines MPI's all-reduce is used.
extension Trainer {
    /// Whether this run's `fit` uses the node-shared step.
    public var usesNodeSharedStep: Bool {
        collective.isDistributed && collective.sharesNodeMemory && optimizer is any ShardableOptimizer
    }

    /// At the start of `fit` (collective): moves the store into this rank's segment.
    func beginNodeSharedStep() throws {
        guard usesNodeSharedStep, nodeShared == nil else { return }
        let count = store.scalarCount, gradientOffset = (count + 15) / 16 * 16
        guard let segments = try collective.makeNodeSharedSegments(floatsPerRank: gradientOffset + count) else { return }
        // The weights: rank 0's copy (the ranks hold the same ones), in rank 0's segment.
        store.relocate(values: segments.segment(0), gradients: segments.segment(collective.rank) + gradientOffset, owner: segments,
                       copyingValues: collective.isLeader)
        nodeShared = segments
        try collective.barrier()
    }

    /// At the normal end of `fit` (collective): back to the store's own memory, segments freed.
    func endNodeSharedStep() throws {
        guard let segments = nodeShared else { return }
        leaveNodeSharedMemory()
        try collective.barrier()
        try segments.free()
    }

    /// Moves the store back to its own memory (also when `fit` ends with an error: the segments
    /// are then left to `MPI_Finalize`, since the other ranks may not be here to free them).
    func leaveNodeSharedMemory() {
        guard nodeShared != nil else { return }
        store.relocateToOwnedMemory()
        nodeShared = nil
    }

    /// `averageOverRanks` of the node-shared step: the step's figures summed over ranks, and
    /// this rank's part of the gradient averaged over the global batch.
    func averageThroughSharedMemory(_ local: StepResult, _ segments: NodeSharedSegments) throws -> StepResult {
        let ranks = collective.size, rank = collective.rank
        guard store.allGradients.baseAddress == segments.segment(rank) + (segments.floatsPerRank - store.scalarCount) else {
            throw RNNError("distributed training: the model's parameters changed during training (the shared-memory step needs a fixed buffer)")
        }
        var figures = local.figuresToSum + [Double](repeating: 0, count: ranks)
        figures[3 + rank] = Double(local.count)
        segments.synchronize()
        let totals = try timed(\.wait) { try collective.sum(figures) }
        segments.synchronize()
        let global = try StepResult(summedFigures: totals)
        let part = collective.shardRange(count: store.scalarCount)
        let gradientOffset = segments.floatsPerRank - store.scalarCount
        timed(\.communication) {
            let sources = (0..<ranks).map { UnsafePointer(segments.segment($0) + gradientOffset) }
            let factors = (0..<ranks).map { Float(totals[3 + $0]) }
            sumOverRanks(sources, factors: factors, scale: Float(1 / totals[1]),
                         into: segments.segment(rank) + gradientOffset, range: part)
        }
        return global
    }

    /// After this rank's part of the optimizer step (in the weights every rank uses): a barrier,
    /// so every rank starts the next step with all the new weights.
    func publishWeights(_ segments: NodeSharedSegments) throws {
        segments.synchronize()
        try collective.barrier()
        segments.synchronize()
    }
}

/// target[i] = (Σ_q factors[q] · sources[q][i]) · scale for i in `range`, the sum in rank order
/// (a rank with no items has factor 0 and a zero gradient). `target` is one of the sources (in
/// place), which keeps the compiler from vectorizing a plain loop: 8 lanes by hand, the same
/// products and sums per element (no fused multiply-add).
func sumOverRanks(_ sources: [UnsafePointer<Float>], factors: [Float], scale: Float,
                  into target: UnsafeMutablePointer<Float>, range: Range<Int>) {
    typealias Lanes = SIMD8<Float>
    let width = Lanes.scalarCount, stride = MemoryLayout<Float>.stride
    let output = UnsafeMutableRawPointer(target), scales = Lanes(repeating: scale)
    let inputs = sources.map { UnsafeRawPointer($0) }
    var i = range.lowerBound
    if sources.count == 2 {
        let a = inputs[0], b = inputs[1], fa = Lanes(repeating: factors[0]), fb = Lanes(repeating: factors[1])
        while i + width <= range.upperBound {
            let x = a.loadUnaligned(fromByteOffset: i * stride, as: Lanes.self)
            let y = b.loadUnaligned(fromByteOffset: i * stride, as: Lanes.self)
            let sum = fa * x + fb * y
            output.storeBytes(of: sum * scales, toByteOffset: i * stride, as: Lanes.self)
            i += width
        }
    } else {
        let laneFactors = factors.map { Lanes(repeating: $0) }
        while i + width <= range.upperBound {
            var sum = laneFactors[0] * inputs[0].loadUnaligned(fromByteOffset: i * stride, as: Lanes.self)
            for q in 1..<inputs.count { sum += laneFactors[q] * inputs[q].loadUnaligned(fromByteOffset: i * stride, as: Lanes.self) }
            output.storeBytes(of: sum * scales, toByteOffset: i * stride, as: Lanes.self)
            i += width
        }
    }
    while i < range.upperBound {
        var sum = factors[0] * sources[0][i]
        for q in 1..<sources.count { sum += factors[q] * sources[q][i] }
        target[i] = sum * scale
        i += 1
    }
}
