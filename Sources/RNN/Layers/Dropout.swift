import RNNCore

/// Inverted dropout: in training each value is kept with probability 1 − p and scaled by
/// 1/(1 − p), so evaluation (the identity) needs no rescaling.
///
///     y = x ⊙ m,  m_i ∈ {0, 1/(1−p)},   ∂L/∂x = ∂L/∂y ⊙ m
public final class Dropout {
    public let rate: Float
    private var mask: [Float] = []
    /// Values of `mask` the last `forward` drew.
    private var maskCount = 0
    private var active = false

    public init(rate: Float) throws {
        guard rate >= 0, rate < 1 else { throw RNNError("dropout: rate must be in [0, 1), got \(rate)") }
        self.rate = rate
    }

    public func forward(_ x: Tensor, training: Bool, generator: inout SeededGenerator) -> Tensor {
        active = training && rate > 0
        maskCount = 0
        guard active, x.count > 0 else { return x }
        let keep = 1 - rate, scale = 1 / keep
        // The mask only grows (a batch's size changes every step); its first x.count values are
        // this call's. Raw pointers: no exclusivity or uniqueness checks per element.
        if mask.count < x.count { mask = [Float](repeating: 0, count: x.count) }
        var y = x
        var random = generator
        mask.withUnsafeMutableBufferPointer { maskBuffer in
            y.withUnsafeMutableBufferPointer { values in
                let m = maskBuffer.baseAddress!, v = values.baseAddress!
                for index in 0..<values.count {
                    let factor: Float = random.nextUnitFloat() < keep ? scale : 0
                    m[index] = factor
                    v[index] *= factor
                }
            }
        }
        generator = random
        maskCount = x.count
        return y
    }

    /// What an evaluation-mode `forward` does to the layer's state (the next `backward` is the
    /// identity), for a caller that skips the call itself because the identity needs no work.
    public func skipForInference() { active = false }

    public func backward(outputGradient: Tensor) throws -> Tensor {
        guard active else { return outputGradient }
        guard outputGradient.count == maskCount else {
            throw RNNError("dropout: gradient of \(outputGradient.count) values for a mask of \(maskCount)")
        }
        guard maskCount > 0 else { return outputGradient }
        var dx = outputGradient
        mask.withUnsafeBufferPointer { maskBuffer in
            dx.withUnsafeMutableBufferPointer { values in
                let m = maskBuffer.baseAddress!, v = values.baseAddress!
                for index in 0..<values.count { v[index] *= m[index] }
            }
        }
        return dx
    }
}
