import RNNCore

/// Which recurrent cell a layer runs.
public enum CellType: String, Codable, Sendable, CaseIterable {
    /// The vanilla RNN (Keras `SimpleRNN`, PyTorch `nn.RNN`), with `activation`.
    case rnn
    case lstm
    case gru

    /// Gate blocks per hidden unit.
    public var gateCount: Int {
        switch self {
        case .rnn: 1
        case .lstm: 4
        case .gru: 3
        }
    }
}

/// How a bidirectional layer combines its two directions (Keras `Bidirectional(merge_mode=...)`).
public enum MergeMode: String, Codable, Sendable, CaseIterable {
    /// [forward ; backward] along features: output size 2H (PyTorch's only mode).
    case concat
    case sum
    case average
    case multiply
}

/// How parameters get their first values.
public enum InitializationScheme: String, Codable, Sendable, CaseIterable {
    /// PyTorch: every weight and bias uniform in ±1/√hiddenSize.
    case pytorch
    /// Keras: `glorot_uniform` input kernel, `orthogonal` recurrent kernel, zero biases.
    case keras
}

/// Everything that defines a (stacked, optionally bidirectional) recurrent layer. A value type:
/// it is saved in a model's `config.json` and is all that is needed to rebuild the layer.
public struct RecurrentConfig: Codable, Sendable, Equatable {
    public var cell: CellType
    /// Activation of the vanilla RNN cell (tanh, relu or linear); ignored by LSTM and GRU.
    public var activation: Activation
    public var inputSize: Int
    public var hiddenSize: Int
    /// Number of stacked layers (PyTorch `num_layers`).
    public var layers: Int
    public var bidirectional: Bool
    public var merge: MergeMode
    /// Whether each cell has biases (`bias_ih`, `bias_hh`); Keras `use_bias`.
    public var bias: Bool
    /// Dropout on the outputs of every layer but the last, in training mode (PyTorch semantics).
    public var dropout: Float
    /// Keras `go_backwards`: read each sequence from its last valid step to its first and return
    /// the outputs in that (reversed) order.
    public var goBackwards: Bool
    /// Keras `stateful`: the final state of one batch is the initial state of the next (its
    /// gradient cut: truncated BPTT), until `resetState()`.
    public var stateful: Bool
    public var initialization: InitializationScheme
    /// LSTM only: when set, the forget-gate slice of `bias_ih` starts at this value (1 is the
    /// classic choice) and that of `bias_hh` at zero.
    public var forgetBias: Float?

    public init(cell: CellType, inputSize: Int, hiddenSize: Int, layers: Int = 1,
                bidirectional: Bool = false, merge: MergeMode = .concat, bias: Bool = true,
                activation: Activation = .tanh, dropout: Float = 0, goBackwards: Bool = false,
                stateful: Bool = false, initialization: InitializationScheme = .pytorch,
                forgetBias: Float? = nil) {
        self.cell = cell
        self.activation = activation
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.bidirectional = bidirectional
        self.merge = merge
        self.bias = bias
        self.dropout = dropout
        self.goBackwards = goBackwards
        self.stateful = stateful
        self.initialization = initialization
        self.forgetBias = forgetBias
    }

    public var directions: Int { bidirectional ? 2 : 1 }

    /// Features per time step of the output: D·H for concat, H otherwise.
    public var outputSize: Int { bidirectional && merge == .concat ? 2 * hiddenSize : hiddenSize }

    /// Input features of layer `layer`.
    public func layerInputSize(_ layer: Int) -> Int { layer == 0 ? inputSize : outputSize }

    /// Number of scalars, equal to PyTorch's `sum(p.numel() for p in rnn.parameters())`.
    public var parameterCount: Int {
        let G = cell.gateCount * hiddenSize
        var total = 0
        for layer in 0..<layers {
            let perDirection = G * layerInputSize(layer) + G * hiddenSize + (bias ? 2 * G : 0)
            total += perDirection * directions
        }
        return total
    }

    /// Checks the values make sense; the message names the field.
    public func validate() throws {
        guard inputSize > 0 else { throw RNNError("recurrent layer: inputSize must be positive, got \(inputSize)") }
        guard hiddenSize > 0 else { throw RNNError("recurrent layer: hiddenSize must be positive, got \(hiddenSize)") }
        guard layers > 0 else { throw RNNError("recurrent layer: layers must be at least 1, got \(layers)") }
        guard dropout >= 0, dropout < 1 else { throw RNNError("recurrent layer: dropout must be in [0, 1), got \(dropout)") }
        if forgetBias != nil && cell != .lstm {
            throw RNNError("recurrent layer: forgetBias applies to LSTM only, not \(cell.rawValue)")
        }
    }
}
