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

/// C[0..<8, 0..<32] = A[0..<8, :] · [panel0 | panel1] (or C += …): two adjacent 16-column panels
/// at once, sixteen 16-lane accumulators, so each broadcast of A[r, k] feeds two multiply-adds
/// and twice as many independent chains hide the FMA latency. Each element is still one chain of
/// fused multiply-adds over k = 0 … K−1 in order (from 0 or from C): bitwise the same results as
/// `multiplyPanelBlock8AVX512` on each panel alone.
@inline(never)
public func multiplyPanelPairBlock8AVX512(K: Int, a: UnsafePointer<Float>, lda: Int,
                                          packed0: UnsafePointer<Float>, packed1: UnsafePointer<Float>,
                                          c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    typealias Vector = SIMD16<Float>
    @inline(__always) func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }
    @inline(__always) func store(_ vector: Vector, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: Vector.self)
    }
    let c0 = c, c1 = c + ldc, c2 = c + 2 * ldc, c3 = c + 3 * ldc
    let c4 = c + 4 * ldc, c5 = c + 5 * ldc, c6 = c + 6 * ldc, c7 = c + 7 * ldc
    var s00 = Vector(), s10 = Vector(), s20 = Vector(), s30 = Vector()
    var s40 = Vector(), s50 = Vector(), s60 = Vector(), s70 = Vector()
    var s01 = Vector(), s11 = Vector(), s21 = Vector(), s31 = Vector()
    var s41 = Vector(), s51 = Vector(), s61 = Vector(), s71 = Vector()
    if accumulate {
        s00 = load(c0); s10 = load(c1); s20 = load(c2); s30 = load(c3)
        s40 = load(c4); s50 = load(c5); s60 = load(c6); s70 = load(c7)
        s01 = load(c0 + 16); s11 = load(c1 + 16); s21 = load(c2 + 16); s31 = load(c3 + 16)
        s41 = load(c4 + 16); s51 = load(c5 + 16); s61 = load(c6 + 16); s71 = load(c7 + 16)
    }
    let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda
    let a4 = a + 4 * lda, a5 = a + 5 * lda, a6 = a + 6 * lda, a7 = a + 7 * lda
    var b0 = packed0, b1 = packed1
    for k in 0..<K {
        let panel0 = load(b0), panel1 = load(b1)
        let x0 = Vector(repeating: a0[k]), x1 = Vector(repeating: a1[k])
        s00.addProduct(x0, panel0); s01.addProduct(x0, panel1)
        s10.addProduct(x1, panel0); s11.addProduct(x1, panel1)
        let x2 = Vector(repeating: a2[k]), x3 = Vector(repeating: a3[k])
        s20.addProduct(x2, panel0); s21.addProduct(x2, panel1)
        s30.addProduct(x3, panel0); s31.addProduct(x3, panel1)
        let x4 = Vector(repeating: a4[k]), x5 = Vector(repeating: a5[k])
        s40.addProduct(x4, panel0); s41.addProduct(x4, panel1)
        s50.addProduct(x5, panel0); s51.addProduct(x5, panel1)
        let x6 = Vector(repeating: a6[k]), x7 = Vector(repeating: a7[k])
        s60.addProduct(x6, panel0); s61.addProduct(x6, panel1)
        s70.addProduct(x7, panel0); s71.addProduct(x7, panel1)
        b0 += 16
        b1 += 16
    }
    store(s00, c0); store(s10, c1); store(s20, c2); store(s30, c3)
    store(s40, c4); store(s50, c5); store(s60, c6); store(s70, c7)
    store(s01, c0 + 16); store(s11, c1 + 16); store(s21, c2 + 16); store(s31, c3 + 16)
    store(s41, c4 + 16); store(s51, c5 + 16); store(s61, c6 + 16); store(s71, c7 + 16)
}

/// C[0..<16, 0..<16] = A[0..<16, :] · panel (or C += …): sixteen 16-lane accumulators, one per
/// row, so each load of the panel feeds sixteen multiply-adds and a weight matrix too large for
/// the L2 cache is streamed once per 16 rows instead of once per 8. Each element is one chain of
/// fused multiply-adds over k = 0 … K−1 in order (from 0 or from C): bitwise the same results as
/// the 8-row kernel.
@inline(never)
public func multiplyPanelBlock16AVX512(K: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
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
    var s8 = Vector(), s9 = Vector(), s10 = Vector(), s11 = Vector()
    var s12 = Vector(), s13 = Vector(), s14 = Vector(), s15 = Vector()
    if accumulate {
        s0 = load(c); s1 = load(c + ldc); s2 = load(c + 2 * ldc); s3 = load(c + 3 * ldc)
        s4 = load(c + 4 * ldc); s5 = load(c + 5 * ldc); s6 = load(c + 6 * ldc); s7 = load(c + 7 * ldc)
        s8 = load(c + 8 * ldc); s9 = load(c + 9 * ldc); s10 = load(c + 10 * ldc); s11 = load(c + 11 * ldc)
        s12 = load(c + 12 * ldc); s13 = load(c + 13 * ldc); s14 = load(c + 14 * ldc); s15 = load(c + 15 * ldc)
    }
    let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda
    let a4 = a + 4 * lda, a5 = a + 5 * lda, a6 = a + 6 * lda, a7 = a + 7 * lda
    let a8 = a + 8 * lda, a9 = a + 9 * lda, a10 = a + 10 * lda, a11 = a + 11 * lda
    let a12 = a + 12 * lda, a13 = a + 13 * lda, a14 = a + 14 * lda, a15 = a + 15 * lda
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
        s8.addProduct(Vector(repeating: a8[k]), panel)
        s9.addProduct(Vector(repeating: a9[k]), panel)
        s10.addProduct(Vector(repeating: a10[k]), panel)
        s11.addProduct(Vector(repeating: a11[k]), panel)
        s12.addProduct(Vector(repeating: a12[k]), panel)
        s13.addProduct(Vector(repeating: a13[k]), panel)
        s14.addProduct(Vector(repeating: a14[k]), panel)
        s15.addProduct(Vector(repeating: a15[k]), panel)
        b += 16
    }
    store(s0, c); store(s1, c + ldc); store(s2, c + 2 * ldc); store(s3, c + 3 * ldc)
    store(s4, c + 4 * ldc); store(s5, c + 5 * ldc); store(s6, c + 6 * ldc); store(s7, c + 7 * ldc)
    store(s8, c + 8 * ldc); store(s9, c + 9 * ldc); store(s10, c + 10 * ldc); store(s11, c + 11 * ldc)
    store(s12, c + 12 * ldc); store(s13, c + 13 * ldc); store(s14, c + 14 * ldc); store(s15, c + 15 * ldc)
}
