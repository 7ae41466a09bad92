import RNNCore

/// A fully connected layer (PyTorch `nn.Linear`, Keras `Dense` without activation):
///
///     y = x Wᵀ + b          x: (N, in), W: (out, in) `<name>weight`, b: (out) `<name>bias`
///     ∂L/∂W += (∂L/∂y)ᵀ x,  ∂L/∂b += Σ_n ∂L/∂y,  ∂L/∂x = (∂L/∂y) W
///
/// Inputs of any rank are treated as (N, in) with N the product of the leading dimensions.
public final class Dense {
    public let inputSize: Int
    public let outputSize: Int
    public let weight: Parameter
    public let bias: Parameter?
    private let store: ParameterStore
    private let input = FloatBuffer()
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
        input.load(x)
        let rows = x.count / inputSize
        var output = Tensor(shape: Array(x.shape.dropLast()) + [outputSize])
        output.withUnsafeMutableBufferPointer { target in
            let y = target.baseAddress!
            if let bias {
                let b = store.values(of: bias)
                for row in 0..<rows { (y + row * outputSize).update(from: b, count: outputSize) }
            }
            BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: outputSize, k: inputSize,
                      a: input.pointer, lda: inputSize, b: store.values(of: weight), ldb: inputSize,
                      beta: bias == nil ? 0 : 1, c: y, ldc: outputSize)
        }
        return output
    }

    /// Accumulates parameter gradients; returns ∂L/∂x.
    public func backward(outputGradient: Tensor) throws -> Tensor {
        let expected = Array(inputShape.dropLast()) + [outputSize]
        guard outputGradient.shape == expected else {
            throw RNNError.shapeMismatch("dense output gradient", expected: shapeString(expected), actual: outputGradient.shape)
        }
        let rows = outputGradient.count / outputSize
        var inputGradient = Tensor(shape: inputShape)
        outputGradient.withUnsafeBufferPointer { dyBuffer in
            let dy = dyBuffer.baseAddress!
            if !store.isFrozen(weight) {
                BLAS.gemm(transposeA: true, transposeB: false, m: outputSize, n: inputSize, k: rows,
                          a: dy, lda: outputSize, b: input.pointer, ldb: inputSize,
                          beta: 1, c: store.gradients(of: weight), ldc: inputSize)
            }
            if let bias, !store.isFrozen(bias) {
                addColumnSums(dy, rows: rows, columns: outputSize, into: store.gradients(of: bias))
            }
            inputGradient.withUnsafeMutableBufferPointer { dx in
                BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: inputSize, k: outputSize,
                          a: dy, lda: outputSize, b: store.values(of: weight), ldb: inputSize,
                          beta: 0, c: dx.baseAddress!, ldc: inputSize)
            }
        }
        return inputGradient
    }
}
