import Foundation
@testable import RNN
import RNNCore
import XCTest

/// The all-reduce that sends only the touched rows of embedding tables (Trainer+TouchedRows.swift).
final class TouchedRowsTests: XCTestCase {
    func testMarkTouchedRowsSeesEveryNonzeroBitPattern() {
        // Rows: all +0; one value in the 9-wide tail; −0.0 only; a value in the first 8 lanes.
        var table = [Float](repeating: 0, count: 4 * 9)
        table[1 * 9 + 8] = 1e-30
        table[2 * 9 + 3] = -0.0
        table[3 * 9 + 0] = -2
        var flags = [Float](repeating: 7, count: 4)
        markTouchedRows(table, rows: 4, width: 9, into: &flags)
        XCTAssertEqual(flags, [0, 1, 1, 1])
    }

    /// Three ranks (threads) train a store of an 8-row embedding table (row-sparse), a dense
    /// matrix and a 4-row table that every rank touches in 3 of 4 rows (so it is sent whole),
    /// 2 epochs × 3 steps with Adam and clipping. Each rank's embedding gradient touches a few
    /// rows that change with the step (rank 2 none at some steps, rank 1 a row of −0.0 only).
    /// Sending only the touched rows gives bitwise the weights and optimizer state of the dense
    /// all-reduce, with fewer floats all-reduced; likewise with the output range overlapped.
    func testTouchedRowsAllReduceMatchesTheDenseOneBitwise() throws {
        var outcomes: [Bool: [(values: [Float], state: [[Float]], floats: Int, recorded: Int)]] = [:]
        for overlapped in [false, true] {
            for touchedRowsOnly in [false, true] {
                let group = ThreadRanks(size: 3, sharded: false, overlapped: overlapped, touchedRowsOnly: touchedRowsOnly)
                let results = try group.run { collective in try Self.train(collective: collective, overlapped: overlapped) }
                // Every rank ends with the same weights.
                XCTAssertEqual(results[1].values, results[0].values)
                XCTAssertEqual(results[2].values, results[0].values)
                // The epochs' records count what the trainer handed to the all-reduce.
                XCTAssertEqual(results[0].recorded, results[0].floats)
                outcomes[touchedRowsOnly, default: []].append(results[0])
            }
        }
        for (dense, sparse) in zip(outcomes[false]!, outcomes[true]!) {
            XCTAssertEqual(sparse.values, dense.values, "weights")
            XCTAssertEqual(sparse.state, dense.state, "optimizer state")
            XCTAssertLessThan(sparse.floats, dense.floats)
        }
        // The two all-reduce variants (overlapped or not) agree with each other too.
        XCTAssertEqual(outcomes[true]![0].values, outcomes[true]![1].values)
        // What was sent: per step (6 of them) the 12-float flags of both tables, then the
        // dense matrix and the whole 4-row table in place, then the touched rows.
        let denseFloats = 6 * (8 * 5 + 15 + 4 * 3)
        XCTAssertEqual(outcomes[false]![0].floats, denseFloats)
        XCTAssertEqual(outcomes[true]![0].floats, 6 * (8 + 4 + 15 + 4 * 3) + 5 * Self.touchedRowsPerEpoch.reduce(0, +) * 2)
    }

    /// Rows of the 8-row table that some rank touches at steps 1, 2, 3 of an epoch.
    private static let touchedRowsPerEpoch = [3, 2, 2]

    /// Rank r's gradient of scalar `index` of table "embedding" (8 × 5) at `step` of the epoch,
    /// zero outside the rows it touches: step 1: ranks 0, 1 row 2 and rank 0 row 6, rank 2 row
    /// 5 (3 rows); step 2: rank 0 row 1, rank 1 row 4 holding −0.0 only, rank 2 nothing (2
    /// rows, one of them −0.0); step 3: every rank rows 0 and 7 (2 rows).
    private static func embeddingGradient(rank: Int, step: Int, row: Int, column: Int) -> Float {
        let touched: [[Int]]
        switch step {
        case 1: touched = [[2, 6], [2], [5]]
        case 2: touched = [[1], [4], []]
        default: touched = [[0, 7], [0, 7], [0, 7]]
        }
        guard touched[rank].contains(row) else { return 0 }
        if step == 2 && rank == 1 { return -0.0 }
        return Float(sin(Double(row * 5 + column + rank * 11 + step * 7))) * 0.6
    }

    private static func train(collective: any Collective, overlapped: Bool) throws
        -> (values: [Float], state: [[Float]], floats: Int, recorded: Int) {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 5)
        let embedding = store.add("embedding", shape: [8, 5], initializer: .uniform(bound: 0.5), generator: &generator)
        store.setRowSparse(embedding)
        let dense = store.add("dense", shape: [5, 3], initializer: .uniform(bound: 0.5), generator: &generator)
        let small = store.add("small", shape: [4, 3], initializer: .uniform(bound: 0.5), generator: &generator)
        store.setRowSparse(small)
        var options = TrainingOptions()
        options.epochs = 2
        options.learningRate = 0.05
        options.clipNorm = 1
        options.restoreBest = false
        let trainer = try Trainer(store: store, options: options)
        trainer.collective = collective
        // Overlapped: the small table's range is the "output layer" reduced early.
        if overlapped { trainer.earlyGradientScalars = small.offset..<(small.offset + small.count) }
        let rank = collective.rank
        var step = 0, state: [[Float]] = []
        let history = try trainer.fit(batches: { _ in [0, 1, 2] }, step: { _ in
            step += 1
            let inEpoch = (step - 1) % 3 + 1
            let gradients = store.allGradients
            for row in 0..<8 {
                for column in 0..<5 {
                    gradients[embedding.offset + row * 5 + column] = embeddingGradient(rank: rank, step: inEpoch, row: row, column: column)
                }
            }
            for index in 0..<dense.count { gradients[dense.offset + index] = Float(cos(Double(index + rank * 3 + step))) }
            // The small table: rows 0-2 touched, row 3 untouched, on every rank.
            for index in 0..<small.count { gradients[small.offset + index] = index < 9 ? Float(index + rank) * 0.1 : 0 }
            let result = StepResult(loss: 1, count: rank + 1, tokens: 4)
            try trainer.earlyGradientsFinal(localCount: result.count)
            return result
        }, validate: nil, onEpochEnd: { _ in
            state = trainer.optimizer.stateTensors().map(\.tensor.scalars)
        })
        return (store.snapshot(), state, (collective as! ThreadRanks.Rank).floatsAllReduced,
                history.compactMap(\.allReducedGradientFloats).reduce(0, +))
    }
}
