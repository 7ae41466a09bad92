import RNNCore

/// The vanilla (Elman) RNN cell, Keras `SimpleRNN`, PyTorch `nn.RNN`:
///
///     h_t = f(W x_t + U h_{t−1} + b)        f ∈ {tanh, relu, linear}
///
/// with W = `weight_ih`, U = `weight_hh`, b = `bias_ih` + `bias_hh`. Backward, from
/// δ = ∂L/∂h_t:  ∂L/∂a = δ ⊙ f'(a) (f' read off h_t),  ∂L/∂h_{t−1} = Uᵀ ∂L/∂a (added by the runner).
struct SimpleRNNCell: RecurrentCell {
    let activation: Activation
    var gateCount: Int { 1 }
    var hasCellState: Bool { false }
    var cacheWidth: Int { 0 }
    var separateRecurrentGradient: Bool { false }

    func forward(rows: Int, hiddenSize: Int,
                 gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, recurrentBias: UnsafePointer<Float>,
                 hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                 hOut: UnsafeMutablePointer<Float>, cOut: UnsafeMutablePointer<Float>,
                 cache: UnsafeMutablePointer<Float>) {
        for row in 0..<rows {
            let base = row * hiddenSize
            var j = 0
            while j < hiddenSize {  // h_t = f(W x_t + b_ih + U h_{t−1} + b_hh), eight units at a time
                let width = min(8, hiddenSize - j)
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
                j += 8
            }
        }
    }

    func backward(rows: Int, hiddenSize: Int,
                  dh: UnsafePointer<Float>, dc: UnsafePointer<Float>,
                  hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                  hOut: UnsafePointer<Float>, cache: UnsafePointer<Float>,
                  dGx: UnsafeMutablePointer<Float>, dGh: UnsafeMutablePointer<Float>,
                  dhPrev: UnsafeMutablePointer<Float>, dcPrev: UnsafeMutablePointer<Float>) {
        let activation = self.activation
        let count = rows * hiddenSize
        for index in 0..<count {
            // ∂L/∂a = δ ⊙ f'(a); h_{t−1} reaches h_t only through U.
            dGx[index] = dh[index] * activation.derivative(output: hOut[index])
            dhPrev[index] = 0
        }
    }
}
