import RNNKernelsAVX512

/// The 16-lane (AVX-512) gate passes of the recurrent cells, for module RNN: the kernels live in
/// module RNNKernelsAVX512 (compiled for an AVX-512 CPU, Package.swift) and may only run when
/// `usesAVX512` is true (the run-time CPU check shared with `PackedMatrix`). The equations, and
/// the 8-lane passes used otherwise, are in RNN/Recurrent/*Cell.swift; the two agree to float
/// rounding (RecurrentGateKernelTests).
public enum GateKernels {
    /// Whether this CPU runs the AVX-512 passes (false in RNN_PORTABLE builds and elsewhere).
    public static let usesAVX512 = cpuHasAVX512F

    /// LSTM forward; `cache` nil in inference (nothing kept for backward).
    public static func lstmForward(rows: Int, hiddenSize: Int,
                                   gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, recurrentBias: UnsafePointer<Float>,
                                   cPrev: UnsafePointer<Float>, hOut: UnsafeMutablePointer<Float>,
                                   cOut: UnsafeMutablePointer<Float>, cache: UnsafeMutablePointer<Float>?) {
        lstmForwardAVX512(rows: rows, hiddenSize: hiddenSize, gx: gx, gh: gh, recurrentBias: recurrentBias,
                          cPrev: cPrev, hOut: hOut, cOut: cOut, cache: cache)
    }

    public static func lstmBackward(rows: Int, hiddenSize: Int,
                                    dh: UnsafePointer<Float>, dc: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                                    cache: UnsafePointer<Float>, dGates: UnsafeMutablePointer<Float>,
                                    dhPrev: UnsafeMutablePointer<Float>, dcPrev: UnsafeMutablePointer<Float>) {
        lstmBackwardAVX512(rows: rows, hiddenSize: hiddenSize, dh: dh, dc: dc, cPrev: cPrev, cache: cache,
                           dGates: dGates, dhPrev: dhPrev, dcPrev: dcPrev)
    }

    /// GRU forward; `cache` nil in inference.
    public static func gruForward(rows: Int, hiddenSize: Int,
                                  gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, recurrentBias: UnsafePointer<Float>,
                                  hPrev: UnsafePointer<Float>, hOut: UnsafeMutablePointer<Float>,
                                  cache: UnsafeMutablePointer<Float>?) {
        gruForwardAVX512(rows: rows, hiddenSize: hiddenSize, gx: gx, gh: gh, recurrentBias: recurrentBias,
                         hPrev: hPrev, hOut: hOut, cache: cache)
    }

    public static func gruBackward(rows: Int, hiddenSize: Int,
                                   dh: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, cache: UnsafePointer<Float>,
                                   dGx: UnsafeMutablePointer<Float>, dGh: UnsafeMutablePointer<Float>,
                                   dhPrev: UnsafeMutablePointer<Float>) {
        gruBackwardAVX512(rows: rows, hiddenSize: hiddenSize, dh: dh, hPrev: hPrev, cache: cache,
                          dGx: dGx, dGh: dGh, dhPrev: dhPrev)
    }

    /// Vanilla RNN with tanh: h = tanh(gx + gh + b_hh).
    public static func tanhRNNForward(rows: Int, hiddenSize: Int,
                                      gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, recurrentBias: UnsafePointer<Float>,
                                      hOut: UnsafeMutablePointer<Float>) {
        tanhRNNForwardAVX512(rows: rows, hiddenSize: hiddenSize, gx: gx, gh: gh, recurrentBias: recurrentBias, hOut: hOut)
    }

    /// Vanilla RNN with tanh, backward: ∂L/∂a = δ ⊙ (1 − h²).
    public static func tanhRNNBackward(count: Int, dh: UnsafePointer<Float>, hOut: UnsafePointer<Float>,
                                       dGates: UnsafeMutablePointer<Float>, dhPrev: UnsafeMutablePointer<Float>) {
        tanhRNNBackwardAVX512(count: count, dh: dh, hOut: hOut, dGates: dGates, dhPrev: dhPrev)
    }
}
