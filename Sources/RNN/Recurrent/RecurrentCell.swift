/// One time step of a recurrent cell, on a batch of rows, forward and backward.
///
/// Layout shared by every cell (PyTorch's, so fixtures and saved models need no reordering):
/// a step's gate pre-activations are a (B, G·H) block with gate-major columns — LSTM
/// `[i | f | g | o]`, GRU `[r | z | n]`, vanilla RNN `[a]`. The sequence runner supplies
///   gx = W_ih x_t + b_ih  (all steps at once, one GEMM) and
///   gh = W_hh h_{t−1}     (one GEMM per step, no bias),
/// and the cell adds b_hh itself, because the GRU needs b_hn inside r ⊙ (W_hn h + b_hn).
///
/// Cells know nothing of masking, direction or time: the runner handles those, and BPTT.
protocol RecurrentCell: Sendable {
    /// G: gate blocks per hidden unit (RNN 1, LSTM 4, GRU 3).
    var gateCount: Int { get }
    /// Whether the cell carries a cell state c (LSTM).
    var hasCellState: Bool { get }
    /// Floats cached per row per step for backward, as a multiple of H.
    var cacheWidth: Int { get }
    /// Whether ∂L/∂gh differs from ∂L/∂gx (GRU: the n gate's recurrent part is scaled by r).
    var separateRecurrentGradient: Bool { get }

    /// Computes h_t (and c_t) for `rows` rows.
    /// - gx, gh: (B, G·H); recurrentBias: (G·H); hPrev, cPrev, hOut, cOut: (B, H);
    ///   cache: (B, cacheWidth·H), or nil in inference (nothing kept for backward).
    ///   `cPrev`/`cOut` are only read/written by cells with cell state.
    func forward(rows: Int, hiddenSize: Int,
                 gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, recurrentBias: UnsafePointer<Float>,
                 hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                 hOut: UnsafeMutablePointer<Float>, cOut: UnsafeMutablePointer<Float>,
                 cache: UnsafeMutablePointer<Float>?)

    /// Given dh = ∂L/∂h_t and dc = ∂L/∂c_t, writes the gate pre-activation gradients
    /// dGx = ∂L/∂gx and dGh = ∂L/∂gh (the same pointer unless `separateRecurrentGradient`),
    /// the direct part of ∂L/∂h_{t−1} (the runner adds dGh · W_hh) and ∂L/∂c_{t−1}.
    func backward(rows: Int, hiddenSize: Int,
                  dh: UnsafePointer<Float>, dc: UnsafePointer<Float>,
                  hPrev: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                  hOut: UnsafePointer<Float>, cache: UnsafePointer<Float>,
                  dGx: UnsafeMutablePointer<Float>, dGh: UnsafeMutablePointer<Float>,
                  dhPrev: UnsafeMutablePointer<Float>, dcPrev: UnsafeMutablePointer<Float>)
}
