/// Vectorized elementwise math for the hot loops (gate activations), on 8-lane Float vectors
/// loaded from and stored to raw pointers. Accurate to a few ulp — far inside the 1e-4 parity
/// tolerance — and an order of magnitude faster than calling libm per element.
///
/// `Float8` is `SIMD8<Float>`: one AVX2 register on x86-64 (see Package.swift for the CPU target).
///
/// How hot loops use these (checked with `objdump -d`): a nested `@inline(__always)` function
/// computes one chunk of eight units with a `width` argument; the loop calls it with the constant
/// 8 (full-register loads and stores, all-`ymm` code) and a last call handles the remainder. A
/// closure taking the width instead gets outlined once for both calls, and the loop then runs
/// the partial-load branches and 128-bit halves.
public typealias Float8 = SIMD8<Float>

/// Loads `count` (1…8) floats from `pointer`; lanes past `count` are zero.
@inlinable @inline(__always)
public func loadFloat8(_ pointer: UnsafePointer<Float>, count: Int = 8) -> Float8 {
    if count >= 8 { return UnsafeRawPointer(pointer).loadUnaligned(as: Float8.self) }
    return loadPartialFloat8(pointer, count: count)
}

/// Stores the first `count` (1…8) lanes of `vector` at `pointer`.
@inlinable @inline(__always)
public func storeFloat8(_ vector: Float8, _ pointer: UnsafeMutablePointer<Float>, count: Int = 8) {
    if count >= 8 {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: Float8.self)
        return
    }
    storePartialFloat8(vector, pointer, count: count)
}

// The partial forms stay out of line: inlined, their lane loops crowd the hot loops' code and
// registers (measured: the LSTM gate pass compiled to 11 KB of mostly 128-bit and scalar code).
@inline(never) @usableFromInline
func loadPartialFloat8(_ pointer: UnsafePointer<Float>, count: Int) -> Float8 {
    var vector = Float8()
    for lane in 0..<count { vector[lane] = pointer[lane] }
    return vector
}

@inline(never) @usableFromInline
func storePartialFloat8(_ vector: Float8, _ pointer: UnsafeMutablePointer<Float>, count: Int) {
    for lane in 0..<count { pointer[lane] = vector[lane] }
}

/// e^x (Cephes' single-precision polynomial; inputs clamped to [−87.3, 88.3]).
@inlinable @inline(__always)
public func exp8(_ input: Float8) -> Float8 {
    // Clamp with lane selects (the generic `clamped` is not inlined across modules).
    let low = Float8(repeating: -87.3), high = Float8(repeating: 88.3)
    let x = input.replacing(with: low, where: input .< low).replacing(with: high, where: input .> high)
    // n = round(x / ln 2) by the 1.5·2²³ trick; its integer sits in the low mantissa bits.
    let shifted = x * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p = Float8(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let polynomial = p * r * r + r + 1
    let exponentBits = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return polynomial * unsafeBitCast(exponentBits, to: Float8.self)
}

/// σ(x) = 1 / (1 + e^(−x))
@inlinable @inline(__always)
public func sigmoid8(_ x: Float8) -> Float8 {
    1 / (1 + exp8(-x))
}

/// tanh(x) = 1 − 2 / (e^(2x) + 1), which saturates cleanly to ±1.
@inlinable @inline(__always)
public func tanh8(_ x: Float8) -> Float8 {
    1 - 2 / (exp8(x + x) + 1)
}
