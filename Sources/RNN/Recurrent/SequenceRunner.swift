import Dispatch
import RNNCore

/// The time loop of one direction of one recurrent layer: forward over a time-major batch, and
/// backpropagation through time — written once, here, for every cell, stack and direction.
///
/// Shapes (time-major): input x (T, B, I); gates (T, B, G·H); states (T+1, B, H).
///
/// Forward runs t = 0 … T−1 (or T−1 … 0 for the reverse direction). The state history has
/// T+1 slots: the initial state sits in slot 0 (forward) or T (reverse), and step t writes
/// slot t+1 (forward) or t (reverse). Variable lengths follow PyTorch's packed sequences: a
/// row is active at step t when t < length; an inactive row keeps its state unchanged, so the
/// final state is the state at the last valid step and the reverse direction starts at each
/// sequence's own last step. Its output there is zero (applied by the caller when it reads
/// `outputState(step:)`), and in backward its gradient passes straight through.
///
/// Nothing is allocated per step: every buffer is sized once per call (and only grows).
///
/// Threads: with a BLAS budget of two threads, the batch rows split in two halves that run the
/// whole step loop at once, one thread each, with no synchronisation per step (a row's state
/// depends only on its own past); the per-step products use `PackedMatrix` (W_hh packed once
/// per call). The all-steps GEMMs run on the same two threads with a single-threaded BLAS.
final class SequenceRunner<Cell: RecurrentCell> {
    let cell: Cell
    let inputSize: Int
    let hiddenSize: Int
    let reverse: Bool
    let store: ParameterStore
    let weightIH: Parameter   // (G·H, I)
    let weightHH: Parameter   // (G·H, H)
    let biasIH: Parameter?    // (G·H)
    let biasHH: Parameter?    // (G·H)

    private(set) var steps = 0
    private(set) var rows = 0
    private var lengths: [Int32] = []         // empty: every row runs all T steps
    private let gatesX = FloatBuffer()        // (T, B, G·H): W_ih x_t + b_ih
    private let gatesH = FloatBuffer()        // (B, G·H): W_hh h_{t−1}, per step
    private let cache = FloatBuffer()         // (T, B, cacheWidth·H)
    private let states = FloatBuffer()        // (T+1, B, H)
    private let cells = FloatBuffer()         // (T+1, B, H), LSTM only
    private let zeroBias = FloatBuffer()      // (G·H) zeros when bias is off
    private let gateGradX = FloatBuffer()     // (T, B, G·H)
    private let gateGradH = FloatBuffer()     // (T, B, G·H), GRU only
    private let dh = FloatBuffer(), dhPrev = FloatBuffer()  // (B, H)
    private let dc = FloatBuffer(), dcPrev = FloatBuffer()  // (B, H)
    private let packedForward = PackedMatrix()   // W_hhᵀ (H, G·H) for gh = h_{t−1} W_hhᵀ
    private let packedBackward = PackedMatrix()  // W_hh (G·H, H) for ∂L/∂h_{t−1} += dGh W_hh
    /// When set, backward records ‖∂L/∂h_t‖ (L2 over the batch) for every step t, in time order:
    /// the vanishing/exploding-gradient diagnostic.
    var recordsStateGradientNorms = false
    private(set) var stateGradientNorms: [Float] = []
    /// Whether the last forward kept the gate cache (it did unless run for inference).
    private var hasCache = false

    var gateWidth: Int { cell.gateCount * hiddenSize }

    init(cell: Cell, inputSize: Int, hiddenSize: Int, reverse: Bool, store: ParameterStore,
         weightIH: Parameter, weightHH: Parameter, biasIH: Parameter?, biasHH: Parameter?) {
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.reverse = reverse
        self.store = store
        self.weightIH = weightIH
        self.weightHH = weightHH
        self.biasIH = biasIH
        self.biasHH = biasHH
    }

    @inline(__always) private func outputSlot(_ t: Int) -> Int { reverse ? t : t + 1 }
    private var initialSlot: Int { reverse ? steps : 0 }
    private var finalSlot: Int { reverse ? 0 : steps }

    @inline(__always) private func isActive(_ row: Int, _ t: Int) -> Bool {
        lengths.isEmpty || t < Int(lengths[row])
    }

    /// The state written at step t, (B, H). Rows inactive at t hold their carried state, not zero.
    func outputState(step t: Int) -> UnsafePointer<Float> {
        UnsafePointer(states.pointer + outputSlot(t) * rows * hiddenSize)
    }

    /// Whether row `row` produced an output at step `t`.
    func produced(row: Int, step t: Int) -> Bool { isActive(row, t) }

    /// Final hidden state, (B, H).
    var finalHidden: UnsafePointer<Float> { UnsafePointer(states.pointer + finalSlot * rows * hiddenSize) }
    /// Final cell state, (B, H) (LSTM).
    var finalCell: UnsafePointer<Float> { UnsafePointer(cells.pointer + finalSlot * rows * hiddenSize) }

    /// Runs the sequence. `input`: (T, B, I) contiguous; `h0`, `c0`: (B, H); `lengths`: B values in 1…T or empty.
    /// `keepsCache` false (inference): the cells keep no per-step gate cache for backward; a
    /// `backward` after such a forward first recomputes it (from the kept input and states).
    /// `lookup` (inference of a first layer after an embedding): the input projection of every
    /// step is a row of a precomputed table, gathered per step into a small buffer, instead of
    /// the all-steps GEMM; `input` is then not read (and may be any pointer).
    func forward(input: UnsafePointer<Float>, steps: Int, rows: Int, lengths: [Int32],
                 h0: UnsafePointer<Float>, c0: UnsafePointer<Float>, keepsCache: Bool = true,
                 lookup: InputGateLookup? = nil) {
        self.steps = steps
        self.rows = rows
        self.lengths = lengths
        hasCache = keepsCache
        let H = hiddenSize, G = gateWidth, stateSize = rows * H
        // With a lookup, gx holds one step's gathered rows, (B, G·H); else all steps' products.
        let gx = gatesX.reserve((lookup == nil ? steps : 1) * rows * G)
        let gh = gatesH.reserve(rows * G)
        let cacheStride = rows * cell.cacheWidth * H
        let cacheBase: UnsafeMutablePointer<Float>? = keepsCache && cell.cacheWidth > 0
            ? cache.reserve(steps * cacheStride) : nil
        let stateBase = states.reserve((steps + 1) * stateSize)
        let cellBase = cells.reserve(cell.hasCellState ? (steps + 1) * stateSize : stateSize)
        zeroBias.zeroed(G)

        // With two threads (see `rowParts`) everything below runs on this runner's own pair of
        // threads with a single-threaded BLAS: OpenBLAS's own worker would otherwise spin
        // (sched_yield) beside them through the whole step loop after each threaded call.
        let packed = usesPackedStep
        let parts = rowParts(packed: packed)
        let savedThreads = BLAS.threads
        if parts.count > 1 { BLAS.setThreads(1) }
        defer { if parts.count > 1 { BLAS.setThreads(savedThreads) } }

        // One GEMM (one per thread: halves of the time steps) projects every step's input:
        // gx = X W_ihᵀ (+ b_ih).
        let weightIHValues = store.readOnlyValues(of: weightIH)
        let inputBias = biasIH.map { store.readOnlyValues(of: $0) }
        let inputSize = self.inputSize
        let projectionBlocks = lookup != nil ? [] : parts.count > 1 ? splitRange(steps, parts: parts.count) : [0..<steps]
        forEachPart(projectionBlocks) { block in
            let first = block.lowerBound * rows, count = block.count * rows
            BLAS.gemm(transposeA: false, transposeB: true, m: count, n: G, k: inputSize,
                      a: input + first * inputSize, lda: inputSize, b: weightIHValues, ldb: inputSize,
                      beta: 0, c: gx + first * G, ldc: G)
            if let inputBias {
                for row in first..<(first + count) {
                    let line = gx + row * G
                    for j in 0..<G { line[j] += inputBias[j] }
                }
            }
        }
        let recurrentBias = biasHH.map { store.readOnlyValues(of: $0) } ?? UnsafePointer(zeroBias.pointer)
        let weightHHValues = store.readOnlyValues(of: weightHH)

        // (A recomputation for backward passes the kept initial state itself.)
        if h0 != stateBase + initialSlot * stateSize {
            (stateBase + initialSlot * stateSize).update(from: h0, count: stateSize)
        }
        if cell.hasCellState && c0 != cellBase + initialSlot * stateSize {
            (cellBase + initialSlot * stateSize).update(from: c0, count: stateSize)
        }

        // The step loop: each part of the batch rows runs all its steps on its own thread (a row's
        // state depends only on its own past), so the loop needs no synchronisation per step.
        if packed { packedForward.pack(weightHHValues, rows: H, columns: G, ld: H, transposed: true) }
        let cell = self.cell, reverse = self.reverse, lengths = self.lengths
        let cacheRow = cell.cacheWidth * H
        forEachPart(parts) { part in
            let first = part.lowerBound, count = part.count
            let ghPart = gh + first * G
            for step in 0..<steps {
                let t = reverse ? steps - 1 - step : step
                let previous = (reverse ? t + 1 : t) * stateSize + first * H
                let output = (reverse ? t : t + 1) * stateSize + first * H
                let hPrev = stateBase + previous, hOut = stateBase + output
                let cPrev = cell.hasCellState ? cellBase + previous : cellBase
                let cOut = cell.hasCellState ? cellBase + output : cellBase
                // gh = h_{t−1} W_hhᵀ
                if packed {
                    packedForward.multiply(rows: count, a: hPrev, lda: H, c: ghPart, ldc: G, accumulate: false)
                } else {
                    BLAS.gemm(transposeA: false, transposeB: true, m: count, n: G, k: H,
                              a: hPrev, lda: H, b: weightHHValues, ldb: H, beta: 0, c: ghPart, ldc: G)
                }
                let gxStep: UnsafeMutablePointer<Float>
                if let lookup {
                    // gx rows = table[token] (the projection and b_ih, precomputed).
                    gxStep = gx + first * G
                    let tokens = lookup.tokens + t * rows + first
                    for row in 0..<count {
                        (gxStep + row * G).update(from: lookup.table + Int(tokens[row]) * G, count: G)
                    }
                } else {
                    gxStep = gx + (t * rows + first) * G
                }
                cell.forward(rows: count, hiddenSize: H, gx: gxStep, gh: ghPart,
                             recurrentBias: recurrentBias, hPrev: hPrev, cPrev: cPrev,
                             hOut: hOut, cOut: cOut, cache: cacheBase.map { $0 + t * cacheStride + first * cacheRow })
                if !lengths.isEmpty {
                    for row in 0..<count where t >= Int(lengths[first + row]) {
                        (hOut + row * H).update(from: hPrev + row * H, count: H)
                        if cell.hasCellState { (cOut + row * H).update(from: cPrev + row * H, count: H) }
                    }
                }
            }
        }
    }

    /// Whether the per-step products go through `PackedMatrix` (weights packed once per call)
    /// rather than BLAS: worth it from two rows and two steps. Batch-1 generation (one row, one
    /// step per call) stays with BLAS's matrix-vector product, which reads the weights once.
    private var usesPackedStep: Bool { rows >= 2 && steps >= 2 }

    /// The batch rows split into parts that run their step loops at once, one thread each: two
    /// halves (the first a multiple of 4 rows, the AVX2 kernel's block height) when the BLAS
    /// thread budget is two or more (inside the two concurrent directions of a bidirectional
    /// layer it is one) and the batch has at least 8 rows; else all rows in one part. The step
    /// loop's results do not depend on the split (the all-steps GEMMs, split the same way between
    /// the two threads, may differ from one BLAS call in the last bits).
    private func rowParts(packed: Bool) -> [Range<Int>] {
        guard packed, rows >= 8, BLAS.threads >= 2 else { return [0..<rows] }
        let half = (rows / 2 + 3) / 4 * 4
        return [0..<half, half..<rows]
    }

    /// Backpropagation through time for the last `forward`.
    ///
    /// - outputGradient: ∂L/∂y_t for every step, rows of `outputStride` floats (nil: none).
    /// - finalHiddenGradient, finalCellGradient: ∂L/∂h_n, ∂L/∂c_n, (B, H) (nil: zero).
    /// - input: the same (T, B, I) input given to forward.
    /// - inputGradient: (T, B, I), accumulated into (beta = 1); nil to skip.
    /// - initialHiddenGradient, initialCellGradient: (B, H), overwritten.
    /// Parameter gradients are accumulated into the store.
    func backward(outputGradient: UnsafePointer<Float>?, outputStride: Int,
                  finalHiddenGradient: UnsafePointer<Float>?, finalCellGradient: UnsafePointer<Float>?,
                  input: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                  initialHiddenGradient: UnsafeMutablePointer<Float>,
                  initialCellGradient: UnsafeMutablePointer<Float>?) {
        if !hasCache {
            // The last forward ran for inference: run it again keeping the cache, from the same
            // input and initial state (kept in slot `initialSlot`); the results are the same.
            let stateSize = rows * hiddenSize
            forward(input: input, steps: steps, rows: rows, lengths: lengths,
                    h0: states.pointer + initialSlot * stateSize,
                    c0: cell.hasCellState ? cells.pointer + initialSlot * stateSize : states.pointer)
        }
        let H = hiddenSize, G = gateWidth, stateSize = rows * H
        let separate = cell.separateRecurrentGradient
        let dGxBase = gateGradX.reserve(steps * rows * G)
        let dGhBase = separate ? gateGradH.reserve(steps * rows * G) : dGxBase
        let deltaBase = dh.reserve(stateSize), deltaPrevBase = dhPrev.reserve(stateSize)
        let deltaCellBase = dc.reserve(stateSize), deltaCellPrevBase = dcPrev.reserve(stateSize)
        if let finalHiddenGradient { deltaBase.update(from: finalHiddenGradient, count: stateSize) }
        else { deltaBase.update(repeating: 0, count: stateSize) }
        if let finalCellGradient, cell.hasCellState { deltaCellBase.update(from: finalCellGradient, count: stateSize) }
        else { deltaCellBase.update(repeating: 0, count: stateSize) }

        let stateBase = states.pointer, cellBase = cells.pointer, cacheBase = cache.pointer
        let cacheStride = rows * cell.cacheWidth * H
        let weightHHValues = store.readOnlyValues(of: weightHH)
        let recordsNorms = recordsStateGradientNorms
        if recordsNorms {
            stateGradientNorms = [Float](repeating: 0, count: steps)
        }
        var norms = [Float](repeating: 0, count: recordsNorms ? steps : 0)

        let packed = usesPackedStep
        // One part when the norms are recorded: they sum over the whole batch at every step.
        let parts = recordsNorms ? [0..<rows] : rowParts(packed: packed)
        let savedThreads = BLAS.threads
        if parts.count > 1 { BLAS.setThreads(1) }  // as in forward
        defer { if parts.count > 1 { BLAS.setThreads(savedThreads) } }
        if packed { packedBackward.pack(weightHHValues, rows: G, columns: H, ld: H, transposed: false) }
        let cell = self.cell, reverse = self.reverse, lengths = self.lengths
        let cacheRow = cell.cacheWidth * H
        norms.withUnsafeMutableBufferPointer { norms in
            let norms = recordsNorms ? norms.baseAddress : nil  // an empty array may have storage
            forEachPart(parts) { part in
                let first = part.lowerBound, count = part.count, partSize = count * H
                var delta = deltaBase + first * H, deltaPrev = deltaPrevBase + first * H
                var deltaCell = deltaCellBase + first * H, deltaCellPrev = deltaCellPrevBase + first * H
                for step in 0..<steps {
                    let t = reverse ? step : steps - 1 - step  // the forward order, backwards
                    @inline(__always) func isActive(_ row: Int) -> Bool { lengths.isEmpty || t < Int(lengths[first + row]) }
                    if let outputGradient {
                        for row in 0..<count where isActive(row) {
                            let source = outputGradient + (t * rows + first + row) * outputStride
                            let target = delta + row * H
                            for j in 0..<H { target[j] += source[j] }
                        }
                    }
                    if let norms {
                        var sum: Float = 0
                        for index in 0..<partSize { sum += delta[index] * delta[index] }
                        norms[t] = sum.squareRoot()
                    }
                    let previous = (reverse ? t + 1 : t) * stateSize + first * H
                    let output = (reverse ? t : t + 1) * stateSize + first * H
                    let hPrev = stateBase + previous, hOut = stateBase + output
                    let cPrev = cell.hasCellState ? cellBase + previous : cellBase
                    let dGx = dGxBase + (t * rows + first) * G, dGh = dGhBase + (t * rows + first) * G
                    cell.backward(rows: count, hiddenSize: H, dh: delta, dc: deltaCell,
                                  hPrev: hPrev, cPrev: cPrev, hOut: hOut,
                                  cache: cacheBase + t * cacheStride + first * cacheRow,
                                  dGx: dGx, dGh: dGh, dhPrev: deltaPrev, dcPrev: deltaCellPrev)
                    if !lengths.isEmpty {
                        // Inactive rows: the state was copied, so its gradient passes through unchanged.
                        for row in 0..<count where !isActive(row) {
                            (dGx + row * G).update(repeating: 0, count: G)
                            if separate { (dGh + row * G).update(repeating: 0, count: G) }
                            (deltaPrev + row * H).update(from: delta + row * H, count: H)
                            if cell.hasCellState { (deltaCellPrev + row * H).update(from: deltaCell + row * H, count: H) }
                        }
                    }
                    // ∂L/∂h_{t−1} += dGh · W_hh
                    if packed {
                        packedBackward.multiply(rows: count, a: dGh, lda: G, c: deltaPrev, ldc: H, accumulate: true)
                    } else {
                        BLAS.gemm(transposeA: false, transposeB: false, m: count, n: H, k: G,
                                  a: dGh, lda: G, b: weightHHValues, ldb: H, beta: 1, c: deltaPrev, ldc: H)
                    }
                    swap(&delta, &deltaPrev)
                    swap(&deltaCell, &deltaCellPrev)
                }
            }
        }
        if recordsNorms { stateGradientNorms = norms }
        // After an even number of steps (swaps) the gradients are back in the first buffers.
        let delta = steps % 2 == 0 ? deltaBase : deltaPrevBase
        let deltaCell = steps % 2 == 0 ? deltaCellBase : deltaCellPrevBase
        initialHiddenGradient.update(from: delta, count: stateSize)
        if let initialCellGradient { initialCellGradient.update(from: deltaCell, count: stateSize) }

        // Parameter gradients for all steps at once: one GEMM each (per thread: halves of the
        // gate rows of the weights, so each thread writes its own rows).
        let n = steps * rows, inputSize = self.inputSize
        // The h_{t−1} of every step are contiguous: slots 0…T−1 (forward) or 1…T (reverse).
        let previousStates = UnsafePointer(stateBase + (reverse ? stateSize : 0))
        let weightIHGradient = store.gradients(of: weightIH), weightHHGradient = store.gradients(of: weightHH)
        let inputBiasGradient = biasIH.map { store.gradients(of: $0) }
        let recurrentBiasGradient = biasHH.map { store.gradients(of: $0) }
        forEachPart(parts.count > 1 ? splitRange(G, parts: parts.count, multiple: 16) : [0..<G]) { gates in
            let first = gates.lowerBound, count = gates.count
            BLAS.gemm(transposeA: true, transposeB: false, m: count, n: inputSize, k: n,
                      a: dGxBase + first, lda: G, b: input, ldb: inputSize,
                      beta: 1, c: weightIHGradient + first * inputSize, ldc: inputSize)
            BLAS.gemm(transposeA: true, transposeB: false, m: count, n: H, k: n,
                      a: dGhBase + first, lda: G, b: previousStates, ldb: H,
                      beta: 1, c: weightHHGradient + first * H, ldc: H)
            if let inputBiasGradient {
                addColumnSums(dGxBase + first, rows: n, columns: count, stride: G, into: inputBiasGradient + first)
            }
            if let recurrentBiasGradient {
                addColumnSums(dGhBase + first, rows: n, columns: count, stride: G, into: recurrentBiasGradient + first)
            }
        }
        if let inputGradient { addInputGradient(into: inputGradient, parts: parts.count) }
    }

    /// ∂L/∂x (T, B, I) += dGx · W_ih for the last `backward`. Separate from `backward` so that
    /// two directions can run backward at once and then add into one input gradient in turn.
    /// With a BLAS budget of two threads, each of two threads takes half of the time steps.
    func addInputGradient(into inputGradient: UnsafeMutablePointer<Float>) {
        let threads = BLAS.threads
        let parts = usesPackedStep && rows >= 8 && threads >= 2 ? 2 : 1
        if parts > 1 { BLAS.setThreads(1) }
        defer { if parts > 1 { BLAS.setThreads(threads) } }
        addInputGradient(into: inputGradient, parts: parts)
    }

    private func addInputGradient(into inputGradient: UnsafeMutablePointer<Float>, parts: Int) {
        let G = gateWidth, rows = self.rows, inputSize = self.inputSize
        let dGx = UnsafePointer(gateGradX.pointer), weights = store.readOnlyValues(of: weightIH)
        forEachPart(parts > 1 ? splitRange(steps, parts: parts) : [0..<steps]) { block in
            let first = block.lowerBound * rows
            BLAS.gemm(transposeA: false, transposeB: false, m: block.count * rows, n: inputSize, k: G,
                      a: dGx + first * G, lda: G, b: weights, ldb: inputSize,
                      beta: 1, c: inputGradient + first * inputSize, ldc: inputSize)
        }
    }
}

/// The first layer's input projection for inference as a table lookup: step t of row b takes
/// `table[tokens[t · B + b]]`, a row of G·H floats (see `EmbeddingFold`).
struct InputGateLookup {
    let table: UnsafePointer<Float>   // (V, G·H): E W_ihᵀ + b_ih
    let tokens: UnsafePointer<Int32>  // (T, B), ids already checked to be in 0..<V
}

/// 0 ..< count in `parts` contiguous ranges of nearly equal size (all but the last a multiple of
/// `multiple`).
func splitRange(_ count: Int, parts: Int, multiple: Int = 1) -> [Range<Int>] {
    let size = ((count + parts - 1) / parts + multiple - 1) / multiple * multiple
    return (0..<parts).compactMap { part in
        let lower = min(part * size, count), upper = min(lower + size, count)
        return lower < upper ? lower..<upper : nil
    }
}

/// Runs `body(part)` for each part (of the batch rows, time steps or gate rows), at once (one
/// thread each) when there are several. Safe to share: each part reads shared inputs and weights
/// and writes only its own rows of the runner's buffers and of the gradients.
func forEachPart(_ parts: [Range<Int>], _ body: (Range<Int>) -> Void) {
    guard parts.count > 1 else {
        for part in parts { body(part) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let work = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: parts.count) { work.value(parts[$0]) }
    }
}

/// target[j] += Σ_rows matrix[row, j], rows `stride` floats apart (default: `columns`).
func addColumnSums(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int? = nil,
                   into target: UnsafeMutablePointer<Float>) {
    let stride = stride ?? columns
    for row in 0..<rows {
        let line = matrix + row * stride
        for j in 0..<columns { target[j] += line[j] }
    }
}
