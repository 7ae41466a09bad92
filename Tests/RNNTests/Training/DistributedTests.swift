import Foundation
import RNNCore
import XCTest
@testable import RNN

/// The parts of data-parallel training that need no MPI: the gradient averaging arithmetic (with
/// a stand-in for the other ranks), row sharding and batch slicing, the fingerprint.
/// (The real thing under `mpirun` is `RNNTasksTests.DistributedTrainingTests`.)
final class DistributedTests: XCTestCase {
    /// Stands in for `size` ranks that all hold what this one holds (sums are `size` times the
    /// local values), or, with `otherCount`, for one other rank with zero gradients and that many items.
    private final class MirrorCollective: Collective {
        let rank = 0, size: Int
        let otherItems: Double?
        private(set) var operations = 0
        init(size: Int, otherItems: Double? = nil) {
            self.size = size
            self.otherItems = otherItems
        }
        func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
            operations += 1
            if otherItems == nil { for index in values.indices { values[index] *= Float(size) } }
        }
        func allReduceSum(_ values: inout [Double]) throws {
            operations += 1
            if let otherItems { values[1] += otherItems } else { values = values.map { $0 * Double(size) } }
        }
        func allReduceMinMax(_ values: [Double]) throws -> (minimum: [Double], maximum: [Double]) { (values, values) }
        func reduceScatterSum(_ values: UnsafeMutableBufferPointer<Float>) throws { try allReduceSum(values) }
        func allGather(_ values: UnsafeMutableBufferPointer<Float>) throws {}
        /// The dense step (these tests check its averaging of the whole buffer).
        var shardsOptimizerStep: Bool { false }
        func abort(code: Int32) -> Never { fatalError("abort \(code)") }
        func finish() {}
    }

    private func storeWithGradients(_ gradients: [Float]) -> ParameterStore {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 1)
        _ = store.add("w", shape: [gradients.count], initializer: .zeros, generator: &generator)
        for (index, value) in gradients.enumerated() { store.allGradients[index] = value }
        return store
    }

    func testIdenticalRanksKeepTheLocalMeanGradient() throws {
        let store = storeWithGradients([1, -2, 0.5])
        let trainer = try Trainer(store: store, options: TrainingOptions())
        trainer.collective = MirrorCollective(size: 4)
        let result = try trainer.averageOverRanks(StepResult(loss: 0.7, count: 5, tokens: 30))
        XCTAssertEqual(Array(store.allGradients), [1, -2, 0.5])
        XCTAssertEqual(result.count, 20)
        XCTAssertEqual(result.tokens, 120)
        XCTAssertEqual(result.loss, 0.7, accuracy: 1e-12)
    }

    /// Rank 0 has 3 items with mean gradient g, the other rank 1 item with gradient 0: the mean
    /// over the 4 items is 3g/4, whatever the split (items, not ranks, are averaged).
    func testGradientIsWeightedByItemsNotRanks() throws {
        let store = storeWithGradients([4, -8])
        let trainer = try Trainer(store: store, options: TrainingOptions())
        trainer.collective = MirrorCollective(size: 2, otherItems: 1)
        let result = try trainer.averageOverRanks(StepResult(loss: 2, count: 3, tokens: 3))
        XCTAssertEqual(Array(store.allGradients), [3, -6])
        XCTAssertEqual(result.count, 4)
        XCTAssertEqual(result.loss, 1.5, accuracy: 1e-12)
    }

    func testOneProcessLeavesGradientsAlone() throws {
        let store = storeWithGradients([1, 2])
        let trainer = try Trainer(store: store, options: TrainingOptions())
        let result = try trainer.averageOverRanks(StepResult(loss: 3, count: 2, tokens: 9))
        XCTAssertEqual(Array(store.allGradients), [1, 2])
        XCTAssertEqual(result.loss, 3)
    }

    func testShardRowsCoverEveryRowOnce() {
        let ranks = (0..<3).map { MirrorCollectiveRank(rank: $0, size: 3) }
        let rows = ranks.map { $0.shardRows(count: 8) }
        XCTAssertEqual(rows, [[0, 3, 6], [1, 4, 7], [2, 5]])
        XCTAssertEqual(MirrorCollectiveRank(rank: 2, size: 3).shardRows(count: 2), [])
        let shards = MirrorCollectiveRank(rank: 1, size: 2).shard([5, 1], rows: { $0 }, select: { _, rows in rows.count })
        XCTAssertEqual(shards, [2, nil])
    }

    func testTokenBatchRowSelectionKeepsTimeMajorColumnsAndTrimsPadding() throws {
        let batch = try TokenBatch(sequences: [[1, 2, 3], [4], [5, 6]], padding: 0, indices: [10, 11, 12])
        let picked = try batch.selecting(rows: [1, 2])
        XCTAssertEqual(picked.sequence(0), [4])
        XCTAssertEqual(picked.sequence(1), [5, 6])
        XCTAssertEqual(picked.steps, 2)
        XCTAssertEqual(picked.tokens, [4, 5, 0, 6])
        XCTAssertEqual(picked.indices, [11, 12])
        XCTAssertThrowsError(try batch.selecting(rows: []))
    }

    func testFingerprintSeparatesFieldsAndValues() {
        func hash(_ parts: [String]) -> UInt64 {
            var fingerprint = Fingerprint()
            for part in parts { fingerprint.add(part) }
            return fingerprint.value
        }
        XCTAssertEqual(hash(["ab", "c"]), hash(["ab", "c"]))
        XCTAssertNotEqual(hash(["ab", "c"]), hash(["a", "bc"]))
        XCTAssertNotEqual(DistributedTraining.dropoutGenerator(seed: 1, rank: 0, epoch: 1).stateWords,
                          DistributedTraining.dropoutGenerator(seed: 1, rank: 1, epoch: 1).stateWords)
    }

    /// Word-wise hashing of a weight buffer: equal buffers agree, one changed value (also in the
    /// odd tail after the last whole 8 bytes) or a different length does not.
    func testFingerprintOfWordsSeesEveryValue() {
        func hash(_ values: [Float]) -> UInt64 {
            var fingerprint = Fingerprint()
            values.withUnsafeBufferPointer { fingerprint.add(words: $0) }
            return fingerprint.value
        }
        let values = (0..<11).map { Float($0) * 0.25 }
        XCTAssertEqual(hash(values), hash(values))
        for index in [0, 5, 10] {
            var changed = values
            changed[index] = changed[index].nextUp
            XCTAssertNotEqual(hash(changed), hash(values), "value \(index)")
        }
        XCTAssertNotEqual(hash(values + [0]), hash(values))
    }

    /// The store moved to memory it does not own (a shared-memory segment) and back keeps every
    /// value and gradient, reads and writes there meanwhile, and counts the moves as changes.
    func testParameterStoreRelocatesToBorrowedMemoryAndBack() {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 3)
        let weight = store.add("w", shape: [3, 4], initializer: .uniform(bound: 1), generator: &generator)
        store.gradients(of: weight)[5] = 2.5
        let before = store.snapshot(), version = store.valuesVersion
        let owner = FloatBuffer(capacity: 2 * store.scalarCount)
        store.relocate(values: owner.pointer, gradients: owner.pointer + store.scalarCount, owner: owner)
        XCTAssertEqual(store.allGradients.baseAddress, owner.pointer + store.scalarCount)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: owner.pointer, count: store.scalarCount)), before)
        XCTAssertEqual(owner.pointer[store.scalarCount + 5], 2.5)
        XCTAssertNotEqual(store.valuesVersion, version)
        owner.pointer[1] = 42  // another process writing the weights
        store.relocateToOwnedMemory()
        XCTAssertNotEqual(store.allGradients.baseAddress, owner.pointer + store.scalarCount)
        XCTAssertEqual(store.snapshot()[1], 42)
        XCTAssertEqual(store.gradients(of: weight)[5], 2.5)
        owner.pointer[1] = 7
        XCTAssertEqual(store.snapshot()[1], 42, "the store's own memory again")
    }

    func testWithoutALauncherMPIIsAClearError() {
        guard !MPICollective.launchedByMPI() else { return }
        XCTAssertThrowsError(try MPICollective()) { error in
            XCTAssertTrue("\(error)".contains("not started by an MPI launcher"), "\(error)")
        }
    }
}

/// A rank of `size` for the sharding helpers (no communication).
private final class MirrorCollectiveRank: Collective {
    let rank: Int, size: Int
    init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }
    var operations: Int { 0 }
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    func allReduceSum(_ values: inout [Double]) throws {}
    func allReduceMinMax(_ values: [Double]) throws -> (minimum: [Double], maximum: [Double]) { (values, values) }
    func reduceScatterSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    func allGather(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    var shardsOptimizerStep: Bool { false }
    func abort(code: Int32) -> Never { fatalError("abort \(code)") }
    func finish() {}
}
