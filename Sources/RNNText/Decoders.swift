import RNNCore

/// A decoder of a `tokenizer.json` (`"decoder"`): turns tokens back into text. Each step maps a
/// list of token strings to a new list (HuggingFace `decode_chain`); the text is their concatenation.
public indirect enum Decoder: Equatable, Sendable {
    /// `WordPiece`: tokens after the first get a leading space unless they start with `prefix`
    /// (which is removed); `cleanup` then removes spaces before punctuation, per token.
    case wordPiece(prefix: String, cleanup: Bool)
    /// `ByteLevel`: maps `ByteLevelAlphabet` scalars back to bytes and decodes UTF-8 (invalid
    /// bytes become U+FFFD). The fields only round-trip through the file.
    case byteLevel(addPrefixSpace: Bool, trimOffsets: Bool, useRegex: Bool)
    /// `BPEDecoder`: the end-of-word `suffix` becomes a space (nothing on the last token).
    case bpe(suffix: String)
    /// `Fuse`: joins all tokens into one.
    case fuse
    case sequence([Decoder])

    /// The decoded text of `tokens`.
    public func decode(_ tokens: [String]) -> String {
        decodeChain(tokens).joined()
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case let .wordPiece(prefix, cleanup):
            return tokens.enumerated().map { i, token in
                var t = token
                if i != 0 {
                    t = token.removingScalarPrefix(prefix) ?? " " + token
                }
                return cleanup ? Decoder.cleanup(t) : t
            }
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens {
                let start = bytes.count
                var complete = true
                for c in token.unicodeScalars {
                    guard let b = ByteLevelAlphabet.byte(for: c) else { complete = false; break }
                    bytes.append(b)
                }
                if !complete {
                    bytes.removeSubrange(start...)
                    bytes.append(contentsOf: token.utf8)
                }
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case let .bpe(suffix):
            return tokens.enumerated().map { i, token in
                token.replacingAll(suffix, with: i == tokens.count - 1 ? "" : " ")
            }
        case .fuse:
            return [tokens.joined()]
        case let .sequence(steps):
            var current = tokens
            for step in steps { current = step.decodeChain(current) }
            return current
        }
    }

    /// HuggingFace's `cleanup`: spaces before `. ? ! ,` and English contractions removed.
    static func cleanup(_ text: String) -> String {
        guard text.contains(" ") else { return text }
        var s = text
        for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                           (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            s = s.replacingAll(from, with: to)
        }
        return s
    }

    // MARK: - tokenizer.json

    /// Reads a `"decoder"` object.
    public init(json: JSONValue) throws {
        let type = try JSONFields(json, component: "decoder").string("type")
        let f = try JSONFields(json, component: "decoder '\(type)'")
        switch type {
        case "WordPiece":
            self = .wordPiece(prefix: try f.optionalString("prefix") ?? "##", cleanup: try f.bool("cleanup", default: true))
        case "ByteLevel":
            self = .byteLevel(addPrefixSpace: try f.bool("add_prefix_space", default: true),
                              trimOffsets: try f.bool("trim_offsets", default: true),
                              useRegex: try f.bool("use_regex", default: true))
        case "BPEDecoder": self = .bpe(suffix: try f.optionalString("suffix") ?? "</w>")
        case "Fuse": self = .fuse
        case "Sequence": self = .sequence(try f.array("decoders").map(Decoder.init(json:)))
        default: throw RNNError("tokenizer.json: unsupported decoder '\(type)'")
        }
    }

    /// The `"decoder"` object the Python library reads.
    public var json: JSONValue {
        switch self {
        case let .wordPiece(prefix, cleanup):
            return .object([("type", .string("WordPiece")), ("prefix", .string(prefix)), ("cleanup", .bool(cleanup))])
        case let .byteLevel(addPrefixSpace, trimOffsets, useRegex):
            return .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(addPrefixSpace)),
                            ("trim_offsets", .bool(trimOffsets)), ("use_regex", .bool(useRegex))])
        case let .bpe(suffix): return .object([("type", .string("BPEDecoder")), ("suffix", .string(suffix))])
        case .fuse: return .object([("type", .string("Fuse"))])
        case let .sequence(steps): return .object([("type", .string("Sequence")), ("decoders", .array(steps.map(\.json)))])
        }
    }
}

extension String {
    /// The string without `prefix`, compared by Unicode scalars as Rust's `strip_prefix` does
    /// (`"##🏽"` starts with `"##"` although its second character is `#🏽`); nil if absent.
    func removingScalarPrefix(_ prefix: String) -> String? {
        var rest = unicodeScalars[...]
        for c in prefix.unicodeScalars {
            guard rest.first == c else { return nil }
            rest = rest.dropFirst()
        }
        return String(String.UnicodeScalarView(rest))
    }

    /// Every non-overlapping occurrence of `target` (by Unicode scalars, left to right) replaced.
    func replacingAll(_ target: String, with replacement: String) -> String {
        let t = Array(target.unicodeScalars)
        guard let first = t.first else { return self }
        let s = Array(unicodeScalars)
        guard s.count >= t.count, s.contains(first) else { return self }
        var out = String.UnicodeScalarView()
        var i = 0
        while i < s.count {
            if s[i] == first, i + t.count <= s.count, s[i..<i + t.count].elementsEqual(t) {
                out.append(contentsOf: replacement.unicodeScalars)
                i += t.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return String(out)
    }
}
