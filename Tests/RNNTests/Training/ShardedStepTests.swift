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
