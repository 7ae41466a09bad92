import RNNCore

/// The WordLevel model: each word is one vocabulary token, or `unkToken` when it is not listed.
public final class WordLevelModel: TokenizerModel {
    public let vocabulary: Vocabulary
    public let unkToken: String
    private let unkId: Int

    public init(vocabulary: Vocabulary, unkToken: String = "[UNK]") throws {
        guard let unkId = vocabulary[unkToken] else {
            throw RNNError("tokenizer.json: WordLevel unk_token '\(unkToken)' is not in the vocabulary")
        }
        self.vocabulary = vocabulary
        self.unkToken = unkToken
        self.unkId = unkId
    }

    convenience init(json: JSONValue) throws {
        let f = try JSONFields(json, component: "model 'WordLevel'")
        try self.init(vocabulary: try Vocabulary(json: try f.object("vocab"), component: "model 'WordLevel'"),
                      unkToken: try f.optionalString("unk_token") ?? "[UNK]")
    }

    public func tokenize(_ word: [Unicode.Scalar], into ids: inout [Int]) {
        if word.isEmpty { return }
        ids.append(vocabulary[word.string] ?? unkId)
    }

    public var json: JSONValue {
        .object([("type", .string("WordLevel")), ("vocab", vocabulary.json), ("unk_token", .string(unkToken))])
    }
}
