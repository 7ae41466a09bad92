import RNNCore
import XCTest

final class PackedGEMMTests: XCTestCase {
    /// Against a naive triple loop: both packings (B itself and Bᵀ of a weight matrix), with
    /// and without accumulation, shapes with remainder rows (m mod 4) and a partial last panel
    /// (N mod 16), strides larger than the matrices.
    func testMultiplyMatchesNaiveProduct() {
        var generator = SeededGenerator(seed: 7)
        for (m, n, k) in [(1, 1, 1), (3, 7, 5), (4, 16, 9), (9, 33, 17), (16, 48, 40), (6, 20, 1)] {
            for transposed in [false, true] {
                for accumulate in [false, true] {
                    let ld = (transposed ? k : n) + 3, lda = k + 2, ldc = n + 5
                    let source = (0..<((transposed ? n : k) * ld)).map { _ in generator.nextUnitFloat() - 0.5 }
                    let a = (0..<(m * lda)).map { _ in generator.nextUnitFloat() - 0.5 }
                    var c = (0..<(m * ldc)).map { _ in generator.nextUnitFloat() - 0.5 }
                    var expected = c
                    for i in 0..<m {
                        for j in 0..<n {
                            var sum: Float = 0
                            for p in 0..<k {
                                sum += a[i * lda + p] * (transposed ? source[j * ld + p] : source[p * ld + j])
                            }
                            expected[i * ldc + j] = sum + (accumulate ? expected[i * ldc + j] : 0)
                        }
                    }
                    let packed = PackedMatrix()
                    packed.pack(source, rows: k, columns: n, ld: ld, transposed: transposed)
                    XCTAssertEqual(packed.rows, k)
                    XCTAssertEqual(packed.columns, n)
                    c.withUnsafeMutableBufferPointer { cBuffer in
                        packed.multiply(rows: m, a: a, lda: lda, c: cBuffer.baseAddress!, ldc: ldc, accumulate: accumulate)
                    }
                    for i in 0..<m {
                        for j in 0..<ldc {
                            // Columns past N (the stride's padding) must be left untouched.
                            XCTAssertEqual(c[i * ldc + j], expected[i * ldc + j], accuracy: 1e-5,
                                           "m \(m) n \(n) k \(k) transposed \(transposed) accumulate \(accumulate) at \(i), \(j)")
                        }
                    }
                }
            }
        }
    }

    /// Rows of A a multiple of 4 KiB apart (lda = 1024 floats: the LSTM backward product at
    /// H = 256) skip the 16-row kernel and go through the 8-row kernels; every 8-row block must be
    /// computed, not only the first (m = 16, 24, 32, 40 against a naive product).
    func testAliasedRowStrideComputesEveryRow() {
        var generator = SeededGenerator(seed: 9)
        let n = 72, k = 1024, lda = 1024, ldc = n
        let weights = (0..<(k * n)).map { _ in generator.nextUnitFloat() - 0.5 }
        let packed = PackedMatrix()
        packed.pack(weights, rows: k, columns: n, ld: n, transposed: false)
        for m in [8, 16, 19, 24, 32, 40] {
            let a = (0..<(m * lda)).map { _ in generator.nextUnitFloat() - 0.5 }
            var c = [Float](repeating: 1, count: m * ldc)
            c.withUnsafeMutableBufferPointer { packed.multiply(rows: m, a: a, lda: lda, c: $0.baseAddress!, ldc: ldc, accumulate: true) }
            for i in 0..<m {
                for j in 0..<n {
                    var sum: Float = 1
                    for p in 0..<k { sum += a[i * lda + p] * weights[p * n + j] }
                    XCTAssertEqual(c[i * ldc + j], sum, accuracy: 1e-3, "m \(m) at \(i), \(j)")
                }
            }
        }
    }

    /// Any split of the rows gives bitwise the same result (each element is one multiply-add
    /// chain over k in order, in the 4-row and the 1-row kernel alike): what lets the recurrent
    /// step loop split its batch across threads without changing results.
    func testRowSplitDoesNotChangeBits() {
        var generator = SeededGenerator(seed: 8)
        let m = 13, n = 40, k = 37
        let weights = (0..<(n * k)).map { _ in generator.nextUnitFloat() - 0.5 }
        let a = (0..<(m * k)).map { _ in generator.nextUnitFloat() - 0.5 }
        let packed = PackedMatrix()
        packed.pack(weights, rows: k, columns: n, ld: k, transposed: true)
        var whole = [Float](repeating: 0, count: m * n)
        whole.withUnsafeMutableBufferPointer { packed.multiply(rows: m, a: a, lda: k, c: $0.baseAddress!, ldc: n, accumulate: false) }
        for split in [1, 2, 5, 8] {
            var parts = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { a in
                parts.withUnsafeMutableBufferPointer { c in
                    packed.multiply(rows: split, a: a.baseAddress!, lda: k, c: c.baseAddress!, ldc: n, accumulate: false)
                    packed.multiply(rows: m - split, a: a.baseAddress! + split * k, lda: k,
                                    c: c.baseAddress! + split * n, ldc: n, accumulate: false)
                }
            }
            XCTAssertEqual(parts, whole, "split after \(split) rows")
        }
    }

    /// Every path of the kernel dispatch: m = 1 … 40 rows (16-row blocks, 8-row blocks on panel
    /// pairs and on a last odd panel, 4-row blocks, single rows), N with 1 to 5 full panels with
    /// and without a partial last one, row strides of A that do and do not alias (lda a multiple
    /// of 1,024 floats takes the 8-row kernels), with and without accumulation. Each product must
    /// equal every one of its rows computed alone (m = 1, the one-row kernel) bit for bit, which
    /// is the invariant the threads' row split relies on; and row alone must match a naive
    /// product. A skipped or doubled block shows up as a mismatch in its rows.
    func testEveryDispatchPathMatchesRowsComputedAlone() {
        var generator = SeededGenerator(seed: 10)
        let k = 21
        for n in [16, 32, 48, 50, 64, 80, 87] {
            let weights = (0..<(k * n)).map { _ in generator.nextUnitFloat() - 0.5 }
            let packed = PackedMatrix()
            packed.pack(weights, rows: k, columns: n, ld: n, transposed: false)
            for lda in [k, 1024] {
                let a = (0..<(40 * lda)).map { _ in generator.nextUnitFloat() - 0.5 }
                let start = (0..<(40 * n)).map { _ in generator.nextUnitFloat() - 0.5 }
                for accumulate in [false, true] {
                    // Each row alone, checked against a naive product.
                    var alone = start
                    a.withUnsafeBufferPointer { a in
                        alone.withUnsafeMutableBufferPointer { c in
                            for row in 0..<40 {
                                packed.multiply(rows: 1, a: a.baseAddress! + row * lda, lda: lda,
                                                c: c.baseAddress! + row * n, ldc: n, accumulate: accumulate)
                            }
                        }
                    }
                    for row in [0, 17, 39] {
                        for j in 0..<n {
                            var sum: Float = accumulate ? start[row * n + j] : 0
                            for p in 0..<k { sum += a[row * lda + p] * weights[p * n + j] }
                            XCTAssertEqual(alone[row * n + j], sum, accuracy: 1e-5, "n \(n) lda \(lda) row \(row) column \(j)")
                        }
                    }
                    for m in 1...40 {
                        var c = start
                        c.withUnsafeMutableBufferPointer { packed.multiply(rows: m, a: a, lda: lda, c: $0.baseAddress!, ldc: n, accumulate: accumulate) }
                        // The first element that differs, if any (rows past m must be left as they were).
                        let expected = Array(alone[0..<(m * n)] + start[(m * n)...])
                        let first = c.indices.first { c[$0].bitPattern != expected[$0].bitPattern }
                        XCTAssertNil(first, "m \(m) n \(n) lda \(lda) accumulate \(accumulate): row \((first ?? 0) / n), column \((first ?? 0) % n) differs")
                    }
                }
            }
        }
    }
}
