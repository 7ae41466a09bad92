import RNNCore

/// A token matched in the text as a whole before (or, if `normalized`, after) normalization,
/// such as `[CLS]` or `<|endoftext|>` (`added_tokens` in `tokenizer.json`).
public struct AddedToken: Equatable, Sendable {
    public var id: Int
    public var content: String
    /// Matches only when not inside a word (`\w` on neither side).
    public var singleWord: Bool
    /// The match also takes the whitespace on its left / right.
    public var lstrip: Bool
    public var rstrip: Bool
    /// Matched in the normalized text instead of the raw text.
    public var normalized: Bool
    /// Special tokens are skipped when decoding with `skipSpecialTokens`.
    public var special: Bool

    public init(id: Int, content: String, singleWord: Bool = false, lstrip: Bool = false, rstrip: Bool = false,
                normalized: Bool = false, special: Bool = true) {
        self.id = id
        self.content = content
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized
        self.special = special
    }

    init(json: JSONValue) throws {
        let f = try JSONFields(json, component: "added_tokens entry")
        let special = try f.bool("special", default: false)
        self.init(id: try f.int("id"), content: try f.string("content"), singleWord: try f.bool("single_word", default: false),
                  lstrip: try f.bool("lstrip", default: false), rstrip: try f.bool("rstrip", default: false),
                  normalized: try f.bool("normalized", default: !special), special: special)
    }

    var json: JSONValue {
        .object([("id", .int(id)), ("content", .string(content)), ("single_word", .bool(singleWord)),
                 ("lstrip", .bool(lstrip)), ("rstrip", .bool(rstrip)), ("normalized", .bool(normalized)),
                 ("special", .bool(special))])
    }
}

/// Finds added tokens in text: leftmost match first, the longest one at that position, as the
/// Aho-Corasick `LeftmostLongest` search of the Python library.
struct AddedTokenMatcher: Sendable {
    private struct Pattern: Sendable {
        var scalars: [Unicode.Scalar]
        var token: AddedToken
    }

    /// Patterns by first scalar, longest first.
    private let patternsByFirst: [Unicode.Scalar: [Pattern]]
    /// `startsASCII[c]`: some pattern starts with ASCII scalar `c`; skips most dictionary lookups.
    private let startsASCII: [Bool]
    private let anyStartsNonASCII: Bool

    /// `contents` overrides what is matched (the normalized form of a normalized token).
    init(_ tokens: [AddedToken], contents: (AddedToken) -> String = { $0.content }) {
        var byFirst: [Unicode.Scalar: [Pattern]] = [:]
        for token in tokens {
            let scalars = Array(contents(token).unicodeScalars)
            guard let first = scalars.first else { continue }
            byFirst[first, default: []].append(Pattern(scalars: scalars, token: token))
        }
        for key in byFirst.keys { byFirst[key]!.sort { $0.scalars.count > $1.scalars.count } }
        patternsByFirst = byFirst
        var ascii = [Bool](repeating: false, count: 128)
        for key in byFirst.keys where key.value < 128 { ascii[Int(key.value)] = true }
        startsASCII = ascii
        anyStartsNonASCII = byFirst.keys.contains { $0.value >= 128 }
    }

    var isEmpty: Bool { patternsByFirst.isEmpty }

    /// Splits `text` into pieces: plain text (`token == nil`) and matched added tokens.
    func split(_ text: [Unicode.Scalar]) -> [(range: Range<Int>, token: AddedToken?)] {
        guard !isEmpty else { return [(0..<text.count, nil)] }
        var pieces: [(range: Range<Int>, token: AddedToken?)] = []
        var pieceStart = 0
        var i = 0
        let n = text.count
        while i < n {
            let v = text[i].value
            if v < 128 ? !startsASCII[Int(v)] : !anyStartsNonASCII { i += 1; continue }
            guard let candidates = patternsByFirst[text[i]],
                  let pattern = candidates.first(where: { i + $0.scalars.count <= n && text[i..<i + $0.scalars.count].elementsEqual($0.scalars) })
            else { i += 1; continue }
            var start = i, stop = i + pattern.scalars.count
            let token = pattern.token
            if token.singleWord {
                let wordBefore = start > 0 && CharacterClass.isWordCharacter(text[start - 1])
                let wordAfter = stop < n && CharacterClass.isWordCharacter(text[stop])
                if wordBefore || wordAfter { i = stop; continue }
            }
            if token.lstrip {
                while start > pieceStart, CharacterClass.isWhitespace(text[start - 1]) { start -= 1 }
            }
            if token.rstrip {
                while stop < n, CharacterClass.isWhitespace(text[stop]) { stop += 1 }
            }
            if pieceStart < start { pieces.append((pieceStart..<start, nil)) }
            pieces.append((start..<stop, token))
            pieceStart = stop
            i = stop
        }
        if pieceStart < n { pieces.append((pieceStart..<n, nil)) }
        return pieces
    }
}
