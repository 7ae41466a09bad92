import RNNCore

/// Hidden (and cell) states of every layer and direction: (L·D, B, H), layer-major,
/// direction-minor, as PyTorch's `h_n` / `c_n`.
public struct RecurrentState: Sendable, Equatable {
    public var hidden: Tensor
    /// LSTM only.
    public var cell: Tensor?

    public init(hidden: Tensor, cell: Tensor? = nil) {
        self.hidden = hidden
        self.cell = cell
    }
}

/// What `Recurrent.forward` returns.
public struct RecurrentOutput: Sendable {
    /// Top layer outputs, (T, B, outputSize); zero past each sequence's length.
    public var sequence: Tensor
    /// Final states of every layer and direction (`return_state`).
    public var state: RecurrentState
}

/// What `Recurrent.backward` returns.
public struct RecurrentGradients: Sendable {
    /// ∂L/∂input, (T, B, inputSize).
    public var input: Tensor
    /// ∂L/∂(initial state), shaped like the state.
    public var initialState: RecurrentState
}

/// A recurrent layer as PyTorch's `nn.RNN` / `nn.LSTM` / `nn.GRU`: `layers` stacked layers,
/// each unidirectional or bidirectional, over time-major (T, B, F) batches with optional
/// per-sequence lengths. Parameters are registered in the store under PyTorch's names
/// (`<prefix>weight_ih_l0`, `..._reverse`), in PyTorch's order.
///
/// The time loop and BPTT live in `SequenceRunner`; this type wires runners into stacks and
/// directions, merges directions, applies inter-layer dropout and validates shapes.
public final class Recurrent {
    public let config: RecurrentConfig
    public let name: String
    private let store: ParameterStore
    private var runners: [[any DirectionRunning]] = []   // [layer][direction]
    private var firstInput = Tensor(shape: [0])          // input of layer 0 (kept, not copied)
    private var firstTokens: [Int32] = []                // layer 0's token ids when it looked up its projections
    private var foldedEmbedding: Embedding?              // … and the embedding they index (set until backward)
    private var layerInputs: [FloatBuffer] = []          // input of layer l ≥ 1, (T, B, outputSize): layer l − 1's merged output
    private var dropoutMasks: [FloatBuffer] = []          // scale-or-zero masks for layer l's output
    private var droppedLayers: Set<Int> = []
    private var steps = 0, rows = 0
    private var lengths: [Int32] = []
    private var carriedState: RecurrentState?
    private let zeros = FloatBuffer()
    private let cellScratch = [FloatBuffer(), FloatBuffer()]  // ∂L/∂c_0 of each direction
    private let gradientIn = FloatBuffer(), gradientOut = FloatBuffer()

    /// Builds the layer and registers its parameters in `store` with names prefixed by `name`
    /// (e.g. `"rnn."`; empty for PyTorch's bare `nn.LSTM` names).
    public init(_ config: RecurrentConfig, name: String = "", store: ParameterStore,
                generator: inout SeededGenerator) throws {
        try config.validate()
        self.config = config
        self.name = name
        self.store = store
        let H = config.hiddenSize, G = config.cell.gateCount * H
        for layer in 0..<config.layers {
            var directionRunners: [any DirectionRunning] = []
            for direction in 0..<config.directions {
                let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
                let inputSize = config.layerInputSize(layer)
                let (kernelInit, recurrentInit, biasInit): (Initializer, Initializer, Initializer)
                switch config.initialization {
                case .pytorch:
                    let bound = 1 / Float(H).squareRoot()
                    (kernelInit, recurrentInit, biasInit) = (.uniform(bound: bound), .uniform(bound: bound), .uniform(bound: bound))
                case .keras:
                    (kernelInit, recurrentInit, biasInit) = (.glorotUniform, .orthogonal(gain: 1), .zeros)
                }
                let weightIH = store.add(name + "weight_ih" + suffix, shape: [G, inputSize], initializer: kernelInit, generator: &generator)
                let weightHH = store.add(name + "weight_hh" + suffix, shape: [G, H], initializer: recurrentInit, generator: &generator)
                var biasIH: Parameter?, biasHH: Parameter?
                if config.bias {
                    biasIH = store.add(name + "bias_ih" + suffix, shape: [G], initializer: biasInit, generator: &generator)
                    biasHH = store.add(name + "bias_hh" + suffix, shape: [G], initializer: biasInit, generator: &generator)
                    if let forget = config.forgetBias, let biasIH, let biasHH {
                        (store.values(of: biasIH) + H).update(repeating: forget, count: H)
                        (store.values(of: biasHH) + H).update(repeating: 0, count: H)
                    }
                }
                let reverse = direction == 1
                let runner: any DirectionRunning
                switch config.cell {
                case .rnn:
                    runner = SequenceRunner(cell: SimpleRNNCell(activation: config.activation), inputSize: inputSize, hiddenSize: H,
                                            reverse: reverse, store: store, weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH)
                case .lstm:
                    runner = SequenceRunner(cell: LSTMCell(), inputSize: inputSize, hiddenSize: H,
                                            reverse: reverse, store: store, weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH)
                case .gru:
                    runner = SequenceRunner(cell: GRUCell(), inputSize: inputSize, hiddenSize: H,
                                            reverse: reverse, store: store, weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH)
                }
                directionRunners.append(runner)
            }
            runners.append(directionRunners)
            layerInputs.append(FloatBuffer())
            dropoutMasks.append(FloatBuffer())
        }
    }

    /// The zero state of the right size for a batch of `batchSize`.
    public func zeroState(batchSize: Int) -> RecurrentState {
        let shape = [config.layers * config.directions, batchSize, config.hiddenSize]
        return RecurrentState(hidden: Tensor(shape: shape), cell: config.cell == .lstm ? Tensor(shape: shape) : nil)
    }

    /// Turns on recording of ‖∂L/∂h_t‖ per step in backward (see `stateGradientNorms`).
    public var recordsStateGradientNorms: Bool {
        get { runners[0][0].recordsStateGradientNorms }
        set { for layer in runners { for runner in layer { runner.recordsStateGradientNorms = newValue } } }
    }

    /// ‖∂L/∂h_t‖ for t = 0 … T−1 (L2 over the batch) from the last backward, for one layer and
    /// direction; empty unless `recordsStateGradientNorms` was on.
    public func stateGradientNorms(layer: Int = 0, direction: Int = 0) -> [Float] {
        runners[layer][direction].stateGradientNorms
    }

    /// Forgets the state carried between batches by a stateful layer.
    public func resetState() { carriedState = nil }

    /// Runs the layer.
    /// - input: (T, B, inputSize), time-major.
    /// - lengths: valid steps of each sequence (B values in 1…T); nil when all have T.
    /// - initialState: (L·D, B, H) states; nil means zeros (or, when `stateful`, the carried state).
    /// - training: enables inter-layer dropout, drawn from `generator`, and keeps the gate caches
    ///   for backward (without it, a later `backward` recomputes them: inference keeps none).
    public func forward(_ input: Tensor, lengths: [Int]? = nil, initialState: RecurrentState? = nil,
                        training: Bool = false, generator: inout SeededGenerator) throws -> RecurrentOutput {
        guard input.rank == 3, input.shape[2] == config.inputSize, input.shape[0] > 0, input.shape[1] > 0 else {
            throw RNNError.shapeMismatch(layerName, expected: "(T, B, \(config.inputSize)) with T, B > 0", actual: input.shape)
        }
        return try run(.tensor(input), steps: input.shape[0], batch: input.shape[1], lengths: lengths,
                       initialState: initialState, training: training, generator: &generator)
    }

    /// Inference from token ids whose embedding is folded into layer 0's input projection
    /// (`EmbeddingFold`): layer 0 looks up `tables[direction]` (V, G·H) rows instead of running
    /// its input GEMM. Same results as `forward(embedding vectors)` up to rounding. A later
    /// `backward` first looks the embedding vectors up (the input it then needs).
    func forward(tokens: [Int32], steps T: Int, batch B: Int, tables: [UnsafePointer<Float>], embedding: Embedding,
                 lengths: [Int]?, initialState: RecurrentState?, generator: inout SeededGenerator) throws -> RecurrentOutput {
        precondition(tokens.count == T * B && tables.count == config.directions && T > 0 && B > 0)
        return try run(.lookup(tokens: tokens, tables: tables, embedding: embedding), steps: T, batch: B, lengths: lengths,
                       initialState: initialState, training: false, generator: &generator)
    }

    private enum FirstLayerInput {
        case tensor(Tensor)
        case lookup(tokens: [Int32], tables: [UnsafePointer<Float>], embedding: Embedding)
    }

    private var layerName: String { name.isEmpty ? config.cell.rawValue : String(name.dropLast(name.hasSuffix(".") ? 1 : 0)) }

    private func run(_ first: FirstLayerInput, steps T: Int, batch B: Int, lengths: [Int]?, initialState: RecurrentState?,
                     training: Bool, generator: inout SeededGenerator) throws -> RecurrentOutput {
        let H = config.hiddenSize
        let L = config.layers, D = config.directions
        if let lengths {
            guard lengths.count == B else {
                throw RNNError("\(layerName): \(lengths.count) lengths for a batch of \(B)")
            }
            if let bad = lengths.first(where: { $0 < 1 || $0 > T }) {
                throw RNNError("\(layerName): sequence length \(bad) outside 1…\(T)")
            }
        }
        let stateShape = [L * D, B, H]
        var state = initialState
        if state == nil, config.stateful, let carried = carriedState, carried.hidden.shape == stateShape { state = carried }
        if let state {
            guard state.hidden.shape == stateShape else {
                throw RNNError.shapeMismatch("\(layerName) initial hidden state", expected: shapeString(stateShape), actual: state.hidden.shape)
            }
            if config.cell == .lstm {
                guard let cell = state.cell, cell.shape == stateShape else {
                    throw RNNError.shapeMismatch("\(layerName) initial cell state", expected: shapeString(stateShape), actual: state.cell?.shape ?? [])
                }
            }
        }
        steps = T
        rows = B
        self.lengths = lengths.map { $0.map { Int32($0) } } ?? []
        let effectiveLengths = lengths ?? [Int](repeating: T, count: B)

        var lookupTables: [UnsafePointer<Float>] = []
        switch first {
        case .tensor(let input):
            firstInput = config.goBackwards ? reverseSequences(input, lengths: effectiveLengths) : input
            firstTokens = []
            foldedEmbedding = nil
        case .lookup(let tokens, let tables, let embedding):
            firstInput = Tensor(shape: [0])
            firstTokens = config.goBackwards ? reverseTokenSequences(tokens, batch: B, lengths: effectiveLengths) : tokens
            foldedEmbedding = embedding
            lookupTables = tables
        }
        let zeroState = zeros.zeroed(B * H)
        droppedLayers = []
        let outputSize = config.outputSize
        var sequence = Tensor(shape: [0])
        for layer in 0..<L {
            let directionRunners = runners[layer]
            let initial = (0..<D).map { direction in
                let slice = (layer * D + direction) * B * H
                return (hidden: initialStateSlice(state?.hidden, offset: slice, count: B * H, fallback: zeroState, slot: 2 * direction),
                        cell: initialStateSlice(state?.cell, offset: slice, count: B * H, fallback: zeroState, slot: 2 * direction + 1))
            }
            let lengths = self.lengths
            if layer == 0 && !lookupTables.isEmpty {
                // The runners read table rows, not an input tensor (`zeroState` stands in for it).
                let zeroInput = UnsafePointer(zeroState)
                firstTokens.withUnsafeBufferPointer { tokens in
                    forEachDirection(D) { direction in
                        directionRunners[direction].forward(input: zeroInput, steps: T, rows: B, lengths: lengths,
                                                            h0: initial[direction].hidden, c0: initial[direction].cell,
                                                            keepsCache: false,
                                                            lookup: InputGateLookup(table: lookupTables[direction], tokens: tokens.baseAddress!))
                    }
                }
            } else {
                withLayerInput(layer) { input in
                    forEachDirection(D) { direction in
                        directionRunners[direction].forward(input: input, steps: T, rows: B, lengths: lengths,
                                                            h0: initial[direction].hidden, c0: initial[direction].cell,
                                                            keepsCache: training, lookup: nil)
                    }
                }
            }
            // The merged output goes straight to where it is read: the next layer's input
            // (dropout applied in place) or the returned sequence.
            if layer + 1 < L {
                let next = layerInputs[layer + 1].reserve(T * B * outputSize)
                mergeDirections(layer: layer, into: next)
                if training && config.dropout > 0 {
                    let mask = dropoutMasks[layer].reserve(T * B * outputSize)
                    let keep = 1 - config.dropout, scale = 1 / keep
                    for index in 0..<(T * B * outputSize) {
                        mask[index] = generator.nextUnitFloat() < keep ? scale : 0
                        next[index] *= mask[index]
                    }
                    droppedLayers.insert(layer)
                }
            } else {
                sequence = Tensor(shape: [T, B, outputSize]) { mergeDirections(layer: layer, into: $0) }
            }
        }

        var hidden = Tensor(shape: stateShape)
        var cell: Tensor? = config.cell == .lstm ? Tensor(shape: stateShape) : nil
        hidden.withUnsafeMutableBufferPointer { target in
            for layer in 0..<L {
                for direction in 0..<D {
                    (target.baseAddress! + (layer * D + direction) * B * H).update(from: runners[layer][direction].finalHidden, count: B * H)
                }
            }
        }
        if cell != nil {
            cell!.withUnsafeMutableBufferPointer { target in
                for layer in 0..<L {
                    for direction in 0..<D {
                        (target.baseAddress! + (layer * D + direction) * B * H).update(from: runners[layer][direction].finalCell, count: B * H)
                    }
                }
            }
        }
        let finalState = RecurrentState(hidden: hidden, cell: cell)
        if config.stateful { carriedState = finalState }
        return RecurrentOutput(sequence: sequence, state: finalState)
    }

    /// Backpropagation through time for the last `forward`. Parameter gradients are accumulated
    /// into the store.
    /// - outputGradient: ∂L/∂sequence, (T, B, outputSize), or nil when only states feed the loss.
    /// - stateGradient: ∂L/∂(final states), or nil.
    public func backward(outputGradient: Tensor?, stateGradient: RecurrentState? = nil) throws -> RecurrentGradients {
        let T = steps, B = rows, H = config.hiddenSize, L = config.layers, D = config.directions
        let outputSize = config.outputSize
        guard T > 0 else { throw RNNError("recurrent layer: backward called before forward") }
        let stateShape = [L * D, B, H]
        if let embedding = foldedEmbedding {
            // The last forward looked layer 0's projections up: backward needs its input vectors.
            firstInput = embedding.gather(firstTokens, shape: [T, B])
            foldedEmbedding = nil
        }
        if let outputGradient, outputGradient.shape != [T, B, outputSize] {
            throw RNNError.shapeMismatch("recurrent layer output gradient", expected: shapeString([T, B, outputSize]), actual: outputGradient.shape)
        }
        if let stateGradient {
            guard stateGradient.hidden.shape == stateShape, stateGradient.cell.map({ $0.shape == stateShape }) ?? true else {
                throw RNNError.shapeMismatch("recurrent layer state gradient", expected: shapeString(stateShape), actual: stateGradient.hidden.shape)
            }
        }
        var initialHidden = Tensor(shape: stateShape)
        var initialCell: Tensor? = config.cell == .lstm ? Tensor(shape: stateShape) : nil
        let finalHidden = stateGradient?.hidden
        let finalCell = stateGradient?.cell

        // dOut holds ∂L/∂(output of the current layer); dIn receives ∂L/∂(its input).
        var dOut: UnsafeMutablePointer<Float>? = nil
        if let outputGradient {
            gradientOut.load(outputGradient)
            dOut = gradientOut.pointer
        }
        var inputGradient = Tensor(shape: [T, B, config.inputSize])
        for layer in stride(from: L - 1, through: 0, by: -1) {
            let inputSize = config.layerInputSize(layer)
            let dIn = gradientIn.zeroed(T * B * inputSize)
            let directionRunners = runners[layer]
            let outputGradients = (0..<D).map { directionOutputGradient(dOut, layer: layer, direction: $0) }
            let cellGradients = (0..<D).map { initialCell == nil ? nil : cellScratch[$0].reserve(B * H) }
            withLayerInput(layer) { input in
                initialHidden.withUnsafeMutableBufferPointer { dh0 in
                    let dh0 = dh0.baseAddress!
                    withOptionalPointer(finalHidden) { dhN in
                        withOptionalPointer(finalCell) { dcN in
                            forEachDirection(D) { direction in
                                let slot = (layer * D + direction) * B * H
                                directionRunners[direction].backward(
                                    outputGradient: outputGradients[direction].0, outputStride: outputGradients[direction].1,
                                    finalHiddenGradient: dhN.map { $0 + slot }, finalCellGradient: dcN.map { $0 + slot },
                                    input: input, inputGradient: nil,
                                    initialHiddenGradient: dh0 + slot, initialCellGradient: cellGradients[direction])
                            }
                        }
                    }
                }
            }
            for direction in 0..<D {
                directionRunners[direction].addInputGradient(into: dIn)
                if let dc0 = cellGradients[direction] {
                    let slot = (layer * D + direction) * B * H
                    initialCell!.withUnsafeMutableBufferPointer { ($0.baseAddress! + slot).update(from: dc0, count: B * H) }
                }
            }
            if layer == 0 {
                inputGradient = gradientIn.tensor([T, B, inputSize])
            } else {
                // ∂L/∂(output of layer − 1), through its dropout mask.
                let previous = gradientOut.reserve(T * B * inputSize)
                if droppedLayers.contains(layer - 1) {
                    let mask = dropoutMasks[layer - 1].pointer
                    for index in 0..<(T * B * inputSize) { previous[index] = dIn[index] * mask[index] }
                } else {
                    previous.update(from: dIn, count: T * B * inputSize)
                }
                dOut = previous
            }
        }
        if config.goBackwards {
            inputGradient = reverseSequences(inputGradient, lengths: lengths.isEmpty ? [Int](repeating: T, count: B) : lengths.map(Int.init))
        }
        return RecurrentGradients(input: inputGradient, initialState: RecurrentState(hidden: initialHidden, cell: initialCell))
    }

    /// Calls `body` with layer `layer`'s input, (T, B, inputSize(layer)) from the last forward.
    private func withLayerInput<R>(_ layer: Int, _ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        guard layer == 0 else { return try body(UnsafePointer(layerInputs[layer].pointer)) }
        return try firstInput.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    // MARK: Directions

    /// Writes layer `layer`'s merged output (T, B, outputSize), zero where a row is past its length.
    private func mergeDirections(layer: Int, into output: UnsafeMutablePointer<Float>) {
        let T = steps, B = rows, H = config.hiddenSize, D = config.directions
        let width = config.outputSize
        let forward = runners[layer][0]
        if D == 1 && lengths.isEmpty {
            // One direction, every row active: the states of steps 0 … T−1 are contiguous.
            output.update(from: forward.outputState(step: 0), count: T * B * H)
            return
        }
        for t in 0..<T {
            let forwardStates = forward.outputState(step: t)
            let backwardStates = D == 2 ? runners[layer][1].outputState(step: t) : forwardStates
            for row in 0..<B {
                let target = output + (t * B + row) * width
                guard forward.produced(row: row, step: t) else {
                    target.update(repeating: 0, count: width)
                    continue
                }
                let f = forwardStates + row * H, b = backwardStates + row * H
                if D == 1 {
                    target.update(from: f, count: H)
                    continue
                }
                switch config.merge {
                case .concat:
                    target.update(from: f, count: H)
                    (target + H).update(from: b, count: H)
                case .sum: for j in 0..<H { target[j] = f[j] + b[j] }
                case .average: for j in 0..<H { target[j] = 0.5 * (f[j] + b[j]) }
                case .multiply: for j in 0..<H { target[j] = f[j] * b[j] }
                }
            }
        }
    }

    /// ∂L/∂(one direction's outputs) from ∂L/∂(merged output): a strided view for concat and sum,
    /// a computed buffer for average and multiply.
    private func directionOutputGradient(_ merged: UnsafeMutablePointer<Float>?, layer: Int, direction: Int)
        -> (UnsafePointer<Float>?, Int) {
        guard let merged else { return (nil, 0) }
        let H = config.hiddenSize
        if config.directions == 1 { return (UnsafePointer(merged), H) }
        switch config.merge {
        case .concat: return (UnsafePointer(merged + direction * H), 2 * H)
        case .sum: return (UnsafePointer(merged), H)
        case .average, .multiply:
            let T = steps, B = rows
            let buffer = direction == 0 ? mergeScratchForward : mergeScratchBackward
            let target = buffer.reserve(T * B * H)
            let other = runners[layer][1 - direction]
            for t in 0..<T {
                let otherStates = other.outputState(step: t)
                for index in 0..<(B * H) {
                    let value = merged[t * B * H + index]
                    target[t * B * H + index] = config.merge == .average ? 0.5 * value : value * otherStates[index]
                }
            }
            return (UnsafePointer(target), H)
        }
    }

    private let mergeScratchForward = FloatBuffer(), mergeScratchBackward = FloatBuffer()
    private let initialScratch = [FloatBuffer(), FloatBuffer(), FloatBuffer(), FloatBuffer()]  // [direction · 2 + (h, c)]

    /// Copies `count` floats of `tensor` from `offset` into a scratch slot (or returns `fallback` zeros).
    private func initialStateSlice(_ tensor: Tensor?, offset: Int, count: Int,
                                   fallback: UnsafeMutablePointer<Float>, slot: Int) -> UnsafePointer<Float> {
        guard let tensor else { return UnsafePointer(fallback) }
        let target = initialScratch[slot].reserve(count)
        tensor.withUnsafeBufferPointer { target.update(from: $0.baseAddress! + offset, count: count) }
        return UnsafePointer(target)
    }
}

private func withOptionalPointer<R>(_ tensor: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let tensor else { return body(nil) }
    return tensor.withUnsafeBufferPointer { body($0.baseAddress!) }
}
