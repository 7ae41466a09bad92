import RNNCore

/// A fully connected layer (PyTorch `nn.Linear`, Keras `Dense` without activation):
///
///     y = x Wᵀ + b          x: (N, in), W: (out, in) `<name>weight`, b: (out) `<name>bias`
///     ∂L/∂W += (∂L/∂y)ᵀ x,  ∂L/∂b += Σ_n ∂L/∂y,  ∂L/∂x = (∂L/∂y) W
///
/// Inputs of any rank are treated as (N, in) with N the product of the leading dimensions.
///
/// Threads: with a BLAS budget of two threads and a large product (a language model's output
/// layer), each product runs as two single-threaded BLAS calls on two threads of our own —
/// halves of the rows of y and ∂L/∂x, halves of the rows of ∂L/∂W — as the recurrent layer's
/// all-steps products do. A threaded OpenBLAS call would leave its worker thread spinning
/// (sched_yield) beside the recurrent layer's two threads afterwards (BENCHMARKS.md, Round 4).
public final class Dense {
    public let inputSize: Int
    public let outputSize: Int
    public let weight: Parameter
    public let bias: Parameter?
    private let store: ParameterStore
    /// The last forward's input, kept for backward (the tensor itself: no copy).
    private var input = Tensor(shape: [0])
    private var inputShape: [Int] = []

    /// - weightInitializer: PyTorch's default is uniform ±1/√in for weight and bias
    ///   (pass `.glorotUniform` and `biasInitializer: .zeros` for Keras').
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, name: String = "fc.",
                weightInitializer: Initializer? = nil, biasInitializer: Initializer? = nil,
                store: ParameterStore, generator: inout SeededGenerator) throws {
        guard inputSize > 0, outputSize > 0 else {
            throw RNNError("dense: sizes must be positive, got \(inputSize) → \(outputSize)")
        }
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.store = store
        let bound = 1 / Float(inputSize).squareRoot()
        weight = store.add(name + "weight", shape: [outputSize, inputSize],
                           initializer: weightInitializer ?? .uniform(bound: bound), generator: &generator)
        self.bias = bias ? store.add(name + "bias", shape: [outputSize],
                                     initializer: biasInitializer ?? .uniform(bound: bound), generator: &generator) : nil
    }

    public var parameterCount: Int { outputSize * inputSize + (bias == nil ? 0 : outputSize) }

    /// x: (..., in) → (..., out)
    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape.last == inputSize else {
            throw RNNError.shapeMismatch("dense", expected: "(..., \(inputSize))", actual: x.shape)
        }
        inputShape = x.shape
        input = x
        let rows = x.count / inputSize
        let outputSize = self.outputSize, inputSize = self.inputSize
        let bias = self.bias.map { store.readOnlyValues(of: $0) }, weight = store.readOnlyValues(of: self.weight)
        let parts = Dense.parts(rows, work: rows * outputSize * inputSize)
        let outputShape = Array(x.shape.dropLast()) + [outputSize]
        return x.withUnsafeBufferPointer { xBuffer in
            let x = xBuffer.baseAddress!
            return Tensor(shape: outputShape) { y in
                Dense.onParts(parts) { part in
                    let first = part.lowerBound, y = y + first * outputSize
                    // Every row starts as the bias (or zeros: BLAS then adds, never reads garbage).
                    if let bias {
                        for row in 0..<part.count { (y + row * outputSize).initialize(from: bias, count: outputSize) }
                    } else {
                        y.initialize(repeating: 0, count: part.count * outputSize)
                    }
                    BLAS.gemm(transposeA: false, transposeB: true, m: part.count, n: outputSize, k: inputSize,
                              a: x + first * inputSize, lda: inputSize, b: weight, ldb: inputSize,
                              beta: 1, c: y, ldc: outputSize)
                }
            }
        }
    }

    /// 0 ..< count in two halves when the BLAS budget is two or more threads and the product has
    /// at least 2²² multiply-adds (smaller ones are not worth a thread hand-off); else one part.
    private static func parts(_ count: Int, work: Int) -> [Range<Int>] {
        guard BLAS.threads >= 2, work >= 1 << 22, count >= 32 else { return [0..<count] }
        return splitRange(count, parts: 2, multiple: 16)
    }

    /// Runs `body` on each part, on two threads with a single-threaded BLAS when there are two.
    private static func onParts(_ parts: [Range<Int>], _ body: (Range<Int>) -> Void) {
        guard parts.count > 1 else {
            for part in parts { body(part) }
            return
        }
        let threads = BLAS.threads
        BLAS.setThreads(1)
        defer { BLAS.setThreads(threads) }
        forEachPart(parts, body)
    }

    /// Accumulates parameter gradients; returns ∂L/∂x.
    public func backward(outputGradient: Tensor) throws -> Tensor {
        let expected = Array(inputShape.dropLast()) + [outputSize]
        guard outputGradient.shape == expected else {
            throw RNNError.shapeMismatch("dense output gradient", expected: shapeString(expected), actual: outputGradient.shape)
        }
        let rows = outputGradient.count / outputSize
        let outputSize = self.outputSize, inputSize = self.inputSize
        let work = rows * outputSize * inputSize
        let weightGradient = store.isFrozen(weight) ? nil : store.gradients(of: weight)
        let biasGradient = bias.flatMap { store.isFrozen($0) ? nil : store.gradients(of: $0) }
        let weight = store.readOnlyValues(of: self.weight)
        return outputGradient.withUnsafeBufferPointer { dyBuffer in
            let dy = dyBuffer.baseAddress!
            // ∂L/∂W += dyᵀ x and ∂L/∂b += Σ dy: per thread, its half of the output units.
            input.withUnsafeBufferPointer { xBuffer in
                let x = xBuffer.baseAddress!
                Dense.onParts(Dense.parts(outputSize, work: work)) { units in
                    let first = units.lowerBound
                    if let weightGradient {
                        BLAS.gemm(transposeA: true, transposeB: false, m: units.count, n: inputSize, k: rows,
                                  a: dy + first, lda: outputSize, b: x, ldb: inputSize,
                                  beta: 1, c: weightGradient + first * inputSize, ldc: inputSize)
                    }
                    if let biasGradient {
                        addColumnSums(dy + first, rows: rows, columns: units.count, stride: outputSize, into: biasGradient + first)
                    }
                }
            }
            // ∂L/∂x = dy W: per thread, its half of the rows.
            var inputGradient = Tensor(shape: inputShape)
            inputGradient.withUnsafeMutableBufferPointer { dxBuffer in
                let dx = dxBuffer.baseAddress!
                Dense.onParts(Dense.parts(rows, work: work)) { part in
                    BLAS.gemm(transposeA: false, transposeB: false, m: part.count, n: inputSize, k: outputSize,
                              a: dy + part.lowerBound * outputSize, lda: outputSize, b: weight, ldb: inputSize,
                              beta: 0, c: dx + part.lowerBound * inputSize, ldc: inputSize)
                }
            }
            return inputGradient
        }
    }
}
