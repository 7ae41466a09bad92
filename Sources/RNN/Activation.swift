import Foundation

/// An elementwise activation that knows its own derivative, written in terms of its output
/// y = f(x) so backward needs only what forward saved.
public enum Activation: String, Codable, Sendable, CaseIterable {
    case tanh, relu, linear, sigmoid

    @inline(__always)
    public func apply(_ x: Float) -> Float {
        switch self {
        case .tanh: Foundation.tanh(x)
        case .relu: max(x, 0)
        case .linear: x
        case .sigmoid: logistic(x)
        }
    }

    /// f'(x) expressed through y = f(x).
    @inline(__always)
    public func derivative(output y: Float) -> Float {
        switch self {
        case .tanh: 1 - y * y
        case .relu: y > 0 ? 1 : 0
        case .linear: 1
        case .sigmoid: y * (1 - y)
        }
    }
}

/// σ(x) = 1 / (1 + e^(−x)), evaluated without overflow for large |x|.
@inline(__always)
public func logistic(_ x: Float) -> Float {
    if x >= 0 {
        return 1 / (1 + Foundation.exp(-x))
    }
    let e = Foundation.exp(x)
    return e / (1 + e)
}
