#if canImport(Accelerate)
import Accelerate
#elseif canImport(CBLAS)
import CBLAS
#endif

/// The BLAS shim: the only place swift-rnn calls a matrix library (OpenBLAS on Linux,
/// Accelerate on macOS). Everything is row-major Float32.
public enum BLAS {
    /// C (m, n) = alpha · op(A) · op(B) + beta · C, where op(A) is (m, k) and op(B) is (k, n).
    ///
    /// `lda`, `ldb`, `ldc` are row strides in elements of A, B, C as stored (before `op`).
    /// With `beta = 1` the product is accumulated into C (how backward adds gradients).
    @inline(__always)
    public static func gemm(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(lda >= max(1, transposeA ? m : k), "gemm: lda \(lda) too small")
        precondition(ldb >= max(1, transposeB ? k : n), "gemm: ldb \(ldb) too small")
        precondition(ldc >= max(1, n), "gemm: ldc \(ldc) too small")
        if m == 0 || n == 0 { return }
        if k == 0 {
            // op(A)·op(B) is all zeros: C = beta · C (BLAS may skip this; be explicit).
            for row in 0..<m {
                let c = c + row * ldc
                for column in 0..<n { c[column] = beta == 0 ? 0 : beta * c[column] }
            }
            return
        }
        // A single row or column is a matrix-vector product. Handing it to sgemv matters:
        // OpenBLAS 0.3.21's sgemm packs the whole other matrix first (batch-1 generation
        // multiplies one row by every weight matrix at every step).
        if m == 1 {
            // c = op(B)ᵀ · (the one row of op(A))
            cblas_sgemv(CblasRowMajor, transposeB ? CblasNoTrans : CblasTrans,
                        Int32(transposeB ? n : k), Int32(transposeB ? k : n),
                        alpha, b, Int32(ldb), a, Int32(transposeA ? lda : 1), beta, c, 1)
            return
        }
        if n == 1 {
            // c = op(A) · (the one column of op(B))
            cblas_sgemv(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                        Int32(transposeA ? k : m), Int32(transposeA ? m : k),
                        alpha, a, Int32(lda), b, Int32(transposeB ? 1 : ldb), beta, c, Int32(ldc))
            return
        }
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k),
            alpha, a, Int32(lda), b, Int32(ldb),
            beta, c, Int32(ldc))
    }

    /// Sets how many threads the BLAS library uses for one call (no-op on Accelerate).
    public static func setThreads(_ count: Int) {
        #if !canImport(Accelerate) && canImport(CBLAS)
        openblas_set_num_threads(Int32(max(1, count)))
        #endif
    }

    /// The number of threads the BLAS library uses (1 when unknown).
    public static var threads: Int {
        #if !canImport(Accelerate) && canImport(CBLAS)
        return Int(openblas_get_num_threads())
        #else
        return 1
        #endif
    }

    /// Which kernel family the library runs, e.g. OpenBLAS's `Haswell` or `Cooperlake`.
    public static var coreName: String {
        #if canImport(Accelerate)
        return "Accelerate"
        #elseif canImport(CBLAS)
        if let name = openblas_get_corename() { return String(cString: name) }
        return "unknown"
        #else
        return "none"
        #endif
    }
}
