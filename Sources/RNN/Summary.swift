import RNNCore

/// One line of a model summary: a layer, its output shape, its parameter count.
public struct SummaryRow: Sendable, Equatable {
    public var name: String
    public var kind: String
    public var outputShape: String
    public var parameterCount: Int

    public init(name: String, kind: String, outputShape: String, parameterCount: Int) {
        self.name = name
        self.kind = kind
        self.outputShape = outputShape
        self.parameterCount = parameterCount
    }
}

/// A Keras-style table of layers with output shapes and parameter counts. Counts are those of
/// the store, so they equal PyTorch's `sum(p.numel() for p in model.parameters())`.
public struct ModelSummary: Sendable {
    public var rows: [SummaryRow]
    public var totalParameters: Int
    public var trainableParameters: Int

    public init(rows: [SummaryRow], store: ParameterStore) {
        self.rows = rows
        self.totalParameters = store.scalarCount
        self.trainableParameters = store.trainableScalarCount
    }

    /// The table as text.
    public func render() -> String {
        let header = SummaryRow(name: "Layer", kind: "Type", outputShape: "Output shape", parameterCount: 0)
        let nameWidth = max(header.name.count, rows.map(\.name.count).max() ?? 0)
        let kindWidth = max(header.kind.count, rows.map(\.kind.count).max() ?? 0)
        let shapeWidth = max(header.outputShape.count, rows.map(\.outputShape.count).max() ?? 0)
        let countWidth = max(7, rows.map { groupedDigits($0.parameterCount).count }.max() ?? 0)
        func line(_ a: String, _ b: String, _ c: String, _ d: String) -> String {
            a.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                + b.padding(toLength: kindWidth, withPad: " ", startingAt: 0) + "  "
                + c.padding(toLength: shapeWidth, withPad: " ", startingAt: 0) + "  "
                + String(repeating: " ", count: max(0, countWidth - d.count)) + d
        }
        let rule = String(repeating: "─", count: nameWidth + kindWidth + shapeWidth + countWidth + 6)
        var lines = [line("Layer", "Type", "Output shape", "Params"), rule]
        lines += rows.map { line($0.name, $0.kind, $0.outputShape, groupedDigits($0.parameterCount)) }
        lines.append(rule)
        lines.append("Total parameters: \(groupedDigits(totalParameters))")
        lines.append("Trainable parameters: \(groupedDigits(trainableParameters))")
        lines.append("Non-trainable parameters: \(groupedDigits(totalParameters - trainableParameters))")
        return lines.joined(separator: "\n")
    }
}

/// 1234567 → "1,234,567"
public func groupedDigits(_ value: Int) -> String {
    let digits = String(abs(value))
    var groups: [Substring] = []
    var end = digits.endIndex
    while end > digits.startIndex {
        let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
        groups.insert(digits[start..<end], at: 0)
        end = start
    }
    return (value < 0 ? "-" : "") + groups.joined(separator: ",")
}

extension Recurrent {
    /// The summary row of this layer for a batch of sequences.
    public func summaryRow(name: String) -> SummaryRow {
        let kind: String
        switch config.cell {
        case .rnn: kind = "SimpleRNN(\(config.activation.rawValue))"
        case .lstm: kind = "LSTM"
        case .gru: kind = "GRU"
        }
        let details = [config.layers > 1 ? "\(config.layers) layers" : nil,
                       config.bidirectional ? "bidirectional \(config.merge.rawValue)" : nil].compactMap { $0 }
        return SummaryRow(name: name, kind: kind + (details.isEmpty ? "" : " [" + details.joined(separator: ", ") + "]"),
                          outputShape: "(B, T, \(config.outputSize))", parameterCount: config.parameterCount)
    }
}
