import RNNCore

/// Inverted dropout: in training each value is kept with probability 1 − p and scaled by
/// 1/(1 − p), so evaluation (the identity) needs no rescaling.
///
///     y = x ⊙ m,  m_i ∈ {0, 1/(1−p)},   ∂L/∂x = ∂L/∂y ⊙ m
public final class Dropout {
    public let rate: Float
    private var mask: [Float] = []
    private var active = false

    public init(rate: Float) throws {
        guard rate >= 0, rate < 1 else { throw RNNError("dropout: rate must be in [0, 1), got \(rate)") }
        self.rate = rate
    }

    public func forward(_ x: Tensor, training: Bool, generator: inout SeededGenerator) -> Tensor {
        active = training && rate > 0
        guard active else { return x }
        let keep = 1 - rate, scale = 1 / keep
        if mask.count != x.count { mask = [Float](repeating: 0, count: x.count) }
        var y = x
        for index in 0..<x.count {
            mask[index] = generator.nextUnitFloat() < keep ? scale : 0
            y.scalars[index] *= mask[index]
        }
        return y
    }

    /// What an evaluation-mode `forward` does to the layer's state (the next `backward` is the
    /// identity), for a caller that skips the call itself because the identity needs no work.
    public func skipForInference() { active = false }

    public func backward(outputGradient: Tensor) throws -> Tensor {
        guard active else { return outputGradient }
        guard outputGradient.count == mask.count else {
            throw RNNError("dropout: gradient of \(outputGradient.count) values for a mask of \(mask.count)")
        }
        var dx = outputGradient
        for index in 0..<mask.count { dx.scalars[index] *= mask[index] }
        return dx
    }
}
