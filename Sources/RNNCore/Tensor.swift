/// A dense, row-major Float32 tensor: a shape and its scalars.
///
/// A value type (copy-on-write through its array), so it is `Sendable` and safe to hand
/// between threads. Layers keep their hot buffers as `FloatBuffer`s and use `Tensor` at
/// their boundaries.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    public private(set) var shape: [Int]
    public var scalars: [Float]

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shapeString(shape))")
        self.shape = shape
        self.scalars = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor of `shape` holding `scalars` (row-major). Fails if the counts disagree.
    public init(shape: [Int], scalars: [Float]) throws {
        let count = shape.reduce(1, *)
        guard shape.allSatisfy({ $0 >= 0 }), count == scalars.count else {
            throw RNNError("tensor of shape \(shapeString(shape)) needs \(count) values, got \(scalars.count)")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` copied from `count` scalars at `pointer`.
    public init(shape: [Int], copying pointer: UnsafePointer<Float>) {
        self.shape = shape
        self.scalars = Array(UnsafeBufferPointer(start: pointer, count: shape.reduce(1, *)))
    }

    /// A tensor of `shape` whose every scalar `body` writes (no zero fill first: for outputs a
    /// layer overwrites anyway). `body` must initialize all `count` scalars at the pointer.
    public init(shape: [Int], writingEveryScalar body: (UnsafeMutablePointer<Float>) -> Void) {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress { body(base) }
            initialized = count
        }
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape) }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// The same scalars seen with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        try Tensor(shape: newShape, scalars: scalars)
    }

    /// Swaps the first two axes: (A, B, rest...) → (B, A, rest...). Converts between
    /// batch-first (B, T, F) and the time-major (T, B, F) layout the recurrent layers use.
    public func swappingFirstAxes() -> Tensor {
        precondition(rank >= 2, "swappingFirstAxes needs rank >= 2, got \(shapeString(shape))")
        let a = shape[0], b = shape[1]
        let inner = shape.dropFirst(2).reduce(1, *)
        var out = [Float](repeating: 0, count: count)
        scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<a {
                    for j in 0..<b {
                        let from = (i * b + j) * inner, to = (j * a + i) * inner
                        for k in 0..<inner { dst[to + k] = src[from + k] }
                    }
                }
            }
        }
        var result = self
        result.shape = [b, a] + shape.dropFirst(2)
        result.scalars = out
        return result
    }

    /// Largest absolute value (0 for an empty tensor).
    public var maxAbs: Float { scalars.reduce(0) { max($0, abs($1)) } }

    public var description: String {
        let head = scalars.prefix(8).map { String(format6($0)) }.joined(separator: ", ")
        return "Tensor\(shapeString(shape)) [\(head)\(count > 8 ? ", ..." : "")]"
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }
}

private func format6(_ x: Float) -> String {
    let rounded = (Double(x) * 1e6).rounded() / 1e6
    return "\(rounded)"
}
