import Foundation
import RNNCore

/// The gradient all-reduce over MPI (across machines, or `--no-shared-memory`) sends, of each
/// row-sparse table (an embedding, `ParameterStore.setRowSparse`), only the rows that some rank's
/// gradient touched. A batch looks up a few thousand of a table's rows, and the table is most of
/// the gradient (imdb-lstm: 2.56 M of 2.69 M floats), so the dense all-reduce sends mostly zeros.
/// Per all-reduce of a range of the gradient buffer, with E_p the rows of table p:
///
///     touched_r[p][i] = 1 if any scalar of row i of g_r[p] has a nonzero bit pattern, else 0
///     touched[p] ← Σ_r touched_r[p]                 one small all-reduce (a float per row)
///     U_p = { i : touched[p][i] > 0 }               the same on every rank
///     table p with |U_p| ≤ |E_p| / 2:  all-reduce the rows U_p, packed into one buffer
///     everything else (other parameters, tables touched in more than half their rows): in place
///
/// A row outside U_p holds +0.0 in every scalar on every rank, whose sum is +0.0, so the sums
/// are those of the dense all-reduce, element by element (bitwise so on 2 ranks; with more,
/// MPI may add the ranks in another order for another message size). A table whose gradient
/// is dense (tied to the output layer, say) falls back to the plain all-reduce after the count.
/// `--dense-allreduce` turns it off.
final class TouchedRowBuffers {
    /// Per table row: 1 where this rank's gradient touched it, then the ranks' sum.
    let flags = FloatBuffer()
    /// The touched rows of the tables sent sparsely, one after another.
    let packed = FloatBuffer()
    /// The touched rows of the tables sent by rows, ascending per table, one table after another.
    var rows: [Int] = []
    /// Per table sent by rows: its parameter and its part of `rows`.
    var tables: [(parameter: Parameter, rows: Range<Int>)] = []
}

extension Trainer {
    /// Whether this run's all-reduce steps send row-sparse tables by their touched rows: MPI's
    /// all-reduce (not the node-shared step, not the sharded one) and the model has such a table.
    public var sendsTouchedRowsOnly: Bool {
        let sharded = collective.shardsOptimizerStep && optimizer is any ShardableOptimizer
        return collective.isDistributed && collective.sendsTouchedRowsOnly && !usesNodeSharedStep && !sharded
            && store.parameters.contains { store.isRowSparse($0) }
    }

    /// Sums `range` of the gradient buffer over the ranks in place (collective: every rank calls
    /// it with the same range), sending only the touched rows of the row-sparse tables inside it.
    func allReduceGradientSum(_ range: Range<Int>) throws {
        let gradients = store.allGradients
        let tables = collective.sendsTouchedRowsOnly
            ? store.parameters.filter { store.isRowSparse($0) && $0.shape.count == 2 && $0.shape[0] > 1
                && range.lowerBound <= $0.offset && $0.offset + $0.count <= range.upperBound }
            : []
        guard !tables.isEmpty else {
            try allReduceCounted(UnsafeMutableBufferPointer(rebasing: gradients[range]))
            return
        }
        let buffers = touchedRows
        // Which rows any rank touched.
        let rowCount = tables.reduce(0) { $0 + $1.shape[0] }
        let flags = buffers.flags.reserve(rowCount)
        var first = 0
        for table in tables {
            markTouchedRows(UnsafePointer(gradients.baseAddress! + table.offset), rows: table.shape[0],
                            width: table.shape[1], into: flags + first)
            first += table.shape[0]
        }
        try allReduceCounted(UnsafeMutableBufferPointer(start: flags, count: rowCount))
        // The tables worth sending by rows, and their rows (the same on every rank).
        buffers.tables.removeAll(keepingCapacity: true)
        buffers.rows.removeAll(keepingCapacity: true)
        first = 0
        var packedCount = 0
        for table in tables {
            let rows = table.shape[0], start = buffers.rows.count
            for row in 0..<rows where flags[first + row] > 0 { buffers.rows.append(row) }
            first += rows
            if (buffers.rows.count - start) * 2 <= rows {
                buffers.tables.append((table, start..<buffers.rows.count))
                packedCount += (buffers.rows.count - start) * table.shape[1]
            } else {
                buffers.rows.removeSubrange(start...)
            }
        }
        // The rest in place: the gaps between the tables sent by rows.
        var start = range.lowerBound
        for (table, _) in buffers.tables {
            if start < table.offset { try allReduceCounted(UnsafeMutableBufferPointer(rebasing: gradients[start..<table.offset])) }
            start = table.offset + table.count
        }
        if start < range.upperBound { try allReduceCounted(UnsafeMutableBufferPointer(rebasing: gradients[start..<range.upperBound])) }
        // The touched rows, packed: one all-reduce.
        guard packedCount > 0 else { return }
        let packed = buffers.packed.reserve(packedCount)
        var target = packed
        for (table, rows) in buffers.tables {
            let width = table.shape[1], source = gradients.baseAddress! + table.offset
            for row in buffers.rows[rows] {
                target.update(from: source + row * width, count: width)
                target += width
            }
        }
        try allReduceCounted(UnsafeMutableBufferPointer(start: packed, count: packedCount))
        var summed = UnsafePointer(packed)
        for (table, rows) in buffers.tables {
            let width = table.shape[1], destination = gradients.baseAddress! + table.offset
            for row in buffers.rows[rows] {
                (destination + row * width).update(from: summed, count: width)
                summed += width
            }
        }
    }

    /// The collective's all-reduce, counted in `allReducedGradientFloats`.
    func allReduceCounted(_ values: UnsafeMutableBufferPointer<Float>) throws {
        allReducedGradientFloats += values.count
        try collective.allReduceSum(values)
    }
}

/// flags[i] = 1 when some scalar of row i of the (rows, width) table has a nonzero bit pattern
/// (−0.0 included, so every row whose sum could differ from +0.0 is sent), else 0.
func markTouchedRows(_ table: UnsafePointer<Float>, rows: Int, width: Int, into flags: UnsafeMutablePointer<Float>) {
    typealias Lanes = SIMD8<UInt32>
    let raw = UnsafeRawPointer(table), stride = MemoryLayout<UInt32>.stride
    for row in 0..<rows {
        let line = raw + row * width * stride
        var any = Lanes()
        var j = 0
        while j + Lanes.scalarCount <= width {
            any |= line.loadUnaligned(fromByteOffset: j * stride, as: Lanes.self)
            j += Lanes.scalarCount
        }
        var rest: UInt32 = 0
        while j < width {
            rest |= line.loadUnaligned(fromByteOffset: j * stride, as: UInt32.self)
            j += 1
        }
        flags[row] = any == Lanes() && rest == 0 ? 0 : 1
    }
}
