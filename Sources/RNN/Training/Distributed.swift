import Foundation
import RNNCore

/// The collective operations data-parallel training needs, independent of the transport.
///
/// Every rank runs the same program on its own shard of each batch. After the backward pass the
/// ranks sum their gradients (`allReduceSum` over the store's single gradient buffer), so each
/// takes the same optimizer step and the weights stay identical everywhere. A call is collective:
/// every rank must make the same calls in the same order.
///
/// Implementations: `SingleProcessCollective` (one rank: every operation is the identity) and
/// `MPICollective` (Open MPI, loaded at run time).
public protocol Collective: AnyObject {
    /// This process's rank, 0..<size.
    var rank: Int { get }
    /// Number of ranks.
    var size: Int { get }
    /// Sums `values` over all ranks in place (every rank ends with the same sums).
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// Sums `values` over all ranks in place, in double precision.
    func allReduceSum(_ values: inout [Double]) throws
    /// Element-wise minimum and maximum over all ranks.
    func allReduceMinMax(_ values: [Double]) throws -> (minimum: [Double], maximum: [Double])
    /// Reduce-scatter: sums `values` over all ranks but leaves in place only this rank's part
    /// of the sums, `values[shardRange(count: values.count)]`; the rest of `values` is left
    /// unspecified. Half the traffic of `allReduceSum` (a ring all-reduce is a reduce-scatter
    /// followed by an all-gather).
    func reduceScatterSum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// All-gather: rank r contributes `values[shardRange(count: values.count, rank: r)]`, and
    /// every rank ends with every part in place.
    func allGather(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// Whether data-parallel training shards the optimizer step over the ranks (reduce-scatter,
    /// update of this rank's part, all-gather of the weights) instead of all-reducing the whole
    /// gradient and updating everything on every rank (see `Trainer+Distributed.swift`).
    var shardsOptimizerStep: Bool { get }
    /// Whether the dense step may start the all-reduce of the gradients a model finishes early in
    /// its backward pass (the output layer's) before the rest of the backward pass, and complete
    /// it after (see `Trainer+Overlap.swift`).
    var overlapsGradientAllReduce: Bool { get }
    /// Starts summing `values` over all ranks in place, without waiting (`MPI_Iallreduce`): the
    /// buffer must stay untouched until `wait`. Every rank must start the same reductions in the
    /// same order, and between the start and the wait make only collective calls that every
    /// rank makes too.
    func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws -> PendingAllReduce
    /// Lets a started reduction advance (`MPI_Test`; Open MPI moves non-blocking collectives on
    /// only inside MPI calls).
    func progress(_ pending: PendingAllReduce) throws
    /// Waits until a started reduction is complete (under the collective timeout).
    func wait(_ pending: PendingAllReduce) throws
    /// Whether the all-reduce steps send, of each row-sparse table (an embedding), only the rows
    /// some rank's gradient touched (see `Trainer+TouchedRows.swift`). The same on every rank.
    var sendsTouchedRowsOnly: Bool { get }
    /// Whether the ranks may reduce their gradients through memory they all map, in place of
    /// MPI's all-reduce: every rank runs on one node and it was not turned off (see
    /// `Trainer+SharedMemory.swift`). The same on every rank.
    var sharesNodeMemory: Bool { get }
    /// Collective: memory every rank maps, `floatsPerRank` floats per rank (`NodeSharedSegments`),
    /// or nil on every rank when the transport cannot provide it.
    func makeNodeSharedSegments(floatsPerRank: Int) throws -> NodeSharedSegments?
    /// Collective: returns once every rank has called it. Stores to `NodeSharedSegments` made
    /// before it on any rank are visible after it on every rank.
    func barrier() throws
    /// Ends the whole job at once (after an error on one rank only, when the others may be
    /// waiting inside a collective operation). Never returns.
    func abort(code: Int32) -> Never
    /// Ends the collective normally (all ranks call it).
    func finish()
    /// Collective operations made so far.
    var operations: Int { get }
}

extension Collective {
    public var overlapsGradientAllReduce: Bool { false }
    public var sendsTouchedRowsOnly: Bool { false }
    public var sharesNodeMemory: Bool { false }
    public func makeNodeSharedSegments(floatsPerRank: Int) throws -> NodeSharedSegments? { nil }
    public func barrier() throws { _ = try sum([0]) }

    /// Without non-blocking operations: the blocking all-reduce at once.
    public func startAllReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws -> PendingAllReduce {
        try allReduceSum(values)
        let pending = PendingAllReduce()
        pending.isComplete = true
        return pending
    }

    public func progress(_ pending: PendingAllReduce) throws {}
    public func wait(_ pending: PendingAllReduce) throws {}

    /// Rank 0 logs, reports progress and writes files.
    public var isLeader: Bool { rank == 0 }
    public var isDistributed: Bool { size > 1 }

    /// Rows of a batch of `count` rows that this rank trains on: rank r takes rows r, r+N, r+2N, …
    /// Bucketed batches are sorted by length, so striding gives every rank a similar share of
    /// tokens. Empty when the batch has fewer rows than there are ranks and r ≥ count.
    public func shardRows(count: Int) -> [Int] {
        Array(stride(from: rank, to: count, by: size))
    }

    /// Checks that every rank has the same `fingerprint` (of its options, data and initial
    /// weights); `what` names it in the error, which every rank throws alike.
    public func verifyIdentical(_ fingerprint: UInt64, what: String) throws {
        guard isDistributed else { return }
        let halves = [Double(fingerprint >> 32), Double(fingerprint & 0xFFFF_FFFF)]
        let (minimum, maximum) = try allReduceMinMax(halves)
        guard minimum == maximum else {
            throw RNNError("distributed training: the \(size) ranks have different \(what); start every rank with the same command line and data")
        }
    }

    /// The part of a buffer of `count` elements that `rank` (this rank by default) owns in
    /// `reduceScatterSum`/`allGather`: contiguous parts in rank order, the first `count % size`
    /// ranks one element longer (odd sizes need no padding).
    public func shardRange(count: Int, rank: Int? = nil) -> Range<Int> {
        BufferShards.range(count: count, parts: size, part: rank ?? self.rank)
    }

    /// Sums per-rank scalars (loss sums, counts, confusion cells) over all ranks.
    public func sum(_ values: [Double]) throws -> [Double] {
        var values = values
        try allReduceSum(&values)
        return values
    }
}

/// A reduction started by `startAllReduceSum` and not yet waited for.
public final class PendingAllReduce {
    /// The transport's request handle (`MPI_Request`), nil once complete.
    var request: UnsafeMutableRawPointer?
    public internal(set) var isComplete = false
    public init() {}
}

/// Memory that every rank of one node maps (an MPI shared-memory window): rank r's segment of
/// `floatsPerRank` floats starts at `segment(r)` in every process. The segments are made with
/// `Collective.makeNodeSharedSegments` and freed with `free()` (collective); stores to them are
/// published to the other ranks by `synchronize()` before and after a collective call.
public final class NodeSharedSegments {
    public let floatsPerRank: Int
    private let bases: [UnsafeMutablePointer<Float>]
    private let synchronizeMemory: () -> Void
    private var freeSegments: (() throws -> Void)?

    public init(floatsPerRank: Int, bases: [UnsafeMutablePointer<Float>], synchronize: @escaping () -> Void,
                free: @escaping () throws -> Void) {
        self.floatsPerRank = floatsPerRank
        self.bases = bases
        self.synchronizeMemory = synchronize
        self.freeSegments = free
    }

    /// The first float of `rank`'s segment, in this process's address space.
    public func segment(_ rank: Int) -> UnsafeMutablePointer<Float> { bases[rank] }

    /// A memory fence for the segments (`MPI_Win_sync`).
    public func synchronize() { synchronizeMemory() }

    /// Collective: unmaps the segments on every rank. Nothing may use them after.
    public func free() throws {
        guard let freeSegments else { return }
        self.freeSegments = nil
        try freeSegments()
    }
}

/// One process: the collective operations are identities.
public final class SingleProcessCollective: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    public func allReduceSum(_ values: inout [Double]) throws {}
    public func allReduceMinMax(_ values: [Double]) throws -> (minimum: [Double], maximum: [Double]) { (values, values) }
    public func reduceScatterSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    public func allGather(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    public var shardsOptimizerStep: Bool { false }
    public func abort(code: Int32) -> Never { exit(code) }
    public func finish() {}
    public var operations: Int { 0 }
}

/// How a buffer splits into contiguous parts, one per rank.
public enum BufferShards {
    /// Part `part` of `parts` of a buffer of `count`: the first `count % parts` parts hold
    /// ⌊count / parts⌋ + 1 elements, the others ⌊count / parts⌋.
    public static func range(count: Int, parts: Int, part: Int) -> Range<Int> {
        precondition(parts >= 1 && (0..<parts).contains(part) && count >= 0)
        let base = count / parts, longer = count % parts
        let lower = part * base + min(part, longer)
        return lower..<(lower + base + (part < longer ? 1 : 0))
    }
}

/// A 64-bit FNV-1a hash, to compare options and data across ranks (not cryptographic).
public struct Fingerprint: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add(bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01B3
        }
    }

    /// Adds `values` 8 bytes at a time (a large buffer, e.g. all weights: eight times faster
    /// than `add(bytes:)`, with other values).
    public mutating func add(words values: UnsafeBufferPointer<Float>) {
        add(values.count)
        let raw = UnsafeRawPointer(values.baseAddress), bytes = values.count * MemoryLayout<Float>.stride
        guard let raw else { return }
        var offset = 0
        while offset + 8 <= bytes {
            value ^= raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            value = value &* 0x0000_0100_0000_01B3
            offset += 8
        }
        add(bytes: UnsafeRawBufferPointer(start: raw + offset, count: bytes - offset))
    }

    public mutating func add(_ string: String) {
        var string = string
        string.withUTF8 { add(bytes: UnsafeRawBufferPointer($0)) }
        add(0xFF as UInt8)  // separator, so ("ab", "c") and ("a", "bc") differ
    }

    public mutating func add<Value: BitwiseCopyable>(_ value: Value) {
        withUnsafeBytes(of: value) { add(bytes: $0) }
    }

    public mutating func add<Value: BitwiseCopyable>(_ values: [Value]) {
        add(values.count)
        values.withUnsafeBytes { add(bytes: $0) }
    }
}

/// An error every rank of a distributed run meets alike (the ranks disagree, the data set is too
/// small for them): rank 0 reports it and every rank ends normally, with no `MPI_Abort`.
public struct CollectiveFailure: Error, Sendable {
    public let error: RNNError
    public init(_ error: RNNError) { self.error = error }
}

extension Collective {
    /// The checks before a distributed run starts, on every rank: the same options and data
    /// (`fingerprint`), and at least one training item (`items`, named `itemName`) per rank.
    public func checkStart(fingerprint: UInt64, items: Int, itemName: String) throws {
        guard isDistributed else { return }
        let (anyFailed, _) = try agreeToStart(failed: false)
        if anyFailed {
            throw CollectiveFailure(RNNError("distributed training: another rank failed while reading the data (its error is above)"))
        }
        do {
            try verifyIdentical(fingerprint, what: "options or data")
        } catch let error as RNNError {
            throw CollectiveFailure(error)
        }
        guard items >= size else {
            throw CollectiveFailure(RNNError("distributed training: \(items) \(itemName) for \(size) ranks; every rank needs at least one (use fewer ranks or more data)"))
        }
    }

    /// The first collective operation of a run: whether any rank (and whether rank 0) failed
    /// before it. A rank whose preparation throws makes this call instead of `checkStart`, so
    /// every rank learns of the failure and ends normally.
    public func agreeToStart(failed: Bool) throws -> (anyFailed: Bool, leaderFailed: Bool) {
        let totals = try sum([failed ? 1 : 0, failed && isLeader ? 1 : 0])
        return (totals[0] > 0, totals[1] > 0)
    }

    /// This rank's part of each global batch: the rows `shardRows` picks, cut by `select`; nil
    /// when the batch has no row for this rank (its step then contributes nothing). One
    /// process: every batch whole.
    public func shard<Batch>(_ batches: [Batch], rows: (Batch) -> Int,
                             select: (Batch, [Int]) throws -> Batch) rethrows -> [Batch?] {
        guard isDistributed else { return batches.map { $0 } }
        return try batches.map { batch in
            let mine = shardRows(count: rows(batch))
            return mine.isEmpty ? nil : try select(batch, mine)
        }
    }
}

extension StepResult {
    /// The step of a rank with no rows in the current global batch.
    public static let empty = StepResult(loss: 0, count: 0, tokens: 0)
}
