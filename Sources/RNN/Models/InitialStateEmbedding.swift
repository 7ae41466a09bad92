import RNNCore

/// A learned initial recurrent state per label: how a label conditions generation through the
/// initial state (one-to-many, as an image conditions a caption).
///
///     h₀[l, b, :] = C_h[y_b, l·H ..< (l+1)·H]      C_h: (K, L·D·H), saved as `<name>hidden.weight`
///     c₀[l, b, :] = C_c[y_b, l·H ..< (l+1)·H]      C_c: (K, L·D·H), `<name>cell.weight` (LSTM only)
///
/// for labels y (B values in 0..<K) and every layer-and-direction slot l of the (L·D, B, H) state.
/// The backward pass scatter-adds ∂L/∂h₀ (and ∂L/∂c₀), as `Recurrent.backward` returns them in
/// `initialState`, into the rows of the labels used.
public final class InitialStateEmbedding {
    public let labelCount: Int
    /// L·D: layers times directions.
    public let slots: Int
    public let hiddenSize: Int
    public let hidden: Parameter
    public let cell: Parameter?
    private let store: ParameterStore
    private var labels: [Int] = []

    public init(labelCount: Int, slots: Int, hiddenSize: Int, hasCell: Bool, name: String = "condition.",
                store: ParameterStore, generator: inout SeededGenerator) throws {
        guard labelCount >= 1, slots >= 1, hiddenSize >= 1 else {
            throw RNNError("initial-state embedding: label count, slots and hidden size must be positive, got \(labelCount), \(slots), \(hiddenSize)")
        }
        self.labelCount = labelCount
        self.slots = slots
        self.hiddenSize = hiddenSize
        self.store = store
        hidden = store.add(name + "hidden.weight", shape: [labelCount, slots * hiddenSize],
                           initializer: .uniform(bound: 0.1), generator: &generator)
        cell = hasCell ? store.add(name + "cell.weight", shape: [labelCount, slots * hiddenSize],
                                   initializer: .uniform(bound: 0.1), generator: &generator) : nil
    }

    /// The (L·D, B, H) initial state for labels (B).
    public func forward(labels: [Int]) throws -> RecurrentState {
        if let bad = labels.first(where: { !(0..<labelCount).contains($0) }) {
            throw RNNError("initial-state embedding: label \(bad) outside 0..<\(labelCount)")
        }
        self.labels = labels
        func gather(_ parameter: Parameter) -> Tensor {
            let B = labels.count, H = hiddenSize, table = store.values(of: parameter)
            var state = Tensor(shape: [slots, B, H])
            state.withUnsafeMutableBufferPointer { target in
                for slot in 0..<slots {
                    for (row, label) in labels.enumerated() {
                        (target.baseAddress! + (slot * B + row) * H).update(from: table + label * slots * H + slot * H, count: H)
                    }
                }
            }
            return state
        }
        return RecurrentState(hidden: gather(hidden), cell: cell.map(gather))
    }

    /// Accumulates ∂L/∂C from ∂L/∂(initial state) of the last forward.
    public func backward(stateGradient: RecurrentState) throws {
        let B = labels.count, H = hiddenSize
        guard stateGradient.hidden.shape == [slots, B, H] else {
            throw RNNError.shapeMismatch("initial-state gradient", expected: shapeString([slots, B, H]), actual: stateGradient.hidden.shape)
        }
        func scatter(_ gradient: Tensor, into parameter: Parameter) {
            let table = store.gradients(of: parameter)
            gradient.withUnsafeBufferPointer { source in
                for slot in 0..<slots {
                    for (row, label) in labels.enumerated() {
                        let target = table + label * slots * H + slot * H, from = source.baseAddress! + (slot * B + row) * H
                        for j in 0..<H { target[j] += from[j] }
                    }
                }
            }
        }
        scatter(stateGradient.hidden, into: hidden)
        if let cell, let cellGradient = stateGradient.cell { scatter(cellGradient, into: cell) }
    }

    /// Row `label` as a per-history state, (L·D·H) layer-major: what a one-row stepper starts from.
    public func rows(label: Int) -> (hidden: [Float], cell: [Float]?) {
        let width = slots * hiddenSize
        func row(_ parameter: Parameter) -> [Float] {
            Array(UnsafeBufferPointer(start: store.values(of: parameter) + label * width, count: width))
        }
        return (row(hidden), cell.map(row))
    }
}
