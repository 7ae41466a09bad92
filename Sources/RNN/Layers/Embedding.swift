import RNNCore

/// A lookup table: token id → a learned vector (PyTorch `nn.Embedding`, Keras `Embedding`).
///
///     y[t, b, :] = E[token[t, b], :]            E: (V, D), saved as `<name>weight`
///     ∂L/∂E[v, :] += Σ_{t,b: token = v} ∂L/∂y[t, b, :]     (none for the padding index)
///
/// The padding row starts at zero and never receives gradient. A frozen embedding (e.g. GloVe
/// vectors kept fixed) computes no gradient at all.
public final class Embedding {
    public let vocabularySize: Int
    public let dimension: Int
    public let paddingIndex: Int?
    public let weight: Parameter
    private let store: ParameterStore
    private var tokens: [Int32] = []
    private var shape: [Int] = []

    /// - initializer: PyTorch's default is standard normal; Keras' is uniform ±0.05.
    public init(vocabularySize: Int, dimension: Int, paddingIndex: Int? = nil, name: String = "embedding.",
                initializer: Initializer = .normal(std: 1), store: ParameterStore,
                generator: inout SeededGenerator) throws {
        guard vocabularySize > 0, dimension > 0 else {
            throw RNNError("embedding: vocabulary size and dimension must be positive, got \(vocabularySize) × \(dimension)")
        }
        if let paddingIndex, !(0..<vocabularySize).contains(paddingIndex) {
            throw RNNError("embedding: padding index \(paddingIndex) outside the vocabulary 0..<\(vocabularySize)")
        }
        self.vocabularySize = vocabularySize
        self.dimension = dimension
        self.paddingIndex = paddingIndex
        self.store = store
        weight = store.add(name + "weight", shape: [vocabularySize, dimension], initializer: initializer, generator: &generator)
        store.setRowSparse(weight)
        if let paddingIndex { (store.values(of: weight) + paddingIndex * dimension).update(repeating: 0, count: dimension) }
    }

    /// Whether the table is excluded from training.
    public var isFrozen: Bool {
        get { store.isFrozen(weight) }
        set { store.setFrozen(weight, newValue) }
    }

    /// Looks up `tokens`, laid out with `shape` (e.g. (T, B)); returns shape + [D].
    public func forward(tokens: [Int32], shape: [Int]) throws -> Tensor {
        try record(tokens: tokens, shape: shape)
        return gather(tokens, shape: shape)
    }

    /// Checks the ids and keeps them for `backward`, as `forward` does, without looking them up
    /// (when an `EmbeddingFold` looks up the projected rows instead).
    func record(tokens: [Int32], shape: [Int]) throws {
        guard shape.reduce(1, *) == tokens.count else {
            throw RNNError("embedding: \(tokens.count) token ids do not fill shape \(shapeString(shape))")
        }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw RNNError("embedding: token id \(bad) outside the vocabulary 0..<\(vocabularySize) (tokenizer and model do not match?)")
        }
        self.tokens = tokens
        self.shape = shape
    }

    /// The vectors of `tokens` (ids already checked), shape + [D].
    func gather(_ tokens: [Int32], shape: [Int]) -> Tensor {
        var output = Tensor(shape: shape + [dimension])
        let table = store.readOnlyValues(of: weight), D = dimension
        output.withUnsafeMutableBufferPointer { target in
            for (position, token) in tokens.enumerated() {
                (target.baseAddress! + position * D).update(from: table + Int(token) * D, count: D)
            }
        }
        return output
    }

    /// Scatter-adds ∂L/∂y into the table's gradient.
    public func backward(outputGradient: Tensor) throws {
        guard outputGradient.shape == shape + [dimension] else {
            throw RNNError.shapeMismatch("embedding output gradient", expected: shapeString(shape + [dimension]), actual: outputGradient.shape)
        }
        if isFrozen { return }
        let gradient = store.gradients(of: weight), D = dimension
        let padding = paddingIndex.map(Int32.init) ?? -1
        outputGradient.withUnsafeBufferPointer { source in
            for (position, token) in tokens.enumerated() where token != padding {
                let target = gradient + Int(token) * D, row = source.baseAddress! + position * D
                for j in 0..<D { target[j] += row[j] }
            }
        }
    }

    /// Replaces rows with given vectors (e.g. GloVe): `vectors[v]` for each id v present.
    public func setVectors(_ vectors: [Int: [Float]]) throws {
        let table = store.values(of: weight)
        for (id, vector) in vectors {
            guard (0..<vocabularySize).contains(id), vector.count == dimension else {
                throw RNNError("embedding: vector for id \(id) has \(vector.count) values, expected \(dimension)")
            }
            (table + id * dimension).update(from: vector, count: dimension)
        }
    }
}
