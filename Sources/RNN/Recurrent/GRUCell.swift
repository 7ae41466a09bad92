import RNNCore

/// The gated recurrent unit (Cho et al. 2014) in PyTorch's form (Keras `reset_after=True`):
///
///     r_t = σ(W_r x_t + b_ir + U_r h_{t−1} + b_hr)          reset gate
///     z_t = σ(W_z x_t + b_iz + U_z h_{t−1} + b_hz)          update gate
///     n_t = tanh(W_n x_t + b_in + r_t ⊙ (U_n h_{t−1} + b_hn)) candidate
///     h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
///
/// Backward, from δ = ∂L/∂h_t, with a = U_n h_{t−1} + b_hn:
///     δn = δ ⊙ (1 − z),  δz = δ ⊙ (h_{t−1} − n),  ∂L/∂h_{t−1} ∋ δ ⊙ z (direct path)
///     δn̂ = δn ⊙ (1 − n²) (pre-activation),  δr = δn̂ ⊙ a
///     ∂L/∂gx = [δr r(1−r), δz z(1−z), δn̂],  ∂L/∂gh = [δr r(1−r), δz z(1−z), δn̂ ⊙ r]
/// Cache per row: [r | z | n | a], 4H floats (none in inference).
///
/// Two implementations of the same equations: 16 lanes (AVX-512, module RNNKernelsAVX512 via
/// `GateKernels`) when the CPU has it, else the 8-lane passes below.
struct GRUCell: RecurrentCell {
    /// Whether the passes run 16 lanes wide (default: when the CPU has AVX-512).
    var usesAVX512 = GateKernels.usesAVX512
    var gateCount: Int { 3 }
    var hasCellState: Bool { false }
    var cacheWidth: Int { 4 }
    var separateRecurrentGradient: Bool { true }

    func forward(rows: Int, hiddenSize H: Int,
                 gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, recurrentBias: UnsafePointer<Float>,
                 hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                 hOut: UnsafeMutablePointer<Float>, cOut: UnsafeMutablePointer<Float>,
                 cache: UnsafeMutablePointer<Float>?) {
        if usesAVX512 {
            GateKernels.gruForward(rows: rows, hiddenSize: H, gx: gx, gh: gh, recurrentBias: recurrentBias,
                                   hPrev: hPrev, hOut: hOut, cache: cache)
            return
        }
        for row in 0..<rows {
            let gxRow = gx + row * 3 * H, ghRow = gh + row * 3 * H
            let saved = cache.map { $0 + row * 4 * H }  // [r | z | n | a]
            let hPrevRow = hPrev + row * H, hRow = hOut + row * H
            /// Units j ..< j + width (width 8, or the remainder); the cache only when training.
            @inline(__always) func units(_ j: Int, _ width: Int, _ saved: UnsafeMutablePointer<Float>?) {
                let r = sigmoid8(loadFloat8(gxRow + j, count: width) + loadFloat8(ghRow + j, count: width)
                                 + loadFloat8(recurrentBias + j, count: width))
                let z = sigmoid8(loadFloat8(gxRow + H + j, count: width) + loadFloat8(ghRow + H + j, count: width)
                                 + loadFloat8(recurrentBias + H + j, count: width))
                let a = loadFloat8(ghRow + 2 * H + j, count: width) + loadFloat8(recurrentBias + 2 * H + j, count: width)
                let n = tanh8(loadFloat8(gxRow + 2 * H + j, count: width) + r * a)
                storeFloat8((1 - z) * n + z * loadFloat8(hPrevRow + j, count: width), hRow + j, count: width)
                if let saved {
                    storeFloat8(r, saved + j, count: width)
                    storeFloat8(z, saved + H + j, count: width)
                    storeFloat8(n, saved + 2 * H + j, count: width)
                    storeFloat8(a, saved + 3 * H + j, count: width)
                }
            }
            var j = 0
            if let saved {
                while j + 8 <= H { units(j, 8, saved); j += 8 }
                if j < H { units(j, H - j, saved) }
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
            GateKernels.gruBackward(rows: rows, hiddenSize: H, dh: dh, hPrev: hPrev, cache: cache,
                                    dGx: dGx, dGh: dGh, dhPrev: dhPrev)
            return
        }
        for row in 0..<rows {
            let saved = cache + row * 4 * H
            let dxRow = dGx + row * 3 * H, dhGateRow = dGh + row * 3 * H
            let dhRow = dh + row * H, hPrevRow = hPrev + row * H, dhPrevRow = dhPrev + row * H
            /// Units j ..< j + width (width 8, or the remainder).
            @inline(__always) func units(_ j: Int, _ width: Int) {
                let r = loadFloat8(saved + j, count: width), z = loadFloat8(saved + H + j, count: width)
                let n = loadFloat8(saved + 2 * H + j, count: width), a = loadFloat8(saved + 3 * H + j, count: width)
                let delta = loadFloat8(dhRow + j, count: width)
                let dN = delta * (1 - z) * (1 - n * n)                                   // δn̂
                let dZ = delta * (loadFloat8(hPrevRow + j, count: width) - n) * z * (1 - z)
                let dR = dN * a * r * (1 - r)
                storeFloat8(dR, dxRow + j, count: width)
                storeFloat8(dZ, dxRow + H + j, count: width)
                storeFloat8(dN, dxRow + 2 * H + j, count: width)
                storeFloat8(dR, dhGateRow + j, count: width)
                storeFloat8(dZ, dhGateRow + H + j, count: width)
                storeFloat8(dN * r, dhGateRow + 2 * H + j, count: width)
                storeFloat8(delta * z, dhPrevRow + j, count: width)  // direct path δ ⊙ z
            }
            var j = 0
            while j + 8 <= H { units(j, 8); j += 8 }
            if j < H { units(j, H - j) }
        }
    }
}
