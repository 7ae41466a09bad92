import Foundation
import RNNCore

/// A text tokenizer compatible with HuggingFace `tokenizers` (`tokenizer.json`, version 1.0).
///
/// Encoding runs the library's pipeline: added tokens are cut out of the raw text, each remaining
/// piece is normalized, split into words by the pre-tokenizer and each word turned into ids by the
/// model; the post-processor adds special tokens; truncation and padding apply last.
public struct Tokenizer: Sendable {
    public var normalizer: Normalizer?
    public var preTokenizer: PreTokenizer?
    public var model: any TokenizerModel
    public var postProcessor: PostProcessor?
    public var decoder: Decoder?
    public var truncation: Truncation?
    public var padding: Padding?
    /// Added tokens in id order. Set them with `init` so the matchers stay in step.
    public private(set) var addedTokens: [AddedToken]

    private(set) var rawMatcher: AddedTokenMatcher
    private var normalizedMatcher: AddedTokenMatcher
    private var addedById: [Int: AddedToken]
    private var addedByContent: [String: AddedToken]

    public init(model: any TokenizerModel, normalizer: Normalizer? = nil, preTokenizer: PreTokenizer? = nil,
                postProcessor: PostProcessor? = nil, decoder: Decoder? = nil, addedTokens: [AddedToken] = [],
                truncation: Truncation? = nil, padding: Padding? = nil) {
        self.model = model
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.truncation = truncation
        self.padding = padding
        self.addedTokens = addedTokens.sorted { $0.id < $1.id }
        rawMatcher = AddedTokenMatcher(addedTokens.filter { !$0.normalized })
        normalizedMatcher = AddedTokenMatcher(addedTokens.filter(\.normalized)) { token in
            normalizer?.normalized(token.content) ?? token.content
        }
        addedById = Dictionary(addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        addedByContent = Dictionary(addedTokens.map { ($0.content, $0) }, uniquingKeysWith: { first, _ in first })
    }

    // MARK: - Loading and saving

    /// Loads a `tokenizer.json` file.
    public init(contentsOf path: String) throws {
        guard let data = FileContents.read(atPath: path) else {
            throw RNNError.invalidFile(path, "cannot read tokenizer file (missing or unreadable)")
        }
        do {
            try self.init(json: JSONValue.parse([UInt8](data), context: "tokenizer.json"))
        } catch let error as RNNError {
            throw RNNError.invalidFile(path, error.message.hasPrefix("tokenizer.json: ")
                                       ? String(error.message.dropFirst("tokenizer.json: ".count)) : error.message)
        }
    }

    /// Reads a parsed `tokenizer.json` document.
    public init(json: JSONValue) throws {
        let f = try JSONFields(json, component: "tokenizer")
        if let version = try f.optionalString("version"), version != "1.0" {
            throw RNNError("tokenizer.json: unsupported version '\(version)' (expected 1.0)")
        }
        func optional<T>(_ key: String, _ make: (JSONValue) throws -> T) throws -> T? {
            guard let value = json[key], !value.isNull else { return nil }
            return try make(value)
        }
        guard let modelJSON = json["model"], !modelJSON.isNull else { throw RNNError("tokenizer.json: no 'model'") }
        let model = try makeModel(json: modelJSON)
        let normalizer: Normalizer? = try optional("normalizer", Normalizer.init(json:))
        let preTokenizer: PreTokenizer? = try optional("pre_tokenizer", PreTokenizer.init(json:))
        let postProcessor: PostProcessor? = try optional("post_processor", PostProcessor.init(json:))
        let decoder: Decoder? = try optional("decoder", Decoder.init(json:))
        let addedTokens: [AddedToken] = try (json["added_tokens"]?.arrayValue ?? []).map(AddedToken.init(json:))
        let truncation: Truncation? = try optional("truncation", Truncation.init(json:))
        let padding: Padding? = try optional("padding", Padding.init(json:))
        self.init(model: model, normalizer: normalizer, preTokenizer: preTokenizer, postProcessor: postProcessor,
                  decoder: decoder, addedTokens: addedTokens, truncation: truncation, padding: padding)
    }

    /// The `tokenizer.json` document, in the Python library's key order.
    public var json: JSONValue {
        let null = JSONValue.null
        let members: [(String, JSONValue)] = [
            ("version", JSONValue.string("1.0")),
            ("truncation", truncation.map(\.json) ?? null),
            ("padding", padding.map(\.json) ?? null),
            ("added_tokens", JSONValue.array(addedTokens.map(\.json))),
            ("normalizer", normalizer.map(\.json) ?? null),
            ("pre_tokenizer", preTokenizer.map(\.json) ?? null),
            ("post_processor", postProcessor.map(\.json) ?? null),
            ("decoder", decoder.map(\.json) ?? null),
            ("model", model.json),
        ]
        return .object(members)
    }

    /// Writes `tokenizer.json` atomically.
    public func save(to path: String) throws {
        try AtomicFile.write(json.serialized(indent: 2) + "\n", to: path)
    }

    // MARK: - Vocabulary

    /// Tokens of the model plus added tokens that are not in it.
    public var vocabSize: Int {
        model.vocabulary.count + addedTokens.filter { model.vocabulary[$0.content] == nil }.count
    }

    public func tokenToId(_ token: String) -> Int? {
        addedByContent[token]?.id ?? model.vocabulary[token]
    }

    public func idToToken(_ id: Int) -> String? {
        addedById[id]?.content ?? model.vocabulary.token(for: id)
    }

    // MARK: - Encoding

    /// Encodes one text: ids and tokens, with the post-processor's special tokens if asked.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> Encoding {
        var encodings = [finish(encodeWithoutSpecialTokens(text), nil, addSpecialTokens: addSpecialTokens)]
        padding?.apply(&encodings)
        return encodings[0]
    }

    /// Encodes a pair of texts (e.g. question and passage) into one sequence.
    public func encode(_ text: String, pair: String, addSpecialTokens: Bool = true) -> Encoding {
        var encodings = [finish(encodeWithoutSpecialTokens(text), encodeWithoutSpecialTokens(pair), addSpecialTokens: addSpecialTokens)]
        padding?.apply(&encodings)
        return encodings[0]
    }

    /// Encodes many texts; padding (if set) makes them one length.
    public func encodeBatch(_ texts: [String], addSpecialTokens: Bool = true) -> [Encoding] {
        var encodings = texts.map { finish(encodeWithoutSpecialTokens($0), nil, addSpecialTokens: addSpecialTokens) }
        padding?.apply(&encodings)
        return encodings
    }

    /// Truncation, then the post-processor.
    private func finish(_ a: Encoding, _ b: Encoding?, addSpecialTokens: Bool) -> Encoding {
        var a = a, b = b
        if let truncation {
            let reserved = addSpecialTokens ? (postProcessor?.addedTokenCount(pair: b != nil) ?? 0) : 0
            // Only OnlyFirst/OnlySecond can fail (the other text alone is too long). The Python
            // library raises an error there; `encode` does not throw, so the texts stay untruncated.
            try? truncation.apply(&a, &b, reserved: reserved)
        }
        if let postProcessor { return postProcessor.process(a, b, addSpecialTokens: addSpecialTokens) }
        return PostProcessor.concatenate(a, b)
    }

    /// Added tokens, normalization, pre-tokenization and the model.
    func encodeWithoutSpecialTokens(_ text: String) -> Encoding {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int] = []
        ids.reserveCapacity(scalars.count / 3 + 4)
        var tokens: [String] = []
        tokens.reserveCapacity(scalars.count / 3 + 4)
        let vocabularyTokens = model.vocabulary.tokens
        for piece in rawMatcher.split(scalars) {
            if let token = piece.token {
                ids.append(token.id); tokens.append(token.content)
                continue
            }
            var normalized = Array(scalars[piece.range])
            normalizer?.normalize(&normalized)
            for part in normalizedMatcher.split(normalized) {
                if let token = part.token {
                    ids.append(token.id); tokens.append(token.content)
                    continue
                }
                let text = part.range == normalized.indices ? normalized : Array(normalized[part.range])
                let words = preTokenizer?.preTokenize(text) ?? (text.isEmpty ? [] : [text])
                for word in words {
                    let start = ids.count
                    model.tokenize(word, into: &ids)
                    for id in ids[start...] { tokens.append(vocabularyTokens[id]) }
                }
            }
        }
        return Encoding(ids: ids, tokens: tokens)
    }

    // MARK: - Decoding

    /// The text of `ids`: special added tokens dropped if asked, then the decoder (without one,
    /// tokens joined by spaces, as the Python library does). Unknown ids are skipped.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if let added = addedById[id] {
                if skipSpecialTokens && added.special { continue }
                tokens.append(added.content)
            } else if let token = model.vocabulary.token(for: id) {
                if skipSpecialTokens, addedByContent[token]?.special == true { continue }
                tokens.append(token)
            }
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return tokens.isEmpty ? "" : decoder.decode(tokens)
    }
}
