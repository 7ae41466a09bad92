/// The AVX-512 micro-kernel of `RNNCore.PackedMatrix`, in a module of its own because it is
/// compiled for an AVX-512 CPU (Package.swift) while the rest of the package targets AVX2:
/// `PackedMatrix` calls it only after checking at run time that the CPU has AVX-512F.
///
/// C[0..<8, 0..<16] = A[0..<8, :] · panel (or C += …): one 16-lane register per row of C, each
/// element one chain of fused multiply-adds over k = 0 … K−1 in order, from 0 or from C — the
/// same chain, so bitwise the same result, as the AVX2 kernels compute.
///
/// - a: 8 rows of K floats, `lda` apart; packed: K rows of 16 floats (one panel);
///   c: 8 rows of 16 floats, `ldc` apart.
/// Whether this module was built with its AVX-512 flags (Package.swift; not with RNN_PORTABLE=1).
public let avx512KernelIsEnabled: Bool = {
    #if RNN_AVX512_KERNEL
    return true
    #else
    return false
    #endif
}()

@inline(never)
public func multiplyPanelBlock8AVX512(K: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                                      c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    typealias Vector = SIMD16<Float>
    @inline(__always) func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }
    @inline(__always) func store(_ vector: Vector, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: Vector.self)
    }
    var s0 = Vector(), s1 = Vector(), s2 = Vector(), s3 = Vector()
    var s4 = Vector(), s5 = Vector(), s6 = Vector(), s7 = Vector()
    if accumulate {
        s0 = load(c); s1 = load(c + ldc); s2 = load(c + 2 * ldc); s3 = load(c + 3 * ldc)
        s4 = load(c + 4 * ldc); s5 = load(c + 5 * ldc); s6 = load(c + 6 * ldc); s7 = load(c + 7 * ldc)
    }
    let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda
    let a4 = a + 4 * lda, a5 = a + 5 * lda, a6 = a + 6 * lda, a7 = a + 7 * lda
    var b = packed
    for k in 0..<K {
        let panel = load(b)
        s0.addProduct(Vector(repeating: a0[k]), panel)
        s1.addProduct(Vector(repeating: a1[k]), panel)
        s2.addProduct(Vector(repeating: a2[k]), panel)
        s3.addProduct(Vector(repeating: a3[k]), panel)
        s4.addProduct(Vector(repeating: a4[k]), panel)
        s5.addProduct(Vector(repeating: a5[k]), panel)
        s6.addProduct(Vector(repeating: a6[k]), panel)
        s7.addProduct(Vector(repeating: a7[k]), panel)
        b += 16
    }
    store(s0, c); store(s1, c + ldc); store(s2, c + 2 * ldc); store(s3, c + 3 * ldc)
    store(s4, c + 4 * ldc); store(s5, c + 5 * ldc); store(s6, c + 6 * ldc); store(s7, c + 7 * ldc)
}
