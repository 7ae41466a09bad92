import RNNCore

/// The token ↔ id table of a model: ids are dense from 0 (gaps are allowed and stay empty).
public struct Vocabulary: Sendable, Equatable {
    /// Token of each id; "" where an id has no token.
    public private(set) var tokens: [String]
    /// Id of each token.
    public private(set) var ids: [String: Int]

    public init(_ tokensInIdOrder: [String]) {
        tokens = tokensInIdOrder
        ids = Dictionary(tokensInIdOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Reads a `"vocab"` JSON object `{token: id}`.
    init(json: [(String, JSONValue)], component: String) throws {
        var ids: [String: Int] = [:]
        ids.reserveCapacity(json.count)
        var maxId = -1
        for (token, value) in json {
            guard let id = value.intValue, id >= 0 else {
                throw RNNError("tokenizer.json: \(component) vocab entry '\(token)' must have a non-negative integer id")
            }
            ids[token] = id
            maxId = max(maxId, id)
        }
        guard maxId < 4 * json.count + 1024 else {
            throw RNNError("tokenizer.json: \(component) vocab ids are too sparse (largest id \(maxId) for \(json.count) tokens)")
        }
        var tokens = [String](repeating: "", count: maxId + 1)
        for (token, id) in ids { tokens[id] = token }
        self.tokens = tokens
        self.ids = ids
    }

    public var count: Int { ids.count }

    public subscript(token: String) -> Int? { ids[token] }

    public func token(for id: Int) -> String? {
        guard id >= 0, id < tokens.count, ids[tokens[id]] == id else { return nil }
        return tokens[id]
    }

    /// The `"vocab"` object in id order, as the Python library writes it.
    var json: JSONValue {
        .object(tokens.enumerated().compactMap { id, token in ids[token] == id ? (token, .int(id)) : nil })
    }
}

/// A subword model of a `tokenizer.json` (`"model"`): turns one pre-tokenized word into ids.
public protocol TokenizerModel: Sendable {
    var vocabulary: Vocabulary { get }
    /// Appends the ids of `word` to `ids`.
    func tokenize(_ word: [Unicode.Scalar], into ids: inout [Int])
    /// The `"model"` object the Python library reads.
    var json: JSONValue { get }
}

/// Reads a `"model"` object.
func makeModel(json: JSONValue) throws -> any TokenizerModel {
    let fields = try JSONFields(json, component: "model")
    let type: String
    if let t = try fields.optionalString("type") {
        type = t
    } else if fields.has("merges") {
        type = "BPE"
    } else if fields.has("continuing_subword_prefix") {
        type = "WordPiece"
    } else {
        type = "WordLevel"
    }
    switch type {
    case "WordPiece": return try WordPieceModel(json: json)
    case "BPE": return try BPEModel(json: json)
    case "WordLevel": return try WordLevelModel(json: json)
    default: throw RNNError("tokenizer.json: unsupported model '\(type)'")
    }
}

extension Array where Element == Unicode.Scalar {
    /// The string of these scalars.
    var string: String { String(String.UnicodeScalarView(self)) }
}
