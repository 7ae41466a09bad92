import Foundation

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
/// Cache per row: the activated gates [i | f | g | o] and tanh(c_t), 5H floats.
struct LSTMCell: RecurrentCell {
    var gateCount: Int { 4 }
    var hasCellState: Bool { true }
    var cacheWidth: Int { 5 }
    var separateRecurrentGradient: Bool { false }

    func forward(rows: Int, hiddenSize H: Int,
                 gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, recurrentBias: UnsafePointer<Float>,
                 hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                 hOut: UnsafeMutablePointer<Float>, cOut: UnsafeMutablePointer<Float>,
                 cache: UnsafeMutablePointer<Float>) {
        for row in 0..<rows {
            let gxRow = gx + row * 4 * H, ghRow = gh + row * 4 * H
            let gates = cache + row * 5 * H  // [i | f | g | o | tanh c]
            let cPrevRow = cPrev + row * H, cRow = cOut + row * H, hRow = hOut + row * H
            for j in 0..<H {
                let i = logistic(gxRow[j] + ghRow[j] + recurrentBias[j])
                let f = logistic(gxRow[H + j] + ghRow[H + j] + recurrentBias[H + j])
                let g = Foundation.tanh(gxRow[2 * H + j] + ghRow[2 * H + j] + recurrentBias[2 * H + j])
                let o = logistic(gxRow[3 * H + j] + ghRow[3 * H + j] + recurrentBias[3 * H + j])
                let c = f * cPrevRow[j] + i * g
                let tanhC = Foundation.tanh(c)
                cRow[j] = c
                hRow[j] = o * tanhC
                gates[j] = i
                gates[H + j] = f
                gates[2 * H + j] = g
                gates[3 * H + j] = o
                gates[4 * H + j] = tanhC
            }
        }
    }

    func backward(rows: Int, hiddenSize H: Int,
                  dh: UnsafePointer<Float>, dc: UnsafePointer<Float>,
                  hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                  hOut: UnsafePointer<Float>, cache: UnsafePointer<Float>,
                  dGx: UnsafeMutablePointer<Float>, dGh: UnsafeMutablePointer<Float>,
                  dhPrev: UnsafeMutablePointer<Float>, dcPrev: UnsafeMutablePointer<Float>) {
        for row in 0..<rows {
            let gates = cache + row * 5 * H
            let dGates = dGx + row * 4 * H
            let dhRow = dh + row * H, dcRow = dc + row * H, cPrevRow = cPrev + row * H
            let dcPrevRow = dcPrev + row * H, dhPrevRow = dhPrev + row * H
            for j in 0..<H {
                let i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j]
                let tanhC = gates[4 * H + j]
                let dcTotal = dcRow[j] + dhRow[j] * o * (1 - tanhC * tanhC)
                let dI = dcTotal * g, dF = dcTotal * cPrevRow[j], dG = dcTotal * i, dO = dhRow[j] * tanhC
                dGates[j] = dI * i * (1 - i)
                dGates[H + j] = dF * f * (1 - f)
                dGates[2 * H + j] = dG * (1 - g * g)
                dGates[3 * H + j] = dO * o * (1 - o)
                dcPrevRow[j] = dcTotal * f
                dhPrevRow[j] = 0
            }
        }
    }
}
