import RNNCore
import Synchronization

/// A handle to one named parameter inside a `ParameterStore`: its PyTorch name
/// (e.g. `rnn.weight_ih_l0_reverse`), its shape, and where it lives in the store's buffers.
public struct Parameter: Sendable, Hashable {
    public let name: String
    public let shape: [Int]
    /// Offset of the first scalar in the store's value and gradient buffers.
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
}

/// Owns every parameter of one model and its gradient, each in ONE contiguous buffer, in
/// registration order. One buffer means one all-reduce for data-parallel training, one
/// vectorized pass for an optimizer, and one copy to snapshot the best weights.
///
/// Layers register their parameters while the model is built (`add`), then read them through
/// `values(of:)` / `gradients(of:)` pointers. Registration may move the buffers, so layers fetch
/// pointers at call time and never keep them. Backward *adds* into gradients; `zeroGradients()`
/// is the explicit reset. Frozen parameters keep a gradient slot but layers skip filling it and
/// optimizers skip updating it.
///
/// `valuesVersion` changes whenever the values may have changed: every call that hands out a
/// writable pointer to them (`values(of:)`, `allValues` — so every optimizer step), `add`,
/// `setValues`, `load` and `restore`. Readers that must not count as writers (forward passes)
/// use `readOnlyValues(of:)`. Caches derived from the weights (the folded embedding tables of
/// `EmbeddingFold`) are keyed by it.
public final class ParameterStore: @unchecked Sendable {
    public private(set) var parameters: [Parameter] = []
    private var frozenNames: Set<String> = []
    private var rowSparseNames: Set<String> = []
    private var index: [String: Int] = [:]
    private var valueBuffer = FloatBuffer()
    private var gradientBuffer = FloatBuffer()
    /// Total number of scalars.
    public private(set) var scalarCount = 0
    private let versionCounter = Atomic<Int>(0)
    private let loadedVersion = Atomic<Int>(-1)

    /// Changes whenever the values may have changed (see the type's documentation).
    public var valuesVersion: Int { versionCounter.load(ordering: .acquiring) }

    /// Marks the values as (possibly) changed.
    public func markValuesChanged() { versionCounter.wrappingAdd(1, ordering: .acquiringAndReleasing) }

    /// Whether the values are still exactly those last read by `load(from:)` (a model loaded for
    /// evaluation or serving, not changed since): derived inference caches pay from the first call.
    public var holdsLoadedValues: Bool { loadedVersion.load(ordering: .acquiring) == valuesVersion }

    public init() {}

    /// Registers a parameter, filled by `initializer` (rows = shape[0], columns = the rest).
    @discardableResult
    public func add(_ name: String, shape: [Int], initializer: Initializer,
                    generator: inout SeededGenerator) -> Parameter {
        precondition(index[name] == nil, "parameter \(name) registered twice")
        let parameter = Parameter(name: name, shape: shape, offset: scalarCount)
        let newCount = scalarCount + parameter.count
        if newCount > valueBuffer.capacity {
            let capacity = max(newCount, valueBuffer.capacity * 2)
            let newValues = FloatBuffer(capacity: capacity), newGradients = FloatBuffer(capacity: capacity)
            newValues.pointer.update(from: valueBuffer.pointer, count: scalarCount)
            newGradients.pointer.update(from: gradientBuffer.pointer, count: scalarCount)
            valueBuffer = newValues
            gradientBuffer = newGradients
        }
        let rows = shape.first ?? 1
        initializer.fill(valueBuffer.pointer + parameter.offset, rows: rows,
                         columns: parameter.count / max(rows, 1), using: &generator)
        (gradientBuffer.pointer + parameter.offset).update(repeating: 0, count: parameter.count)
        index[name] = parameters.count
        parameters.append(parameter)
        scalarCount = newCount
        markValuesChanged()
        return parameter
    }

    /// A writable pointer to one parameter's values; counts as a change (`valuesVersion`).
    public func values(of parameter: Parameter) -> UnsafeMutablePointer<Float> {
        markValuesChanged()
        return valueBuffer.pointer + parameter.offset
    }

    /// One parameter's values for reading only (does not change `valuesVersion`).
    public func readOnlyValues(of parameter: Parameter) -> UnsafePointer<Float> {
        UnsafePointer(valueBuffer.pointer + parameter.offset)
    }

    public func gradients(of parameter: Parameter) -> UnsafeMutablePointer<Float> {
        gradientBuffer.pointer + parameter.offset
    }

    /// All values, contiguous, in registration order; writable, so counts as a change
    /// (`valuesVersion`): every optimizer step takes it.
    public var allValues: UnsafeMutableBufferPointer<Float> {
        markValuesChanged()
        return UnsafeMutableBufferPointer(start: valueBuffer.pointer, count: scalarCount)
    }

    /// All gradients, contiguous, aligned with `allValues`.
    public var allGradients: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: gradientBuffer.pointer, count: scalarCount)
    }

    public func zeroGradients() {
        gradientBuffer.pointer.update(repeating: 0, count: scalarCount)
    }

    public func parameter(named name: String) -> Parameter? {
        index[name].map { parameters[$0] }
    }

    // MARK: Row-sparse gradients

    /// Marks (or unmarks) a (rows, columns) table whose gradient a batch fills only in the rows
    /// it looks up (an embedding; not one tied to an output layer, whose gradient is dense):
    /// distributed steps over MPI's all-reduce send only the rows some rank's gradient touched
    /// (Trainer+TouchedRows.swift).
    public func setRowSparse(_ parameter: Parameter, _ sparse: Bool = true) {
        if sparse { rowSparseNames.insert(parameter.name) } else { rowSparseNames.remove(parameter.name) }
    }

    public func isRowSparse(_ parameter: Parameter) -> Bool { rowSparseNames.contains(parameter.name) }

    // MARK: Freezing

    public func setFrozen(_ parameter: Parameter, _ frozen: Bool) {
        if frozen { frozenNames.insert(parameter.name) } else { frozenNames.remove(parameter.name) }
    }

    public func isFrozen(_ parameter: Parameter) -> Bool { frozenNames.contains(parameter.name) }

    /// Number of trainable scalars (frozen parameters excluded).
    public var trainableScalarCount: Int {
        parameters.filter { !frozenNames.contains($0.name) }.reduce(0) { $0 + $1.count }
    }

    // MARK: Tensors in and out

    /// A copy of one parameter's values.
    public func tensor(_ parameter: Parameter) -> Tensor {
        Tensor(shape: parameter.shape, copying: readOnlyValues(of: parameter))
    }

    /// A copy of one parameter's gradient.
    public func gradientTensor(_ parameter: Parameter) -> Tensor {
        Tensor(shape: parameter.shape, copying: gradients(of: parameter))
    }

    /// Sets one parameter's values; the shape must match exactly.
    public func setValues(_ parameter: Parameter, from tensor: Tensor) throws {
        guard tensor.shape == parameter.shape else {
            throw RNNError.shapeMismatch(parameter.name, expected: shapeString(parameter.shape), actual: tensor.shape)
        }
        tensor.withUnsafeBufferPointer { source in
            values(of: parameter).update(from: source.baseAddress!, count: parameter.count)
        }
    }

    /// Every parameter as (name, tensor), in registration order: what a safetensors file holds.
    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        parameters.map { ($0.name, tensor($0)) }
    }

    /// Loads every parameter from a safetensors file by name. Names, shapes and finiteness are
    /// checked; the error says exactly what does not match.
    public func load(from file: SafeTensors) throws {
        let expected = Set(parameters.map(\.name))
        let present = Set(file.names)
        let missing = expected.subtracting(present).sorted()
        let unexpected = present.subtracting(expected).sorted()
        if !missing.isEmpty || !unexpected.isEmpty {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(missing.prefix(6).joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected \(unexpected.prefix(6).joined(separator: ", "))") }
            throw RNNError.invalidFile(file.source, "parameters do not match the model: " + parts.joined(separator: "; "))
        }
        for parameter in parameters {
            let tensor = try file.tensor(parameter.name)
            guard tensor.shape == parameter.shape else {
                throw RNNError.invalidFile(file.source, "\(parameter.name) has shape \(shapeString(tensor.shape)), the model expects \(shapeString(parameter.shape))")
            }
            guard tensor.scalars.allSatisfy(\.isFinite) else {
                throw RNNError.invalidFile(file.source, "\(parameter.name) holds NaN or infinite values")
            }
            try setValues(parameter, from: tensor)
        }
        loadedVersion.store(valuesVersion, ordering: .releasing)
    }

    /// Moves the values and gradients to memory the store does not own (`values` and `gradients`,
    /// `scalarCount` floats each, kept alive by `owner`; e.g. segments other processes map, see
    /// `Trainer+SharedMemory.swift`), copying them (the values only when `copyingValues`: another
    /// process may write them there); `relocateToOwnedMemory` moves them back. Pointers taken
    /// before (`allValues`, `gradients(of:)`) are stale after either.
    public func relocate(values: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, owner: AnyObject,
                         copyingValues: Bool = true) {
        if copyingValues { values.update(from: valueBuffer.pointer, count: scalarCount) }
        gradients.update(from: gradientBuffer.pointer, count: scalarCount)
        valueBuffer = FloatBuffer(borrowing: values, capacity: scalarCount, owner: owner)
        gradientBuffer = FloatBuffer(borrowing: gradients, capacity: scalarCount, owner: owner)
        markValuesChanged()
    }

    /// Moves values and gradients back into memory of the store's own, copying them.
    public func relocateToOwnedMemory() {
        let values = FloatBuffer(capacity: scalarCount), gradients = FloatBuffer(capacity: scalarCount)
        values.pointer.update(from: valueBuffer.pointer, count: scalarCount)
        gradients.pointer.update(from: gradientBuffer.pointer, count: scalarCount)
        valueBuffer = values
        gradientBuffer = gradients
        markValuesChanged()
    }

    /// A copy of all values (e.g. the best weights so far).
    public func snapshot() -> [Float] {
        Array(UnsafeBufferPointer(start: valueBuffer.pointer, count: scalarCount))
    }

    /// Restores values from `snapshot()`.
    public func restore(_ snapshot: [Float]) {
        precondition(snapshot.count == scalarCount, "snapshot of \(snapshot.count) values for a store of \(scalarCount)")
        snapshot.withUnsafeBufferPointer { valueBuffer.pointer.update(from: $0.baseAddress!, count: scalarCount) }
        markValuesChanged()
    }
}
