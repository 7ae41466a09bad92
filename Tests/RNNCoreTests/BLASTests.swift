import RNNCore
import XCTest

final class BLASTests: XCTestCase {
    /// Every transpose combination, with strides larger than the matrices, against a naive loop;
    /// also one row (m = 1) and one column (n = 1), which the shim hands to sgemv.
    func testGemmMatchesNaiveProductForAllTransposes() {
        var generator = SeededGenerator(seed: 4)
        for (m, n, k) in [(5, 4, 3), (1, 4, 3), (5, 1, 3), (1, 1, 3)] {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    let lda = (transposeA ? m : k) + 2, ldb = (transposeB ? k : n) + 1, ldc = n + 3
                    let a = (0..<((transposeA ? k : m) * lda)).map { _ in generator.nextUnitFloat() - 0.5 }
                    let b = (0..<((transposeB ? n : k) * ldb)).map { _ in generator.nextUnitFloat() - 0.5 }
                    var c = (0..<(m * ldc)).map { _ in generator.nextUnitFloat() - 0.5 }
                    var expected = c
                    for i in 0..<m {
                        for j in 0..<n {
                            var sum: Float = 0
                            for p in 0..<k {
                                let aValue = transposeA ? a[p * lda + i] : a[i * lda + p]
                                let bValue = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                                sum += aValue * bValue
                            }
                            expected[i * ldc + j] = 2 * sum + 0.5 * expected[i * ldc + j]
                        }
                    }
                    c.withUnsafeMutableBufferPointer { cBuffer in
                        BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 2,
                                  a: a, lda: lda, b: b, ldb: ldb, beta: 0.5, c: cBuffer.baseAddress!, ldc: ldc)
                    }
                    for index in 0..<c.count {
                        XCTAssertEqual(c[index], expected[index], accuracy: 1e-5, "m \(m) n \(n) transposeA \(transposeA) transposeB \(transposeB)")
                    }
                }
            }
        }
    }

    func testEmptyInnerDimensionScalesC() {
        var c: [Float] = [1, 2, 3, 4]
        let empty: [Float] = [0]
        c.withUnsafeMutableBufferPointer { buffer in
            BLAS.gemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, a: empty, lda: 1, b: empty, ldb: 2,
                      beta: 0.5, c: buffer.baseAddress!, ldc: 2)
        }
        XCTAssertEqual(c, [0.5, 1, 1.5, 2])
    }

    func testCoreNameIsReported() {
        XCTAssertFalse(BLAS.coreName.isEmpty)
    }
}
