import RNNCore
import XCTest

/// Central-difference gradient check.
///
/// The layers compute in Float32, so the perturbation is applied to the Float32 values and the
/// scalar loss is accumulated in Double: (L(v+ε) − L(v−ε)) / 2ε with ε = 1e-2 keeps both the
/// truncation error (O(ε²)) and the Float32 rounding (≈1e-7/ε) near 1e-4 of the gradient scale.
/// Each entry must agree within `tolerance` × (the largest |analytic| entry, at least 0.01), as
/// the PyTorch fixtures are judged; the floor keeps Float32 noise on tiny gradients from failing.
func checkGradient(_ what: String, values: UnsafeMutablePointer<Float>, count: Int, analytic: [Float],
                   epsilon: Float = 1e-2, tolerance: Double = 2e-3,
                   file: StaticString = #filePath, line: UInt = #line,
                   loss: () throws -> Double) rethrows {
    XCTAssertEqual(analytic.count, count, "\(what): gradient size", file: file, line: line)
    let scale = max(Double(analytic.map { abs($0) }.max() ?? 0), 1e-2)
    var worst = 0.0, worstIndex = 0, numericAtWorst = 0.0
    for index in 0..<count {
        let original = values[index]
        values[index] = original + epsilon
        let plus = try loss()
        values[index] = original - epsilon
        let minus = try loss()
        values[index] = original
        let numeric = (plus - minus) / (2 * Double(epsilon))
        let error = abs(numeric - Double(analytic[index])) / scale
        if error > worst { (worst, worstIndex, numericAtWorst) = (error, index, numeric) }
    }
    XCTAssertLessThanOrEqual(worst, tolerance,
        "\(what): entry \(worstIndex) numeric \(numericAtWorst) vs analytic \(analytic[worstIndex]) (scale \(scale))",
        file: file, line: line)
}

/// A fixed pseudo-random tensor with entries in ±scale.
func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    var tensor = Tensor(shape: shape)
    for index in 0..<tensor.count { tensor.scalars[index] = (2 * generator.nextUnitFloat() - 1) * scale }
    return tensor
}

/// Σ a ⊙ b in Double: the scalar loss used to test a layer with a fixed cotangent b.
func dot(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape, "dot: \(a.shape) vs \(b.shape)")
    var total = 0.0
    for index in 0..<a.count { total += Double(a.scalars[index]) * Double(b.scalars[index]) }
    return total
}
