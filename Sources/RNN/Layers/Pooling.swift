import RNNCore

/// How a classifier turns a sequence of hidden states into one vector.
public enum PoolingMode: String, Codable, Sendable, CaseIterable {
    /// The hidden state at each sequence's last valid step ("architecture 1" of the notes).
    case last
    /// The average of the hidden states over valid steps ("architecture 2").
    case mean
    /// The elementwise maximum over valid steps.
    case max
    /// [mean; max] concatenated along features: (B, 2F).
    case meanMax = "mean-max"

    /// Width of the pooled vector for states of `features` features.
    public func outputSize(features: Int) -> Int { self == .meanMax ? 2 * features : features }
}

/// Pools (T, B, F) time-major states over time into (B, F), honouring sequence lengths.
///
///     last: y_b = h_{len_b − 1, b}        mean: y_b = (1/len_b) Σ_{t<len_b} h_{t,b}
///     max:  y_b,f = max_{t<len_b} h_{t,b,f} (gradient to the arg max)
///     mean-max: y_b = [mean_b ; max_b] (B, 2F); ∂L/∂x = the mean part's gradient + the max part's
///
/// For a bidirectional layer with concatenated directions, `last` must take the forward half at
/// the last step but the backward half at step 0 (where the reverse direction finishes): pass
/// `reverseFeaturesFrom = H` and features f ≥ H are read at t = 0. That equals [h_n→ ; h_n←].
public final class TimePooling {
    public let mode: PoolingMode
    public let reverseFeaturesFrom: Int?
    private var shape: [Int] = []
    private var lengths: [Int] = []
    private var argmax: [Int32] = []
    /// The two halves of `meanMax`.
    private lazy var meanAndMax = (TimePooling(mode: .mean), TimePooling(mode: .max))

    public init(mode: PoolingMode, reverseFeaturesFrom: Int? = nil) {
        self.mode = mode
        self.reverseFeaturesFrom = reverseFeaturesFrom
    }

    public func forward(_ x: Tensor, lengths: [Int]?) throws -> Tensor {
        guard x.rank == 3, x.shape[0] > 0 else {
            throw RNNError.shapeMismatch("time pooling", expected: "(T, B, F)", actual: x.shape)
        }
        let T = x.shape[0], B = x.shape[1], F = x.shape[2]
        let lengths = lengths ?? [Int](repeating: T, count: B)
        guard lengths.count == B, lengths.allSatisfy({ (1...T).contains($0) }) else {
            throw RNNError("time pooling: lengths must be \(B) values in 1…\(T)")
        }
        shape = x.shape
        self.lengths = lengths
        if mode == .meanMax { return try concatenateMeanAndMax(x, lengths: lengths) }
        var y = Tensor(shape: [B, F])
        let split = reverseFeaturesFrom ?? F
        x.withUnsafeBufferPointer { source in
            y.withUnsafeMutableBufferPointer { target in
                switch mode {
                case .last:
                    for b in 0..<B {
                        for f in 0..<F {
                            let t = f < split ? lengths[b] - 1 : 0
                            target[b * F + f] = source[(t * B + b) * F + f]
                        }
                    }
                case .mean:
                    for b in 0..<B {
                        for t in 0..<lengths[b] {
                            for f in 0..<F { target[b * F + f] += source[(t * B + b) * F + f] }
                        }
                        let scale = 1 / Float(lengths[b])
                        for f in 0..<F { target[b * F + f] *= scale }
                    }
                case .max:
                    if argmax.count != B * F { argmax = [Int32](repeating: 0, count: B * F) }
                    for b in 0..<B {
                        for f in 0..<F {
                            var best = source[b * F + f], bestT = 0
                            for t in 1..<max(lengths[b], 1) where source[(t * B + b) * F + f] > best {
                                best = source[(t * B + b) * F + f]
                                bestT = t
                            }
                            target[b * F + f] = best
                            argmax[b * F + f] = Int32(bestT)
                        }
                    }
                case .meanMax:
                    break  // handled above
                }
            }
        }
        return y
    }

    /// ∂L/∂x, (T, B, F), from ∂L/∂y, (B, F).
    public func backward(outputGradient: Tensor) throws -> Tensor {
        guard shape.count == 3 else { throw RNNError("time pooling: backward called before forward") }
        let T = shape[0], B = shape[1], F = shape[2]
        if mode == .meanMax { return try splitMeanAndMaxGradient(outputGradient) }
        guard outputGradient.shape == [B, F] else {
            throw RNNError.shapeMismatch("time pooling output gradient", expected: shapeString([B, F]), actual: outputGradient.shape)
        }
        var dx = Tensor(shape: [T, B, F])
        let split = reverseFeaturesFrom ?? F
        outputGradient.withUnsafeBufferPointer { dy in
            dx.withUnsafeMutableBufferPointer { target in
                for b in 0..<B {
                    for f in 0..<F {
                        let g = dy[b * F + f]
                        switch mode {
                        case .last:
                            let t = f < split ? lengths[b] - 1 : 0
                            target[(t * B + b) * F + f] += g
                        case .mean:
                            let share = g / Float(lengths[b])
                            for t in 0..<lengths[b] { target[(t * B + b) * F + f] += share }
                        case .max:
                            target[(Int(argmax[b * F + f]) * B + b) * F + f] += g
                        case .meanMax:
                            break  // handled above
                        }
                    }
                }
            }
        }
        return dx
    }

    /// y = [mean; max], (B, 2F).
    private func concatenateMeanAndMax(_ x: Tensor, lengths: [Int]) throws -> Tensor {
        let B = x.shape[1], F = x.shape[2]
        let mean = try meanAndMax.0.forward(x, lengths: lengths), max = try meanAndMax.1.forward(x, lengths: lengths)
        var y = Tensor(shape: [B, 2 * F])
        y.withUnsafeMutableBufferPointer { target in
            mean.withUnsafeBufferPointer { a in
                max.withUnsafeBufferPointer { m in
                    for b in 0..<B {
                        (target.baseAddress! + b * 2 * F).update(from: a.baseAddress! + b * F, count: F)
                        (target.baseAddress! + b * 2 * F + F).update(from: m.baseAddress! + b * F, count: F)
                    }
                }
            }
        }
        return y
    }

    /// ∂L/∂x from ∂L/∂[mean; max] (B, 2F): the sum of both halves' gradients.
    private func splitMeanAndMaxGradient(_ outputGradient: Tensor) throws -> Tensor {
        let B = shape[1], F = shape[2]
        guard outputGradient.shape == [B, 2 * F] else {
            throw RNNError.shapeMismatch("time pooling output gradient", expected: shapeString([B, 2 * F]), actual: outputGradient.shape)
        }
        var meanGradient = Tensor(shape: [B, F]), maxGradient = Tensor(shape: [B, F])
        for b in 0..<B {
            for f in 0..<F {
                meanGradient.scalars[b * F + f] = outputGradient.scalars[b * 2 * F + f]
                maxGradient.scalars[b * F + f] = outputGradient.scalars[b * 2 * F + F + f]
            }
        }
        var dx = try meanAndMax.0.backward(outputGradient: meanGradient)
        let fromMax = try meanAndMax.1.backward(outputGradient: maxGradient)
        dx.withUnsafeMutableBufferPointer { total in
            fromMax.withUnsafeBufferPointer { add in for i in 0..<add.count { total[i] += add[i] } }
        }
        return dx
    }
}
