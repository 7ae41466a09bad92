import RNNCore

/// The vanilla (Elman) RNN cell, Keras `SimpleRNN`, PyTorch `nn.RNN`:
///
///     h_t = f(W x_t + U h_{t−1} + b)        f ∈ {tanh, relu, linear}
///
/// with W = `weight_ih`, U = `weight_hh`, b = `bias_ih` + `bias_hh`. Backward, from
/// δ = ∂L/∂h_t:  ∂L/∂a = δ ⊙ f'(a) (f' read off h_t),  ∂L/∂h_{t−1} = Uᵀ ∂L/∂a (added by the runner).
///
/// With tanh on an AVX-512 CPU the passes run 16 lanes wide (module RNNKernelsAVX512 via
/// `GateKernels`), else 8 lanes (below); same equations.
struct SimpleRNNCell: RecurrentCell {
    let activation: Activation
    /// Whether the tanh passes run 16 lanes wide (default: when the CPU has AVX-512).
    var usesAVX512 = GateKernels.usesAVX512
    var gateCount: Int { 1 }
    var hasCellState: Bool { false }
    var cacheWidth: Int { 0 }
    var separateRecurrentGradient: Bool { false }

    func forward(rows: Int, hiddenSize: Int,
                 gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, recurrentBias: UnsafePointer<Float>,
                 hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                 hOut: UnsafeMutablePointer<Float>, cOut: UnsafeMutablePointer<Float>,
                 cache: UnsafeMutablePointer<Float>?) {
        let activation = self.activation
        if usesAVX512 && activation == .tanh {
            GateKernels.tanhRNNForward(rows: rows, hiddenSize: hiddenSize, gx: gx, gh: gh, recurrentBias: recurrentBias, hOut: hOut)
            return
        }
        for row in 0..<rows {
            let base = row * hiddenSize
            /// h_t = f(W x_t + b_ih + U h_{t−1} + b_hh) for units j ..< j + width.
            @inline(__always) func units(_ j: Int, _ width: Int) {
                let preActivation = loadFloat8(gx + base + j, count: width) + loadFloat8(gh + base + j, count: width)
                    + loadFloat8(recurrentBias + j, count: width)
                let value: Float8
                switch activation {
                case .tanh: value = tanh8(preActivation)
                case .relu: value = preActivation.replacing(with: 0, where: preActivation .< 0)
                case .linear: value = preActivation
                case .sigmoid: value = sigmoid8(preActivation)
                }
                storeFloat8(value, hOut + base + j, count: width)
            }
            var j = 0
            while j + 8 <= hiddenSize { units(j, 8); j += 8 }
            if j < hiddenSize { units(j, hiddenSize - j) }
        }
    }

    func backward(rows: Int, hiddenSize: Int,
                  dh: UnsafePointer<Float>, dc: UnsafePointer<Float>,
                  hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                  hOut: UnsafePointer<Float>, cache: UnsafePointer<Float>,
                  dGx: UnsafeMutablePointer<Float>, dGh: UnsafeMutablePointer<Float>,
                  dhPrev: UnsafeMutablePointer<Float>, dcPrev: UnsafeMutablePointer<Float>) {
        let count = rows * hiddenSize
        guard activation == .tanh else {
            for index in 0..<count {
                // ∂L/∂a = δ ⊙ f'(a); h_{t−1} reaches h_t only through U.
                dGx[index] = dh[index] * activation.derivative(output: hOut[index])
                dhPrev[index] = 0
            }
            return
        }
        if usesAVX512 {
            GateKernels.tanhRNNBackward(count: count, dh: dh, hOut: hOut, dGates: dGx, dhPrev: dhPrev)
            return
        }
        /// The default tanh, eight at a time: ∂L/∂a = δ ⊙ (1 − h_t²).
        @inline(__always) func elements(_ index: Int, _ width: Int) {
            let h = loadFloat8(hOut + index, count: width)
            storeFloat8(loadFloat8(dh + index, count: width) * (1 - h * h), dGx + index, count: width)
            storeFloat8(Float8(), dhPrev + index, count: width)
        }
        var index = 0
        while index + 8 <= count { elements(index, 8); index += 8 }
        if index < count { elements(index, count - index) }
    }
}
