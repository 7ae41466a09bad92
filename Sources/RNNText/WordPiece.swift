import RNNCore

/// A prefix tree over Unicode scalars; each node may end a token. Transitions live in one
/// hash table keyed by (node, scalar), so a lookup allocates nothing.
struct ScalarTrie: Sendable {
    private var children = IntegerHashTable()
    /// Token id ending at each node, or -1.
    private(set) var terminal: [Int32] = [-1]

    static let root: Int32 = 0

    @inline(__always)
    private static func key(_ node: Int32, _ c: Unicode.Scalar) -> UInt64 { UInt64(node) << 21 | UInt64(c.value) }

    mutating func insert<S: Sequence>(_ scalars: S, id: Int) where S.Element == Unicode.Scalar {
        var node = ScalarTrie.root
        for c in scalars {
            let k = ScalarTrie.key(node, c)
            if let next = children.value(for: k) {
                node = Int32(next)
            } else {
                let next = Int32(terminal.count)
                terminal.append(-1)
                children.set(UInt64(next), for: k)
                node = next
            }
        }
        if terminal[Int(node)] < 0 { terminal[Int(node)] = Int32(id) }
    }

    @inline(__always)
    func child(_ node: Int32, _ c: Unicode.Scalar) -> Int32? {
        children.value(for: ScalarTrie.key(node, c)).map { Int32(truncatingIfNeeded: $0) }
    }

    /// The longest token starting at `start`: its id and end index, or nil.
    @inline(__always)
    func longestMatch(_ word: [Unicode.Scalar], from start: Int, root: Int32) -> (id: Int, end: Int)? {
        var node = root
        var best: (id: Int, end: Int)? = nil
        var j = start
        while j < word.count, let next = child(node, word[j]) {
            node = next
            j += 1
            let id = terminal[Int(node)]
            if id >= 0 { best = (Int(id), j) }
        }
        return best
    }
}

/// The WordPiece model (BERT): each word becomes the longest vocabulary token at its start, then
/// repeatedly the longest `##`-prefixed token for the rest; a word with an unmatched remainder, or
/// longer than `maxInputCharsPerWord` scalars, becomes the single `unkToken`.
public final class WordPieceModel: TokenizerModel {
    public let vocabulary: Vocabulary
    public let unkToken: String
    public let continuingSubwordPrefix: String
    public let maxInputCharsPerWord: Int
    private let unkId: Int
    /// Every token, as written.
    private let wordStartTrie: ScalarTrie
    /// The prefixed tokens with `continuingSubwordPrefix` removed, under their own root.
    private let continuationRoot: Int32

    public init(vocabulary: Vocabulary, unkToken: String = "[UNK]", continuingSubwordPrefix: String = "##",
                maxInputCharsPerWord: Int = 100) throws {
        guard let unkId = vocabulary[unkToken] else {
            throw RNNError("tokenizer.json: WordPiece unk_token '\(unkToken)' is not in the vocabulary")
        }
        self.vocabulary = vocabulary
        self.unkToken = unkToken
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        self.unkId = unkId
        var trie = ScalarTrie()
        // The continuation root is the node reached by a sentinel scalar no text contains.
        trie.insert(["\u{10FFFF}"], id: -1)
        let continuationRoot = trie.child(ScalarTrie.root, "\u{10FFFF}")!
        let prefix = Array(continuingSubwordPrefix.unicodeScalars)
        for (id, token) in vocabulary.tokens.enumerated() where vocabulary[token] == id {
            let scalars = Array(token.unicodeScalars)
            trie.insert(scalars, id: id)
            if scalars.count > prefix.count, scalars.starts(with: prefix) {
                trie.insert(["\u{10FFFF}"] + scalars[prefix.count...], id: id)
            }
        }
        self.wordStartTrie = trie
        self.continuationRoot = continuationRoot
    }

    convenience init(json: JSONValue) throws {
        let f = try JSONFields(json, component: "model 'WordPiece'")
        try self.init(vocabulary: try Vocabulary(json: try f.object("vocab"), component: "model 'WordPiece'"),
                      unkToken: try f.optionalString("unk_token") ?? "[UNK]",
                      continuingSubwordPrefix: try f.optionalString("continuing_subword_prefix") ?? "##",
                      maxInputCharsPerWord: try f.int("max_input_chars_per_word", default: 100))
    }

    public func tokenize(_ word: [Unicode.Scalar], into ids: inout [Int]) {
        if word.isEmpty { return }
        if word.count > maxInputCharsPerWord { ids.append(unkId); return }
        let mark = ids.count
        var start = 0
        while start < word.count {
            guard let match = wordStartTrie.longestMatch(word, from: start, root: start == 0 ? ScalarTrie.root : continuationRoot) else {
                ids.removeSubrange(mark...)
                ids.append(unkId)
                return
            }
            ids.append(match.id)
            start = match.end
        }
    }

    public var json: JSONValue {
        .object([("type", .string("WordPiece")), ("unk_token", .string(unkToken)),
                 ("continuing_subword_prefix", .string(continuingSubwordPrefix)),
                 ("max_input_chars_per_word", .int(maxInputCharsPerWord)), ("vocab", vocabulary.json)])
    }
}
