#if canImport(Foundation)
import Foundation
#endif
import RNNKernelsAVX512

/// The recurrent step's matrix product, C (m, N) = A (m, K) · B (K, N) (or C += A · B), with B
/// packed once and reused for every time step.
///
/// Why not BLAS: a recurrent layer multiplies the same weight matrix by a small state block
/// (m = 16…64 rows) at every step. OpenBLAS 0.3.21 repacks the whole weight matrix on every call
/// and wakes and parks its worker threads each time; on these shapes that is a third of the
/// step's time (BENCHMARKS.md, "Recurrent layers"). Here B is packed once per sequence into
/// column panels and the caller decides the threading (the sequence runner gives each thread
/// its own rows of the batch, so the step loop needs no synchronisation at all).
///
/// Layout: panels of `panelWidth` = 16 columns; panel p holds, for k = 0 … K−1, the 16 values
/// B[k, 16p … 16p+15] contiguously (zero past N). The AVX2 micro-kernel keeps a 4 × 16 block of
/// C in eight 8-lane registers and adds A[r, k] · B[k, 16p …] for k in order (fused
/// multiply-adds); on a CPU with AVX-512F (checked once at run time) blocks of 16 rows go to a
/// 16 × 16 kernel (one 16-lane accumulator per row), blocks of 8 rows to an 8 × 32 kernel over
/// two panels, or for a last odd panel an 8 × 16 kernel (module RNNKernelsAVX512, built for
/// AVX-512).
///
/// Every element of C is one chain of multiply-adds over k = 0 … K−1 in order, starting from 0
/// (or from C when accumulating), whichever kernel (8, 4 or 1 rows) and whichever row split
/// computes it: results are bitwise the same for any split of the rows across threads.
public final class PackedMatrix: @unchecked Sendable {
    public static let panelWidth = 16
    /// Whether blocks of 8 rows use the AVX-512 kernel (this CPU has AVX-512F).
    public let usesAVX512 = cpuHasAVX512F
    /// K: rows of B.
    public private(set) var rows = 0
    /// N: columns of B.
    public private(set) var columns = 0
    private let storage = FloatBuffer()

    public init() {}

    private var panelCount: Int { (columns + PackedMatrix.panelWidth - 1) / PackedMatrix.panelWidth }

    /// Packs B (K, N). `transposed == false`: B is `source` itself, row-major with row stride `ld`.
    /// `transposed == true`: B = sourceᵀ, where `source` is (N, K) row-major with row stride `ld`
    /// (a weight matrix W (G, H) packed for h · Wᵀ).
    public func pack(_ source: UnsafePointer<Float>, rows K: Int, columns N: Int, ld: Int, transposed: Bool) {
        precondition(K >= 0 && N >= 0 && ld >= (transposed ? K : N), "pack: bad shape K=\(K) N=\(N) ld=\(ld)")
        rows = K
        columns = N
        let width = PackedMatrix.panelWidth
        let base = storage.reserve(max(panelCount * K * width, 1))
        for panel in 0..<panelCount {
            let target = base + panel * K * width
            let first = panel * width, count = min(width, N - first)
            if transposed {
                for column in 0..<width {
                    let destination = target + column
                    if column < count {
                        let line = source + (first + column) * ld
                        for k in 0..<K { destination[k * width] = line[k] }
                    } else {
                        for k in 0..<K { destination[k * width] = 0 }
                    }
                }
            } else if count == width {
                // A full panel: one 16-float row per k, copied whole.
                for k in 0..<K {
                    let line = UnsafeRawPointer(source + k * ld + first)
                    UnsafeMutableRawPointer(target + k * width).storeBytes(of: line.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                }
            } else {
                for k in 0..<K {
                    let line = source + k * ld + first, destination = target + k * width
                    for column in 0..<width { destination[column] = column < count ? line[column] : 0 }
                }
            }
        }
    }

    /// C (m, N) = A (m, K) · B, or C += A · B when `accumulate`. A and C are row-major with row
    /// strides `lda` and `ldc`. Single-threaded: callers split rows across threads themselves.
    public func multiply(rows m: Int, a: UnsafePointer<Float>, lda: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        precondition(lda >= rows && ldc >= columns, "multiply: stride too small")
        let K = rows, width = PackedMatrix.panelWidth
        let base = UnsafePointer(storage.pointer)
        // On AVX-512: blocks of 16 rows on each full panel (16 × 16 kernel: the panel is read
        // once per 16 rows); then blocks of 8 rows on pairs of full panels (8 × 32 kernel); the
        // rows and panels left over go through the one-panel path below.
        let fullPanels = columns / width
        var rows16 = 0, pairedPanels = 0, pairedEnd = 0
        if usesAVX512 {
            // 16 rows of A a multiple of 4 KiB apart (lda = 1024, 2048 … floats: the backward
            // product's dGh rows) all fall in one set of the 12-way L1 cache and evict each other
            // (measured: char-lstm512 training 6% slower with the 16-row kernel there); those
            // take the 8-row kernels.
            rows16 = lda % 1024 == 0 ? 0 : m / 16 * 16
            pairedPanels = fullPanels / 2 * 2
            pairedEnd = rows16 + (m - rows16) / 8 * 8
            for panel in 0..<fullPanels {
                let packed = base + panel * K * width
                var row = 0
                while row < rows16 {
                    multiplyPanelBlock16AVX512(K: K, a: a + row * lda, lda: lda, packed: packed,
                                               c: c + row * ldc + panel * width, ldc: ldc, accumulate: accumulate)
                    row += 16
                }
            }
            var panel = 0
            while panel < pairedPanels {
                let packed = base + panel * K * width
                var row = rows16
                while row < pairedEnd {
                    multiplyPanelPairBlock8AVX512(K: K, a: a + row * lda, lda: lda, packed0: packed, packed1: packed + K * width,
                                                  c: c + row * ldc + panel * width, ldc: ldc, accumulate: accumulate)
                    row += 8
                }
                panel += 2
            }
        }
        for panel in 0..<panelCount {
            let packed = base + panel * K * width
            let first = panel * width, count = min(width, columns - first)
            var row = panel < pairedPanels ? pairedEnd : (panel < fullPanels ? rows16 : 0)
            if count == width {
                if usesAVX512 {
                    while row + 8 <= m {
                        multiplyPanelBlock8AVX512(K: K, a: a + row * lda, lda: lda, packed: packed,
                                                  c: c + row * ldc + first, ldc: ldc, accumulate: accumulate)
                        row += 8
                    }
                }
                while row + 4 <= m {
                    multiplyBlock4(K: K, a: a + row * lda, lda: lda, packed: packed, c: c + row * ldc + first, ldc: ldc,
                                   accumulate: accumulate)
                    row += 4
                }
            }
            while row < m {
                multiplyRow(K: K, a: a + row * lda, packed: packed, c: c + row * ldc + first, count: count,
                            accumulate: accumulate)
                row += 1
            }
        }
    }
}

/// Whether the CPU (and the operating system) supports AVX-512F: the "avx512f" flag of
/// /proc/cpuinfo on Linux, which lists only features the kernel has enabled. Elsewhere, or in a
/// build without the AVX-512 module flags (RNN_PORTABLE), false.
let cpuHasAVX512F: Bool = {
    #if arch(x86_64) && os(Linux)
    guard avx512KernelIsEnabled else { return false }
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
    return flags.split(separator: " ").contains("avx512f")
    #else
    return false
    #endif
}()

/// C[0..<4, 0..<16] (+)= A[0..<4, :] · panel: eight accumulators, one FMA chain per element.
@inline(__always)
private func multiplyBlock4(K: Int, a: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                            c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    let c0 = c, c1 = c + ldc, c2 = c + 2 * ldc, c3 = c + 3 * ldc
    var s00 = Float8(), s01 = Float8(), s10 = Float8(), s11 = Float8()
    var s20 = Float8(), s21 = Float8(), s30 = Float8(), s31 = Float8()
    if accumulate {
        s00 = loadFloat8(c0); s01 = loadFloat8(c0 + 8)
        s10 = loadFloat8(c1); s11 = loadFloat8(c1 + 8)
        s20 = loadFloat8(c2); s21 = loadFloat8(c2 + 8)
        s30 = loadFloat8(c3); s31 = loadFloat8(c3 + 8)
    }
    let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda
    var b = packed
    for k in 0..<K {
        let b0 = loadFloat8(b), b1 = loadFloat8(b + 8)
        let x0 = Float8(repeating: a0[k]), x1 = Float8(repeating: a1[k])
        s00.addProduct(x0, b0); s01.addProduct(x0, b1)
        s10.addProduct(x1, b0); s11.addProduct(x1, b1)
        let x2 = Float8(repeating: a2[k]), x3 = Float8(repeating: a3[k])
        s20.addProduct(x2, b0); s21.addProduct(x2, b1)
        s30.addProduct(x3, b0); s31.addProduct(x3, b1)
        b += 16
    }
    storeFloat8(s00, c0); storeFloat8(s01, c0 + 8)
    storeFloat8(s10, c1); storeFloat8(s11, c1 + 8)
    storeFloat8(s20, c2); storeFloat8(s21, c2 + 8)
    storeFloat8(s30, c3); storeFloat8(s31, c3 + 8)
}

/// C[0, 0..<count] (+)= A[0, :] · panel, count ≤ 16: the remainder rows and the last, partial panel.
@inline(never)
private func multiplyRow(K: Int, a: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                         c: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool) {
    var s0 = Float8(), s1 = Float8()
    let low = min(count, 8), high = count - low
    if accumulate {
        s0 = loadFloat8(c, count: low)
        if high > 0 { s1 = loadFloat8(c + 8, count: high) }
    }
    var b = packed
    for k in 0..<K {
        let x = Float8(repeating: a[k])
        s0.addProduct(x, loadFloat8(b))
        s1.addProduct(x, loadFloat8(b + 8))
        b += 16
    }
    storeFloat8(s0, c, count: low)
    if high > 0 { storeFloat8(s1, c + 8, count: high) }
}
