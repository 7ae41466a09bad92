/// The fused gate passes of the recurrent cells in 16-lane `SIMD16<Float>` (one AVX-512
/// register), compiled for an AVX-512 CPU like the step product's kernel beside them
/// (Package.swift). The cells in module RNN call these only after the run-time CPU check
/// (`RNNCore.GateKernels.usesAVX512`); otherwise they run their own 8-lane (AVX2) passes.
///
/// Same equations, same operation order per element and the same exp/sigmoid/tanh polynomials as
/// the 8-lane passes (RNNCore/VectorMath.swift, RNN/Recurrent/*Cell.swift), where the equations
/// are written out next to each cell; only the register width differs, so results agree with
/// the 8-lane path to float rounding (RecurrentGateKernelTests compares both).
///
/// Layout (PyTorch's): gate pre-activations per row are gate-major blocks of H columns
/// (LSTM [i|f|g|o], GRU [r|z|n]); caches as the cells document. A nil cache means inference:
/// nothing is kept for backward.

public typealias Lanes16 = SIMD16<Float>

@inline(__always)
func load16(_ pointer: UnsafePointer<Float>, _ count: Int) -> Lanes16 {
    if count >= 16 { return UnsafeRawPointer(pointer).loadUnaligned(as: Lanes16.self) }
    return loadPartial16(pointer, count)
}

@inline(__always)
func store16(_ vector: Lanes16, _ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
    if count >= 16 {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: Lanes16.self)
        return
    }
    storePartial16(vector, pointer, count)
}

// Out of line, as in VectorMath.swift: inlined lane loops crowd the hot loops.
@inline(never)
func loadPartial16(_ pointer: UnsafePointer<Float>, _ count: Int) -> Lanes16 {
    var vector = Lanes16()
    for lane in 0..<count { vector[lane] = pointer[lane] }
    return vector
}

@inline(never)
func storePartial16(_ vector: Lanes16, _ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
    for lane in 0..<count { pointer[lane] = vector[lane] }
}

/// e^x: Cephes' single-precision polynomial, inputs clamped to [−87.3, 88.3] (as `exp8`).
///
/// The clamp is `pointwiseMin`/`pointwiseMax` (one vminps/vmaxps each), not the lane select of
/// `exp8`: on 16 lanes a select compiles (objdump, this target) to 128-bit pieces and mask
/// shuffling that drags every later operation down to 128 bits. The min/max would turn a NaN
/// input into the bound, so `input · 0` is added back: NaN stays NaN (and ±∞, which `exp8`
/// saturates, becomes NaN: a diverged model shows as NaN rather than as saturated gates).
@inline(__always)
func exp16(_ input: Lanes16) -> Lanes16 {
    let low = Lanes16(repeating: -87.3), high = Lanes16(repeating: 88.3)
    let x = pointwiseMin(pointwiseMax(input, low), high)
    let shifted = x * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p = Lanes16(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let polynomial = p * r * r + r + 1
    let exponentBits = (unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return polynomial * unsafeBitCast(exponentBits, to: Lanes16.self) + input * 0
}

/// σ(x) = 1 / (1 + e^(−x))
@inline(__always)
func sigmoid16(_ x: Lanes16) -> Lanes16 { 1 / (1 + exp16(-x)) }

/// tanh(x) = 1 − 2 / (e^(2x) + 1)
@inline(__always)
func tanh16(_ x: Lanes16) -> Lanes16 { 1 - 2 / (exp16(x + x) + 1) }

// Each pass below is a nested `@inline(__always)` function over units j ..< j + width, called
// with the constant 16 in the loop and once for the remainder (the pattern VectorMath.swift
// explains: a closure taking the width would be outlined and run the partial branches).

// MARK: LSTM

/// LSTM forward (LSTMCell): i, f, o = σ(·), g = tanh(·) of gx + gh + b_hh;
/// c = f ⊙ c_{t−1} + i ⊙ g; h = o ⊙ tanh c. Cache per row [i|f|g|o|tanh c] (5H) unless nil.
public func lstmForwardAVX512(rows: Int, hiddenSize H: Int,
                              gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, recurrentBias: UnsafePointer<Float>,
                              cPrev: UnsafePointer<Float>, hOut: UnsafeMutablePointer<Float>,
                              cOut: UnsafeMutablePointer<Float>, cache: UnsafeMutablePointer<Float>?) {
    // Two loops, with and without the cache, each a function of its own: in one function
    // together the compiler split one of them into 128-bit pieces (objdump).
    if let cache {
        lstmForwardRows(rows: rows, H: H, gx: gx, gh: gh, bias: recurrentBias, cPrev: cPrev, hOut: hOut, cOut: cOut,
                        cache: cache)
    } else {
        lstmForwardRowsWithoutCache(rows: rows, H: H, gx: gx, gh: gh, bias: recurrentBias, cPrev: cPrev, hOut: hOut,
                                    cOut: cOut)
    }
}

@inline(never)
func lstmForwardRows(rows: Int, H: Int, gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                     cPrev: UnsafePointer<Float>, hOut: UnsafeMutablePointer<Float>, cOut: UnsafeMutablePointer<Float>,
                     cache: UnsafeMutablePointer<Float>) {
    for row in 0..<rows {
        let gates = cache + row * 5 * H
        var j = 0
        while j + 16 <= H {
            lstmUnits(j, 16, H: H, row: row, gx: gx, gh: gh, bias: bias, cPrev: cPrev, hOut: hOut, cOut: cOut, gates: gates)
            j += 16
        }
        if j < H { lstmUnitsTail(j, H - j, H: H, row: row, gx: gx, gh: gh, bias: bias, cPrev: cPrev, hOut: hOut, cOut: cOut, gates: gates) }
    }
}

@inline(never)
func lstmForwardRowsWithoutCache(rows: Int, H: Int, gx: UnsafePointer<Float>, gh: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                                 hOut: UnsafeMutablePointer<Float>, cOut: UnsafeMutablePointer<Float>) {
    for row in 0..<rows {
        var j = 0
        while j + 16 <= H {
            lstmUnits(j, 16, H: H, row: row, gx: gx, gh: gh, bias: bias, cPrev: cPrev, hOut: hOut, cOut: cOut, gates: nil)
            j += 16
        }
        if j < H { lstmUnitsTail(j, H - j, H: H, row: row, gx: gx, gh: gh, bias: bias, cPrev: cPrev, hOut: hOut, cOut: cOut, gates: nil) }
    }
}

/// The last units of a row (fewer than 16), out of line so the main loops stay 512-bit code.
@inline(never)
func lstmUnitsTail(_ j: Int, _ width: Int, H: Int, row: Int, gx: UnsafePointer<Float>, gh: UnsafePointer<Float>,
                   bias: UnsafePointer<Float>, cPrev: UnsafePointer<Float>, hOut: UnsafeMutablePointer<Float>,
                   cOut: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>?) {
    lstmUnits(j, width, H: H, row: row, gx: gx, gh: gh, bias: bias, cPrev: cPrev, hOut: hOut, cOut: cOut, gates: gates)
}

/// Units j ..< j + width of one row.
@inline(__always)
func lstmUnits(_ j: Int, _ width: Int, H: Int, row: Int, gx: UnsafePointer<Float>, gh: UnsafePointer<Float>,
               bias: UnsafePointer<Float>, cPrev: UnsafePointer<Float>, hOut: UnsafeMutablePointer<Float>,
               cOut: UnsafeMutablePointer<Float>, gates: UnsafeMutablePointer<Float>?) {
    let gxRow = gx + row * 4 * H, ghRow = gh + row * 4 * H
    @inline(__always) func preActivation(_ gate: Int) -> Lanes16 {
        let offset = gate * H + j
        return load16(gxRow + offset, width) + load16(ghRow + offset, width) + load16(bias + offset, width)
    }
    let i = sigmoid16(preActivation(0))
    let f = sigmoid16(preActivation(1))
    let g = tanh16(preActivation(2))
    let o = sigmoid16(preActivation(3))
    let c = f * load16(cPrev + row * H + j, width) + i * g
    let tanhC = tanh16(c)
    store16(c, cOut + row * H + j, width)
    store16(o * tanhC, hOut + row * H + j, width)
    if let gates {
        store16(i, gates + j, width)
        store16(f, gates + H + j, width)
        store16(g, gates + 2 * H + j, width)
        store16(o, gates + 3 * H + j, width)
        store16(tanhC, gates + 4 * H + j, width)
    }
}

/// LSTM backward (LSTMCell): δc' = δc + δh ⊙ o ⊙ (1 − tanh²c); pre-activation gradients
/// [δc' g i(1−i) | δc' c_{t−1} f(1−f) | δc' i (1−g²) | δh tanh c o(1−o)] into dGates;
/// ∂L/∂c_{t−1} = δc' ⊙ f; the direct part of ∂L/∂h_{t−1} is zero.
public func lstmBackwardAVX512(rows: Int, hiddenSize H: Int,
                               dh: UnsafePointer<Float>, dc: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                               cache: UnsafePointer<Float>, dGates: UnsafeMutablePointer<Float>,
                               dhPrev: UnsafeMutablePointer<Float>, dcPrev: UnsafeMutablePointer<Float>) {
    for row in 0..<rows {
        let gates = cache + row * 5 * H, dGatesRow = dGates + row * 4 * H
        let dhRow = dh + row * H, dcRow = dc + row * H, cPrevRow = cPrev + row * H
        let dcPrevRow = dcPrev + row * H, dhPrevRow = dhPrev + row * H
        @inline(__always) func units(_ j: Int, _ width: Int) {
            let i = load16(gates + j, width), f = load16(gates + H + j, width)
            let g = load16(gates + 2 * H + j, width), o = load16(gates + 3 * H + j, width)
            let tanhC = load16(gates + 4 * H + j, width)
            let deltaH = load16(dhRow + j, width)
            let dcTotal = load16(dcRow + j, width) + deltaH * o * (1 - tanhC * tanhC)
            store16(dcTotal * g * i * (1 - i), dGatesRow + j, width)
            store16(dcTotal * load16(cPrevRow + j, width) * f * (1 - f), dGatesRow + H + j, width)
            store16(dcTotal * i * (1 - g * g), dGatesRow + 2 * H + j, width)
            store16(deltaH * tanhC * o * (1 - o), dGatesRow + 3 * H + j, width)
            store16(dcTotal * f, dcPrevRow + j, width)
            store16(Lanes16(), dhPrevRow + j, width)
        }
        var j = 0
        while j + 16 <= H { units(j, 16); j += 16 }
        if j < H { units(j, H - j) }
    }
}

// MARK: GRU

/// GRU forward (GRUCell): r, z = σ(gx + gh + b_hh); a = gh_n + b_hn; n = tanh(gx_n + r ⊙ a);
/// h = (1 − z) ⊙ n + z ⊙ h_{t−1}. Cache per row [r|z|n|a] (4H) unless nil.
public func gruForwardAVX512(rows: Int, hiddenSize H: Int,
                             gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, recurrentBias: UnsafePointer<Float>,
                             hPrev: UnsafePointer<Float>, hOut: UnsafeMutablePointer<Float>,
                             cache: UnsafeMutablePointer<Float>?) {
    // As for the LSTM: the loops with and without the cache in functions of their own.
    if let cache {
        gruForwardRows(rows: rows, H: H, gx: gx, gh: gh, bias: recurrentBias, hPrev: hPrev, hOut: hOut, cache: cache)
    } else {
        gruForwardRowsWithoutCache(rows: rows, H: H, gx: gx, gh: gh, bias: recurrentBias, hPrev: hPrev, hOut: hOut)
    }
}

@inline(never)
func gruForwardRows(rows: Int, H: Int, gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                    hPrev: UnsafePointer<Float>, hOut: UnsafeMutablePointer<Float>, cache: UnsafeMutablePointer<Float>) {
    for row in 0..<rows {
        let saved = cache + row * 4 * H
        var j = 0
        while j + 16 <= H { gruUnits(j, 16, H: H, row: row, gx: gx, gh: gh, bias: bias, hPrev: hPrev, hOut: hOut, saved: saved); j += 16 }
        if j < H { gruUnitsTail(j, H - j, H: H, row: row, gx: gx, gh: gh, bias: bias, hPrev: hPrev, hOut: hOut, saved: saved) }
    }
}

@inline(never)
func gruForwardRowsWithoutCache(rows: Int, H: Int, gx: UnsafePointer<Float>, gh: UnsafePointer<Float>,
                                bias: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, hOut: UnsafeMutablePointer<Float>) {
    for row in 0..<rows {
        var j = 0
        while j + 16 <= H { gruUnits(j, 16, H: H, row: row, gx: gx, gh: gh, bias: bias, hPrev: hPrev, hOut: hOut, saved: nil); j += 16 }
        if j < H { gruUnitsTail(j, H - j, H: H, row: row, gx: gx, gh: gh, bias: bias, hPrev: hPrev, hOut: hOut, saved: nil) }
    }
}

@inline(never)
func gruUnitsTail(_ j: Int, _ width: Int, H: Int, row: Int, gx: UnsafePointer<Float>, gh: UnsafePointer<Float>,
                  bias: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, hOut: UnsafeMutablePointer<Float>,
                  saved: UnsafeMutablePointer<Float>?) {
    gruUnits(j, width, H: H, row: row, gx: gx, gh: gh, bias: bias, hPrev: hPrev, hOut: hOut, saved: saved)
}

/// Units j ..< j + width of one row.
@inline(__always)
func gruUnits(_ j: Int, _ width: Int, H: Int, row: Int, gx: UnsafePointer<Float>, gh: UnsafePointer<Float>,
              bias: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, hOut: UnsafeMutablePointer<Float>,
              saved: UnsafeMutablePointer<Float>?) {
    let gxRow = gx + row * 3 * H, ghRow = gh + row * 3 * H
    let r = sigmoid16(load16(gxRow + j, width) + load16(ghRow + j, width) + load16(bias + j, width))
    let z = sigmoid16(load16(gxRow + H + j, width) + load16(ghRow + H + j, width) + load16(bias + H + j, width))
    let a = load16(ghRow + 2 * H + j, width) + load16(bias + 2 * H + j, width)
    let n = tanh16(load16(gxRow + 2 * H + j, width) + r * a)
    store16((1 - z) * n + z * load16(hPrev + row * H + j, width), hOut + row * H + j, width)
    if let saved {
        store16(r, saved + j, width)
        store16(z, saved + H + j, width)
        store16(n, saved + 2 * H + j, width)
        store16(a, saved + 3 * H + j, width)
    }
}

/// GRU backward (GRUCell): δn̂ = δ(1 − z)(1 − n²), δz = δ(h_{t−1} − n) z(1 − z), δr = δn̂ a r(1 − r);
/// ∂L/∂gx = [δr | δz | δn̂], ∂L/∂gh = [δr | δz | δn̂ r], direct ∂L/∂h_{t−1} = δ z.
public func gruBackwardAVX512(rows: Int, hiddenSize H: Int,
                              dh: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, cache: UnsafePointer<Float>,
                              dGx: UnsafeMutablePointer<Float>, dGh: UnsafeMutablePointer<Float>,
                              dhPrev: UnsafeMutablePointer<Float>) {
    for row in 0..<rows {
        let saved = cache + row * 4 * H
        let dxRow = dGx + row * 3 * H, dhGateRow = dGh + row * 3 * H
        let dhRow = dh + row * H, hPrevRow = hPrev + row * H, dhPrevRow = dhPrev + row * H
        @inline(__always) func units(_ j: Int, _ width: Int) {
            let r = load16(saved + j, width), z = load16(saved + H + j, width)
            let n = load16(saved + 2 * H + j, width), a = load16(saved + 3 * H + j, width)
            let delta = load16(dhRow + j, width)
            let dN = delta * (1 - z) * (1 - n * n)
            let dZ = delta * (load16(hPrevRow + j, width) - n) * z * (1 - z)
            let dR = dN * a * r * (1 - r)
            store16(dR, dxRow + j, width)
            store16(dZ, dxRow + H + j, width)
            store16(dN, dxRow + 2 * H + j, width)
            store16(dR, dhGateRow + j, width)
            store16(dZ, dhGateRow + H + j, width)
            store16(dN * r, dhGateRow + 2 * H + j, width)
            store16(delta * z, dhPrevRow + j, width)
        }
        var j = 0
        while j + 16 <= H { units(j, 16); j += 16 }
        if j < H { units(j, H - j) }
    }
}

// MARK: Vanilla RNN (tanh)

/// h = tanh(gx + gh + b_hh) for `rows` rows of H units (SimpleRNNCell, tanh activation).
public func tanhRNNForwardAVX512(rows: Int, hiddenSize H: Int,
                                 gx: UnsafePointer<Float>, gh: UnsafePointer<Float>, recurrentBias: UnsafePointer<Float>,
                                 hOut: UnsafeMutablePointer<Float>) {
    for row in 0..<rows {
        let base = row * H
        @inline(__always) func units(_ j: Int, _ width: Int) {
            let preActivation = load16(gx + base + j, width) + load16(gh + base + j, width) + load16(recurrentBias + j, width)
            store16(tanh16(preActivation), hOut + base + j, width)
        }
        var j = 0
        while j + 16 <= H { units(j, 16); j += 16 }
        if j < H { units(j, H - j) }
    }
}

/// ∂L/∂a = δ ⊙ (1 − h²) over `count` elements; the direct part of ∂L/∂h_{t−1} is zero.
public func tanhRNNBackwardAVX512(count: Int, dh: UnsafePointer<Float>, hOut: UnsafePointer<Float>,
                                  dGates: UnsafeMutablePointer<Float>, dhPrev: UnsafeMutablePointer<Float>) {
    @inline(__always) func units(_ index: Int, _ width: Int) {
        let h = load16(hOut + index, width)
        store16(load16(dh + index, width) * (1 - h * h), dGates + index, width)
        store16(Lanes16(), dhPrev + index, width)
    }
    var index = 0
    while index + 16 <= count { units(index, 16); index += 16 }
    if index < count { units(index, count - index) }
}
