import RNNCore

/// The long short-term memory cell (Hochreiter & Schmidhuber 1997), PyTorch `nn.LSTM` gate order:
///
///     i_t = σ(W_i x_t + U_i h_{t−1} + b_i)        input gate
///     f_t = σ(W_f x_t + U_f h_{t−1} + b_f)        forget gate
///     g_t = tanh(W_g x_t + U_g h_{t−1} + b_g)     candidate cell state
///     o_t = σ(W_o x_t + U_o h_{t−1} + b_o)        output gate
///     c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t              the "conveyor belt": additive update
///     h_t = o_t ⊙ tanh(c_t)
///
/// Backward, from δh = ∂L/∂h_t and δc = ∂L/∂c_t (carried from step t+1):
///     δc' = δc + δh ⊙ o ⊙ (1 − tanh²c)
///     δo = δh ⊙ tanh c,  δi = δc' ⊙ g,  δg = δc' ⊙ i,  δf = δc' ⊙ c_{t−1},  ∂L/∂c_{t−1} = δc' ⊙ f
/// and each gate's pre-activation gradient is its δ times σ' = y(1−y) or tanh' = 1−y².
/// Cache per row: the activated gates [i | f | g | o] and tanh(c_t), 5H floats (none in inference).
///
/// Two implementations of the same equations: 16 lanes (AVX-512, module RNNKernelsAVX512 via
/// `GateKernels`) when the CPU has it, else the 8-lane passes below.
struct LSTMCell: RecurrentCell {
    /// Whether the passes run 16 lanes wide (default: when the CPU has AVX-512).
    var usesAVX512 = GateKernels.usesAVX512
    var gateCount: Int { 4 }
    var hasCellState: Bool { true }
    var cacheWidth: Int { 5 }
    var separateRecurrentGradient: Bool { false }

    func forward(rows: Int, hiddenSize H: Int,
                 gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, recurrentBias: UnsafePointer<Float>,
                 hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                 hOut: UnsafeMutablePointer<Float>, cOut: UnsafeMutablePointer<Float>,
                 cache: UnsafeMutablePointer<Float>?) {
        if usesAVX512 {
            GateKernels.lstmForward(rows: rows, hiddenSize: H, gx: gx, gh: gh, recurrentBias: recurrentBias,
                                    cPrev: cPrev, hOut: hOut, cOut: cOut, cache: cache)
            return
        }
        for row in 0..<rows {
            let gxRow = gx + row * 4 * H, ghRow = gh + row * 4 * H
            let gates = cache.map { $0 + row * 5 * H }  // [i | f | g | o | tanh c]
            let cPrevRow = cPrev + row * H, cRow = cOut + row * H, hRow = hOut + row * H
            /// Units j ..< j + width (width 8, or the remainder); the cache only when training.
            @inline(__always) func units(_ j: Int, _ width: Int, _ gates: UnsafeMutablePointer<Float>?) {
                @inline(__always) func preActivation(_ gate: Int) -> Float8 {
                    let offset = gate * H + j
                    return loadFloat8(gxRow + offset, count: width) + loadFloat8(ghRow + offset, count: width)
                        + loadFloat8(recurrentBias + offset, count: width)
                }
                let i = sigmoid8(preActivation(0))
                let f = sigmoid8(preActivation(1))
                let g = tanh8(preActivation(2))
                let o = sigmoid8(preActivation(3))
                let c = f * loadFloat8(cPrevRow + j, count: width) + i * g
                let tanhC = tanh8(c)
                storeFloat8(c, cRow + j, count: width)
                storeFloat8(o * tanhC, hRow + j, count: width)
                if let gates {
                    storeFloat8(i, gates + j, count: width)
                    storeFloat8(f, gates + H + j, count: width)
                    storeFloat8(g, gates + 2 * H + j, count: width)
                    storeFloat8(o, gates + 3 * H + j, count: width)
                    storeFloat8(tanhC, gates + 4 * H + j, count: width)
                }
            }
            var j = 0
            if let gates {
                while j + 8 <= H { units(j, 8, gates); j += 8 }
                if j < H { units(j, H - j, gates) }
            } else {
                while j + 8 <= H { units(j, 8, nil); j += 8 }
                if j < H { units(j, H - j, nil) }
            }
        }
    }

    func backward(rows: Int, hiddenSize H: Int,
                  dh: UnsafePointer<Float>, dc: UnsafePointer<Float>,
                  hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                  hOut: UnsafePointer<Float>, cache: UnsafePointer<Float>,
                  dGx: UnsafeMutablePointer<Float>, dGh: UnsafeMutablePointer<Float>,
                  dhPrev: UnsafeMutablePointer<Float>, dcPrev: UnsafeMutablePointer<Float>) {
        if usesAVX512 {
            GateKernels.lstmBackward(rows: rows, hiddenSize: H, dh: dh, dc: dc, cPrev: cPrev, cache: cache,
                                     dGates: dGx, dhPrev: dhPrev, dcPrev: dcPrev)
            return
        }
        for row in 0..<rows {
            let gates = cache + row * 5 * H
            let dGates = dGx + row * 4 * H
            let dhRow = dh + row * H, dcRow = dc + row * H, cPrevRow = cPrev + row * H
            let dcPrevRow = dcPrev + row * H, dhPrevRow = dhPrev + row * H
            /// Units j ..< j + width (width 8, or the remainder).
            @inline(__always) func units(_ j: Int, _ width: Int) {
                let i = loadFloat8(gates + j, count: width), f = loadFloat8(gates + H + j, count: width)
                let g = loadFloat8(gates + 2 * H + j, count: width), o = loadFloat8(gates + 3 * H + j, count: width)
                let tanhC = loadFloat8(gates + 4 * H + j, count: width)
                let deltaH = loadFloat8(dhRow + j, count: width)
                // δc' = δc + δh ⊙ o ⊙ (1 − tanh²c)
                let dcTotal = loadFloat8(dcRow + j, count: width) + deltaH * o * (1 - tanhC * tanhC)
                // δi = δc' g, δf = δc' c_{t−1}, δg = δc' i, δo = δh tanh c; times σ' or tanh'
                storeFloat8(dcTotal * g * i * (1 - i), dGates + j, count: width)
                storeFloat8(dcTotal * loadFloat8(cPrevRow + j, count: width) * f * (1 - f), dGates + H + j, count: width)
                storeFloat8(dcTotal * i * (1 - g * g), dGates + 2 * H + j, count: width)
                storeFloat8(deltaH * tanhC * o * (1 - o), dGates + 3 * H + j, count: width)
                storeFloat8(dcTotal * f, dcPrevRow + j, count: width)  // ∂L/∂c_{t−1}
                storeFloat8(Float8(), dhPrevRow + j, count: width)      // no direct path h_{t−1} → h_t
            }
            var j = 0
            while j + 8 <= H { units(j, 8); j += 8 }
            if j < H { units(j, H - j) }
        }
    }
}
