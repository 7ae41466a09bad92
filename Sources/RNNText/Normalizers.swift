import Foundation
import RNNCore

/// A text normalizer of a `tokenizer.json` (`"normalizer"`): rewrites the Unicode scalars of a
/// piece of text before it is split into words. Each case behaves as the HuggingFace
/// `tokenizers` normalizer of the same name.
public indirect enum Normalizer: Equatable, Sendable {
    /// `BertNormalizer`: drop control characters and map whitespace to a space (`cleanText`),
    /// put spaces around CJK ideographs, strip accents (nil: when lowercasing), lowercase.
    case bert(cleanText: Bool, handleChineseCharacters: Bool, stripAccents: Bool?, lowercase: Bool)
    case lowercase
    case nfd, nfkd, nfc, nfkc
    /// `StripAccents`: removes nonspacing marks (Mn); pair it with `nfd` to strip accents.
    case stripAccents
    /// `Replace` with a string pattern: every non-overlapping occurrence, left to right.
    case replace(pattern: String, content: String)
    /// `Strip`: removes leading and/or trailing whitespace.
    case strip(left: Bool, right: Bool)
    case sequence([Normalizer])

    /// Normalizes `text` in place.
    public func normalize(_ text: inout [Unicode.Scalar]) {
        switch self {
        case let .bert(cleanText, handleChinese, stripAccents, lowercase):
            if cleanText { Normalizer.cleanText(&text) }
            if handleChinese { Normalizer.spaceChineseCharacters(&text) }
            if stripAccents ?? lowercase {
                Normalizer.unicodeNormalize(&text, form: .nfd)
                Normalizer.removeNonspacingMarks(&text)
            }
            if lowercase { Normalizer.lowercase(&text) }
        case .lowercase: Normalizer.lowercase(&text)
        case .nfd: Normalizer.unicodeNormalize(&text, form: .nfd)
        case .nfkd: Normalizer.unicodeNormalize(&text, form: .nfkd)
        case .nfc: Normalizer.unicodeNormalize(&text, form: .nfc)
        case .nfkc: Normalizer.unicodeNormalize(&text, form: .nfkc)
        case .stripAccents: Normalizer.removeNonspacingMarks(&text)
        case let .replace(pattern, content):
            Normalizer.replace(&text, pattern: Array(pattern.unicodeScalars), content: Array(content.unicodeScalars))
        case let .strip(left, right):
            if right { while let last = text.last, CharacterClass.isWhitespace(last) { text.removeLast() } }
            if left, let first = text.firstIndex(where: { !CharacterClass.isWhitespace($0) }) {
                text.removeFirst(first)
            } else if left {
                text.removeAll()
            }
        case let .sequence(normalizers):
            for normalizer in normalizers { normalizer.normalize(&text) }
        }
    }

    /// The normalized form of `text`.
    public func normalized(_ text: String) -> String {
        var scalars = Array(text.unicodeScalars)
        normalize(&scalars)
        return String(String.UnicodeScalarView(scalars))
    }

    // MARK: - Steps

    static func cleanText(_ text: inout [Unicode.Scalar]) {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for c in text {
            if c.value == 0 || c.value == 0xFFFD || CharacterClass.isBertControl(c) { continue }
            out.append(CharacterClass.isBertWhitespace(c) ? " " : c)
        }
        text = out
    }

    static func spaceChineseCharacters(_ text: inout [Unicode.Scalar]) {
        guard text.contains(where: CharacterClass.isChineseCharacter) else { return }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count + 16)
        for c in text {
            if CharacterClass.isChineseCharacter(c) {
                out.append(" "); out.append(c); out.append(" ")
            } else {
                out.append(c)
            }
        }
        text = out
    }

    static func removeNonspacingMarks(_ text: inout [Unicode.Scalar]) {
        text.removeAll(where: CharacterClass.isNonspacingMark)
    }

    /// Full (one-to-many) lowercase mapping per scalar, as Rust `char::to_lowercase`.
    static func lowercase(_ text: inout [Unicode.Scalar]) {
        var needsWork = false
        for c in text where c.value >= 0x41 && (c.value <= 0x5A || c.value >= 0x80) {
            needsWork = true
            break
        }
        guard needsWork else { return }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for c in text {
            let v = c.value
            if v < 0x80 {
                out.append(v >= 0x41 && v <= 0x5A ? Unicode.Scalar(UInt8(v + 0x20)) : c)
            } else {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            }
        }
        text = out
    }

    enum UnicodeForm { case nfd, nfkd, nfc, nfkc }

    /// Unicode normalization through Foundation; ASCII-only text is already in every form.
    static func unicodeNormalize(_ text: inout [Unicode.Scalar], form: UnicodeForm) {
        guard text.contains(where: { $0.value >= 0x80 }) else { return }
        let string = String(String.UnicodeScalarView(text))
        let result: String
        switch form {
        case .nfd: result = string.decomposedStringWithCanonicalMapping
        case .nfkd: result = string.decomposedStringWithCompatibilityMapping
        case .nfc: result = string.precomposedStringWithCanonicalMapping
        case .nfkc: result = string.precomposedStringWithCompatibilityMapping
        }
        text = Array(result.unicodeScalars)
    }

    static func replace(_ text: inout [Unicode.Scalar], pattern: [Unicode.Scalar], content: [Unicode.Scalar]) {
        guard let first = pattern.first, text.count >= pattern.count, text.contains(first) else { return }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var i = 0
        let n = text.count, m = pattern.count
        while i < n {
            if text[i] == first, i + m <= n, text[i..<i + m].elementsEqual(pattern) {
                out.append(contentsOf: content)
                i += m
            } else {
                out.append(text[i])
                i += 1
            }
        }
        text = out
    }

    // MARK: - tokenizer.json

    /// Reads a `"normalizer"` object.
    public init(json: JSONValue) throws {
        let type = try JSONFields(json, component: "normalizer").string("type")
        let f = try JSONFields(json, component: "normalizer '\(type)'")
        switch type {
        case "BertNormalizer":
            self = .bert(cleanText: try f.bool("clean_text", default: true),
                         handleChineseCharacters: try f.bool("handle_chinese_chars", default: true),
                         stripAccents: try f.optionalBool("strip_accents"),
                         lowercase: try f.bool("lowercase", default: true))
        case "Lowercase": self = .lowercase
        case "NFD": self = .nfd
        case "NFKD": self = .nfkd
        case "NFC": self = .nfc
        case "NFKC": self = .nfkc
        case "StripAccents": self = .stripAccents
        case "Strip": self = .strip(left: try f.bool("strip_left", default: true), right: try f.bool("strip_right", default: true))
        case "Replace":
            let pattern = try JSONFields(json["pattern"] ?? .null, component: "normalizer 'Replace' pattern")
            guard let string = try pattern.optionalString("String") else {
                throw RNNError("tokenizer.json: unsupported normalizer 'Replace' with a Regex pattern (only String patterns)")
            }
            self = .replace(pattern: string, content: try f.string("content"))
        case "Sequence":
            self = .sequence(try f.array("normalizers").map(Normalizer.init(json:)))
        default:
            throw RNNError("tokenizer.json: unsupported normalizer '\(type)'")
        }
    }

    /// The `"normalizer"` object the Python library reads.
    public var json: JSONValue {
        switch self {
        case let .bert(cleanText, handleChinese, stripAccents, lowercase):
            return .object([("type", .string("BertNormalizer")), ("clean_text", .bool(cleanText)),
                            ("handle_chinese_chars", .bool(handleChinese)),
                            ("strip_accents", stripAccents.map(JSONValue.bool) ?? .null), ("lowercase", .bool(lowercase))])
        case .lowercase: return .object([("type", .string("Lowercase"))])
        case .nfd: return .object([("type", .string("NFD"))])
        case .nfkd: return .object([("type", .string("NFKD"))])
        case .nfc: return .object([("type", .string("NFC"))])
        case .nfkc: return .object([("type", .string("NFKC"))])
        case .stripAccents: return .object([("type", .string("StripAccents"))])
        case let .strip(left, right):
            return .object([("type", .string("Strip")), ("strip_left", .bool(left)), ("strip_right", .bool(right))])
        case let .replace(pattern, content):
            return .object([("type", .string("Replace")), ("pattern", .object([("String", .string(pattern))])),
                            ("content", .string(content))])
        case let .sequence(normalizers):
            return .object([("type", .string("Sequence")), ("normalizers", .array(normalizers.map(\.json)))])
        }
    }
}
