import Foundation
@testable import RNN
import RNNCore

/// `size` ranks played by threads of this process: every operation is a rendezvous at which
/// each rank deposits its contribution and, once all have, reads all of them (in rank order,
/// so every rank computes the same sums). Parts of a reduce-scatter outside a rank's own are
/// set to NaN, so a step that used them would show. `shared`: the ranks' shared-memory segments
/// are one allocation of this process. `touchedRowsOnly`: the ranks' `sendsTouchedRowsOnly`.
final class ThreadRanks: @unchecked Sendable {
    let size: Int
    let sharded: Bool
    let overlapped: Bool
    let shared: Bool
    let touchedRowsOnly: Bool
    private var segments: (memory: UnsafeMutablePointer<Float>, users: Int)?
    private let condition = NSCondition()
    private var deposits: [[Double]]
    private var arrived = 0, generation = 0

    init(size: Int, sharded: Bool, overlapped: Bool = false, shared: Bool = false, touchedRowsOnly: Bool = false) {
        self.size = size
        self.sharded = sharded
        self.overlapped = overlapped
        self.shared = shared
        self.touchedRowsOnly = touchedRowsOnly
        deposits = Array(repeating: [], count: size)
    }

    /// Runs `body` on `size` threads, one per rank; returns their results in rank order.
    func run<Output>(_ body: @escaping @Sendable (any Collective) throws -> Output) throws -> [Output] {
        let results = ResultBox<Output>(count: size)
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            let thread = Thread { [self] in
                results.set(rank, Swift.Result { try body(Rank(rank: rank, group: self)) })
                done.leave()
            }
            thread.stackSize = 1 << 22
            thread.start()
        }
        done.wait()
        return try results.values.map { try $0!.get() }
    }

    /// The segments every rank maps: allocated by the first rank to ask, freed by the last to free.
    fileprivate func sharedSegments(floatsPerRank: Int) -> NodeSharedSegments {
        condition.lock()
        defer { condition.unlock() }
        if segments == nil {
            let memory = UnsafeMutablePointer<Float>.allocate(capacity: size * floatsPerRank)
            memory.initialize(repeating: .nan, count: size * floatsPerRank)
            segments = (memory, 0)
        }
        segments!.users += 1
        let memory = segments!.memory
        return NodeSharedSegments(floatsPerRank: floatsPerRank, bases: (0..<size).map { memory + $0 * floatsPerRank },
                                  synchronize: {}, free: { [self] in
            condition.lock()
            defer { condition.unlock() }
            segments!.users -= 1
            if segments!.users == 0 {
                segments!.memory.deallocate()
                segments = nil
            }
        })
    }

    /// Deposits `values` for `rank`, waits for every rank, returns all deposits in rank order.
    fileprivate func exchange(rank: Int, _ values: [Double]) -> [[Double]] {
        condition.lock()
        defer { condition.unlock() }
        deposits[rank] = values
        waitForEveryRank()
        let all = deposits
        // A second rendezvous, so nobody overwrites `deposits` before all have copied them.
        waitForEveryRank()
        return all
    }

    /// Returns once every rank has called it (the caller holds `condition`'s lock).
    private func waitForEveryRank() {
        let myGeneration = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == myGeneration { condition.wait() }
        }
    }

    final class Rank: Collective {
        let rank: Int
        let group: ThreadRanks
        private(set) var operations = 0
        /// Floats this rank passed to `allReduceSum`.
        private(set) var floatsAllReduced = 0
        init(rank: Int, group: ThreadRanks) {
            self.rank = rank
            self.group = group
        }
        var size: Int { group.size }
        var shardsOptimizerStep: Bool { group.sharded }
        var overlapsGradientAllReduce: Bool { group.overlapped }
        var sharesNodeMemory: Bool { group.shared }
        var sendsTouchedRowsOnly: Bool { group.touchedRowsOnly }
        func makeNodeSharedSegments(floatsPerRank: Int) throws -> NodeSharedSegments? {
            operations += 1
            _ = group.exchange(rank: rank, [])
            return group.sharedSegments(floatsPerRank: floatsPerRank)
        }
        func barrier() throws {
            operations += 1
            _ = group.exchange(rank: rank, [])
        }

        private func sums(_ values: [Double]) -> [Double] {
            operations += 1
            let all = group.exchange(rank: rank, values)
            return values.indices.map { index in all.reduce(0) { $0 + $1[index] } }
        }

        func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
            // Float sums in rank order, as a Float all-reduce makes them.
            operations += 1
            floatsAllReduced += values.count
            let all = group.exchange(rank: rank, values.map(Double.init))
            for index in values.indices { values[index] = all.reduce(Float(0)) { $0 + Float($1[index]) } }
        }
        func allReduceSum(_ values: inout [Double]) throws { values = sums(values) }
        func allReduceMinMax(_ values: [Double]) throws -> (minimum: [Double], maximum: [Double]) {
            operations += 1
            let all = group.exchange(rank: rank, values)
            return (values.indices.map { i in all.map { $0[i] }.min()! }, values.indices.map { i in all.map { $0[i] }.max()! })
        }
        func reduceScatterSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
            operations += 1
            let all = group.exchange(rank: rank, values.map(Double.init))
            let mine = shardRange(count: values.count)
            for index in values.indices {
                values[index] = mine.contains(index) ? all.reduce(Float(0)) { $0 + Float($1[index]) } : .nan
            }
        }
        func allGather(_ values: UnsafeMutableBufferPointer<Float>) throws {
            operations += 1
            let all = group.exchange(rank: rank, values.map(Double.init))
            for part in 0..<size {
                for index in shardRange(count: values.count, rank: part) { values[index] = Float(all[part][index]) }
            }
        }
        func abort(code: Int32) -> Never { fatalError("abort \(code)") }
        func finish() {}
    }
}

/// Results written by several threads, each to its own index.
final class ResultBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Swift.Result<Value, any Error>?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Swift.Result<Value, any Error>) {
        lock.lock()
        storage[index] = value
        lock.unlock()
    }
    var values: [Swift.Result<Value, any Error>?] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
