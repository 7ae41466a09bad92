/// The one error type of swift-rnn. Its `description` is a single line that says what is wrong
/// and, where there is one, how to fix it; the command-line tool prints exactly that line.
public struct RNNError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    /// A tensor reached `layer` with the wrong shape.
    public static func shapeMismatch(_ layer: String, expected: String, actual: [Int]) -> RNNError {
        RNNError("\(layer): expected shape \(expected), got \(shapeString(actual))")
    }

    /// A file could not be used; `reason` says why.
    public static func invalidFile(_ path: String, _ reason: String) -> RNNError {
        RNNError("\(path): \(reason)")
    }
}

/// `[2, 3]` → `(2, 3)`, the way shapes are written in messages and doc comments.
public func shapeString(_ shape: [Int]) -> String {
    "(" + shape.map(String.init).joined(separator: ", ") + ")"
}
