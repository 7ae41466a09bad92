import RNNCore

/// Gradient clipping over the trainable (non-frozen) gradients of a `ParameterStore`.
/// Frozen parameters' gradients are neither counted nor changed.
public enum GradientClipping {
    /// The global L2 norm ‖g‖ = √(Σ gᵢ²) over all trainable gradients, accumulated in Double.
    /// +∞ or NaN when a gradient is not finite (or the sum overflows Float).
    public static func globalNorm(of store: ParameterStore) -> Float {
        let gradients = store.allGradients.baseAddress!
        var sumOfSquares: Double = 0
        for parameter in store.parameters where !store.isFrozen(parameter) {
            sumOfSquares += sumOfSquaresOf(gradients + parameter.offset, count: parameter.count)
        }
        return Float(sumOfSquares.squareRoot())
    }

    /// Clips by global norm with PyTorch's `clip_grad_norm_` rule: when ‖g‖ > maxNorm, every
    /// trainable gradient is multiplied by maxNorm / (‖g‖ + 1e-6). Returns ‖g‖ before clipping.
    ///
    /// A non-finite norm is returned as is and the gradients are left untouched (PyTorch would
    /// scale them into NaN): check `isFinite` on the result and stop training with a message.
    @discardableResult
    public static func clipByGlobalNorm(_ store: ParameterStore, maxNorm: Float) throws -> Float {
        guard maxNorm > 0, maxNorm.isFinite else {
            throw RNNError("gradient clipping: maxNorm must be finite and > 0, got \(maxNorm)")
        }
        let norm = globalNorm(of: store)
        guard norm.isFinite, norm > maxNorm else { return norm }
        let scale = Float(Double(maxNorm) / (Double(norm) + 1e-6))
        let gradients = store.allGradients.baseAddress!
        for parameter in store.parameters where !store.isFrozen(parameter) {
            let g = gradients + parameter.offset
            for i in 0..<parameter.count { g[i] *= scale }
        }
        return norm
    }

    /// Clamps every trainable gradient into [−limit, limit] (PyTorch's `clip_grad_value_`,
    /// char-rnn's ±5). NaN gradients stay NaN.
    public static func clipByValue(_ store: ParameterStore, limit: Float) throws {
        guard limit > 0, limit.isFinite else {
            throw RNNError("gradient clipping: limit must be finite and > 0, got \(limit)")
        }
        let gradients = store.allGradients.baseAddress!
        for parameter in store.parameters where !store.isFrozen(parameter) {
            let g = gradients + parameter.offset
            for i in 0..<parameter.count {
                let value = g[i]
                g[i] = value > limit ? limit : (value < -limit ? -limit : value)
            }
        }
    }

    /// Σ xᵢ² in Double, in four independent accumulators so the loop vectorizes.
    static func sumOfSquaresOf(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var s0: Double = 0, s1: Double = 0, s2: Double = 0, s3: Double = 0
        var i = 0
        while i + 4 <= count {
            let a = Double(x[i]), b = Double(x[i + 1]), c = Double(x[i + 2]), d = Double(x[i + 3])
            s0 += a * a
            s1 += b * b
            s2 += c * c
            s3 += d * d
            i += 4
        }
        while i < count {
            let a = Double(x[i])
            s0 += a * a
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }
}
