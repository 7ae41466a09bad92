import Foundation
import RNNCore
import XCTest
@testable import RNN

/// The sharded optimizer step (reduce-scatter, clipping from the parts' norms, the optimizer on
/// each rank's part, all-gather) against one process, with 3 ranks played by 3 threads of this
/// process over a buffer of odd size whose parts cut through parameters. (Under a real `mpirun`:
/// `RNNTasksTests.DistributedTrainingTests`.)
final class ShardedStepTests: XCTestCase {
    func testBufferShardsCoverTheBufferInNearEqualParts() {
        for (count, parts) in [(25, 3), (2, 3), (0, 2), (1_244_801, 2), (7, 1)] {
            let ranges = (0..<parts).map { BufferShards.range(count: count, parts: parts, part: $0) }
            XCTAssertEqual(ranges.first?.lowerBound, 0)
            XCTAssertEqual(ranges.last?.upperBound, count)
            for (left, right) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(left.upperBound, right.lowerBound) }
            XCTAssertLessThanOrEqual(ranges.map(\.count).max()! - ranges.map(\.count).min()!, 1)
        }
        XCTAssertEqual((0..<3).map { BufferShards.range(count: 25, parts: 3, part: $0) }, [0..<9, 9..<17, 17..<25])
    }

    /// A 25-scalar model (parts 0..<9, 9..<17, 17..<25 cut `w` and `b`; `frozen` is not trained)
    /// trained 2 epochs × 3 steps with Adam, clipping by norm and value, on 3 ranks whose shards
    /// hold 3, 2 and 1 items: the weights and the optimizer state equal those of one process that
    /// gets the item-weighted mean gradient, and those of the dense (all-reduce) distributed step;
    /// likewise the shared-memory step (one copy of the weights, every rank's gradients read
    /// from its segment).
    func testThreeRanksOddBufferMatchOneProcess() throws {
        let options: TrainingOptions = {
            var options = TrainingOptions()
            options.epochs = 2
            options.learningRate = 0.05
            options.clipNorm = 1.5
            options.clipValue = 0.4
            options.restoreBest = false
            return options
        }()
        let items = [3, 2, 1]

        let reference = try Self.train(rank: 0, options: options, collective: SingleProcessCollective()) { store, step in
            // What the 3 ranks' gradients average to: Σ_r n_r g_r / Σ_r n_r.
            let total = Float(items.reduce(0, +))
            for index in store.allGradients.indices {
                store.allGradients[index] = items.indices.reduce(Float(0)) { $0 + Float(items[$1]) * Self.gradient(rank: $1, step: step, index: index) } / total
            }
            return StepResult(loss: 1, count: items.reduce(0, +), tokens: 6)
        }
        var denseValues: [[Float]] = []
        for (sharded, overlapped, shared) in [(true, false, false), (false, false, false), (false, true, false), (false, false, true)] {
            let group = ThreadRanks(size: 3, sharded: sharded, overlapped: overlapped, shared: shared)
            // Overlapped: scalars 9..<22 (cutting `w` and `b`) are announced early by ranks 0 and
            // 1; rank 2 does not call back, so the trainer starts its reduction itself.
            let results = try group.run { collective in
                try Self.train(rank: collective.rank, options: options, collective: collective,
                               early: overlapped ? 9..<22 : nil) { store, step in
                    for index in store.allGradients.indices {
                        store.allGradients[index] = Self.gradient(rank: collective.rank, step: step, index: index)
                    }
                    return StepResult(loss: 1, count: items[collective.rank], tokens: 2)
                }
            }
            if !sharded && !overlapped { denseValues = results.map(\.values) }
            if overlapped {
                // The same products and the same sums per element as the blocking dense step: bitwise equal.
                XCTAssertEqual(results.map(\.values), denseValues, "overlapped vs blocking dense step")
                XCTAssertGreaterThan(results[0].operations, 0)
            }
            for (rank, result) in results.enumerated() {
                XCTAssertEqual(result.values.count, 25)
                for (value, expected) in zip(result.values, reference.values) {
                    XCTAssertEqual(value, expected, accuracy: 1e-5, "sharded \(sharded) overlapped \(overlapped) shared \(shared), rank \(rank): weights")
                }
                XCTAssertEqual(result.state.count, reference.state.count)
                for (name, values) in result.state {
                    let expected = try XCTUnwrap(reference.state[name])
                    for (value, wanted) in zip(values, expected) {
                        XCTAssertEqual(value, wanted, accuracy: 1e-5, "sharded \(sharded), rank \(rank): \(name)")
                    }
                }
                XCTAssertEqual(result.norms, reference.norms, accuracy: 1e-5)
            }
            // The frozen parameter stayed put, the others moved, and clipping acted.
            XCTAssertEqual(Array(results[0].values[22..<25]), Array(reference.initial[22..<25]))
            XCTAssertNotEqual(Array(results[0].values[0..<22]), Array(reference.initial[0..<22]))
            XCTAssertGreaterThan(reference.norms, 1.5 * 6)
            if sharded || shared { XCTAssertGreaterThan(results[0].operations, 0) }
            if shared { XCTAssertEqual(results.map(\.usedSharedMemory), [true, true, true]) }
        }
    }

    /// Rank r's mean gradient at training step `step` (1-based) for scalar `index`: large enough
    /// that clipping by norm and by value both act.
    private static func gradient(rank: Int, step: Int, index: Int) -> Float {
        Float(sin(Double(index * 7 + rank * 13 + step * 3))) * Float(1 + rank) * 0.9
    }

    private struct Outcome {
        var initial: [Float], values: [Float], state: [String: [Float]], norms: Double, operations: Int, usedSharedMemory: Bool
    }

    private static func train(rank: Int, options: TrainingOptions, collective: any Collective, early: Range<Int>? = nil,
                       fill: (ParameterStore, Int) -> StepResult) throws -> Outcome {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 42)
        _ = store.add("w", shape: [5, 3], initializer: .uniform(bound: 0.5), generator: &generator)
        _ = store.add("b", shape: [7], initializer: .uniform(bound: 0.5), generator: &generator)
        let frozen = store.add("frozen", shape: [3], initializer: .uniform(bound: 0.5), generator: &generator)
        store.setFrozen(frozen, true)
        let initial = store.snapshot()
        let trainer = try Trainer(store: store, options: options)
        trainer.collective = collective
        trainer.earlyGradientScalars = early
        var step = 0, usedSharedMemory = false
        var state: [String: [Float]] = [:]
        let history = try trainer.fit(batches: { _ in [0, 1, 2] }, step: { _ in
            step += 1
            usedSharedMemory = trainer.nodeShared != nil
            let result = fill(store, step)
            if rank < 2 { try trainer.earlyGradientsFinal(localCount: result.count) }
            return result
        }, validate: nil, onEpochEnd: { _ in
            state = Dictionary(uniqueKeysWithValues: trainer.optimizer.stateTensors().map { ($0.name, $0.tensor.scalars) })
        })
        return Outcome(initial: initial, values: store.snapshot(), state: state,
                       norms: history.map { $0.meanGradientNorm * 3 }.reduce(0, +), operations: collective.operations,
                       usedSharedMemory: usedSharedMemory && trainer.nodeShared == nil)
    }
}

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
        // Wait until the previous exchange has been read by everyone.
        let myGeneration = generation
        deposits[rank] = values
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == myGeneration { condition.wait() }
        }
        let all = deposits
        // A second rendezvous, so nobody overwrites `deposits` before all have copied them.
        let readGeneration = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == readGeneration { condition.wait() }
        }
        return all
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
