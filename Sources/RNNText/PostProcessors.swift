import RNNCore

/// A post-processor of a `tokenizer.json` (`"post_processor"`): adds special tokens such as
/// `[CLS]` and `[SEP]` around the encoded text(s) and sets the type ids.
public enum PostProcessor: Equatable, Sendable {
    /// One element of a template: one of the input texts (`A` or `B`), or a special token.
    public enum TemplatePiece: Equatable, Sendable {
        case sequence(second: Bool, typeId: Int)
        case specialToken(String, typeId: Int)
    }

    /// A special token named in a template: the ids and tokens it stands for.
    public struct SpecialToken: Equatable, Sendable {
        public var name: String
        public var ids: [Int]
        public var tokens: [String]
        public init(name: String, ids: [Int], tokens: [String]) {
            self.name = name
            self.ids = ids
            self.tokens = tokens
        }
    }

    /// `TemplateProcessing`, e.g. single `[CLS] $A [SEP]`, pair `[CLS] $A [SEP] $B:1 [SEP]:1`.
    case template(single: [TemplatePiece], pair: [TemplatePiece], specialTokens: [SpecialToken])
    /// `BertProcessing`: `cls A sep` and `cls A sep B sep` (B with type id 1).
    case bert(sep: (String, Int), cls: (String, Int))
    /// `ByteLevel`: only trims offsets, which we do not track; ids pass through unchanged.
    case byteLevel(addPrefixSpace: Bool, trimOffsets: Bool, useRegex: Bool)

    public static func == (lhs: PostProcessor, rhs: PostProcessor) -> Bool {
        switch (lhs, rhs) {
        case let (.template(a1, b1, c1), .template(a2, b2, c2)): return a1 == a2 && b1 == b2 && c1 == c2
        case let (.bert(s1, c1), .bert(s2, c2)): return s1 == s2 && c1 == c2
        case let (.byteLevel(a1, b1, c1), .byteLevel(a2, b2, c2)): return a1 == a2 && b1 == b2 && c1 == c2
        default: return false
        }
    }

    /// How many tokens `process` adds for a single text or a pair (with special tokens on).
    func addedTokenCount(pair: Bool) -> Int {
        switch self {
        case let .template(single, pairTemplate, specialTokens):
            return (pair ? pairTemplate : single).reduce(0) { total, piece in
                guard case let .specialToken(name, _) = piece else { return total }
                return total + (specialTokens.first { $0.name == name }?.ids.count ?? 0)
            }
        case .bert: return pair ? 3 : 2
        case .byteLevel: return 0
        }
    }

    /// The final encoding of `a` (and `b`).
    func process(_ a: Encoding, _ b: Encoding?, addSpecialTokens: Bool) -> Encoding {
        switch self {
        case let .template(single, pairTemplate, specialTokens):
            var out = Encoding()
            for piece in (b == nil ? single : pairTemplate) {
                switch piece {
                case let .sequence(second, typeId):
                    guard var part = second ? b : a else { continue }
                    part.typeIds = Array(repeating: typeId, count: part.count)
                    out.append(part)
                case let .specialToken(name, typeId):
                    guard addSpecialTokens, let special = specialTokens.first(where: { $0.name == name }) else { continue }
                    out.append(Encoding(ids: special.ids, tokens: special.tokens,
                                        typeIds: Array(repeating: typeId, count: special.ids.count),
                                        specialTokensMask: Array(repeating: 1, count: special.ids.count)))
                }
            }
            return out
        case let .bert(sep, cls):
            guard addSpecialTokens else { return PostProcessor.concatenate(a, b) }
            var out = Encoding(ids: [cls.1], tokens: [cls.0], specialTokensMask: [1])
            out.append(a)
            out.append(Encoding(ids: [sep.1], tokens: [sep.0], specialTokensMask: [1]))
            if var second = b {
                second.typeIds = Array(repeating: 1, count: second.count)
                out.append(second)
                out.append(Encoding(ids: [sep.1], tokens: [sep.0], typeIds: [1], specialTokensMask: [1]))
            }
            return out
        case .byteLevel:
            return PostProcessor.concatenate(a, b)
        }
    }

    /// Without a post-processor: the two encodings one after the other.
    static func concatenate(_ a: Encoding, _ b: Encoding?) -> Encoding {
        var out = a
        if let b { out.append(b) }
        return out
    }

    // MARK: - tokenizer.json

    /// Reads a `"post_processor"` object.
    public init(json: JSONValue) throws {
        let type = try JSONFields(json, component: "post_processor").string("type")
        let f = try JSONFields(json, component: "post_processor '\(type)'")
        func tokenAndId(_ key: String) throws -> (String, Int) {
            guard let pair = json[key]?.arrayValue, pair.count == 2, let token = pair[0].stringValue, let id = pair[1].intValue else {
                throw f.missing(key, "a [token, id] pair")
            }
            return (token, id)
        }
        switch type {
        case "TemplateProcessing":
            func pieces(_ key: String) throws -> [TemplatePiece] {
                try f.array(key).map { item in
                    if let s = item["Sequence"] {
                        let which = s["id"]?.stringValue
                        guard which == "A" || which == "B" else { throw f.missing(key, "pieces with Sequence id A or B") }
                        return .sequence(second: which == "B", typeId: s["type_id"]?.intValue ?? 0)
                    }
                    if let t = item["SpecialToken"], let name = t["id"]?.stringValue {
                        return .specialToken(name, typeId: t["type_id"]?.intValue ?? 0)
                    }
                    throw f.missing(key, "a list of {\"Sequence\": …} or {\"SpecialToken\": …} pieces")
                }
            }
            var specials: [SpecialToken] = []
            for (name, value) in try f.object("special_tokens") {
                guard let ids = value["ids"]?.arrayValue?.compactMap(\.intValue),
                      let tokens = value["tokens"]?.arrayValue?.compactMap(\.stringValue), ids.count == tokens.count else {
                    throw f.missing("special_tokens", "an object of {id, ids, tokens} entries")
                }
                specials.append(SpecialToken(name: name, ids: ids, tokens: tokens))
            }
            self = .template(single: try pieces("single"), pair: try pieces("pair"), specialTokens: specials)
        case "BertProcessing":
            self = .bert(sep: try tokenAndId("sep"), cls: try tokenAndId("cls"))
        case "ByteLevel":
            self = .byteLevel(addPrefixSpace: try f.bool("add_prefix_space", default: true),
                              trimOffsets: try f.bool("trim_offsets", default: true),
                              useRegex: try f.bool("use_regex", default: true))
        default:
            throw RNNError("tokenizer.json: unsupported post_processor '\(type)'")
        }
    }

    /// The `"post_processor"` object the Python library reads.
    public var json: JSONValue {
        switch self {
        case let .template(single, pair, specialTokens):
            func pieces(_ list: [TemplatePiece]) -> JSONValue {
                .array(list.map { piece in
                    switch piece {
                    case let .sequence(second, typeId):
                        return .object([("Sequence", .object([("id", .string(second ? "B" : "A")), ("type_id", .int(typeId))]))])
                    case let .specialToken(name, typeId):
                        return .object([("SpecialToken", .object([("id", .string(name)), ("type_id", .int(typeId))]))])
                    }
                })
            }
            return .object([
                ("type", .string("TemplateProcessing")), ("single", pieces(single)), ("pair", pieces(pair)),
                ("special_tokens", .object(specialTokens.map { s in
                    (s.name, .object([("id", .string(s.name)), ("ids", .array(s.ids.map(JSONValue.int))),
                                      ("tokens", .array(s.tokens.map(JSONValue.string)))]))
                })),
            ])
        case let .bert(sep, cls):
            return .object([("type", .string("BertProcessing")), ("sep", .array([.string(sep.0), .int(sep.1)])),
                            ("cls", .array([.string(cls.0), .int(cls.1)]))])
        case let .byteLevel(addPrefixSpace, trimOffsets, useRegex):
            return .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(addPrefixSpace)),
                            ("trim_offsets", .bool(trimOffsets)), ("use_regex", .bool(useRegex))])
        }
    }
}
