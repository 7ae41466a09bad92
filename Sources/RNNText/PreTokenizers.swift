import RNNCore

/// What a split does with the delimiters it finds (HuggingFace `SplitDelimiterBehavior`).
public enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"
}

/// A pre-tokenizer of a `tokenizer.json` (`"pre_tokenizer"`): splits normalized text into the
/// words the model tokenizes one at a time. Each case behaves as the HuggingFace pre-tokenizer
/// of the same name; empty words are dropped.
public indirect enum PreTokenizer: Equatable, Sendable {
    /// `BertPreTokenizer`: split on whitespace (removed), then isolate every punctuation character.
    case bert
    /// `ByteLevel`: optionally a leading space, the GPT-2 split regex, then each word's UTF-8 bytes
    /// as `ByteLevelAlphabet` scalars. `trimOffsets` only affects offsets, kept for the file.
    case byteLevel(addPrefixSpace: Bool, trimOffsets: Bool, useRegex: Bool)
    /// `Whitespace`: the regex `\w+|[^\w\s]+`.
    case whitespace
    /// `WhitespaceSplit`: split on whitespace, removed.
    case whitespaceSplit
    /// `Punctuation`: split on every punctuation character.
    case punctuation(SplitBehavior)
    /// `Split` with a string pattern.
    case split(pattern: String, behavior: SplitBehavior, invert: Bool)
    case sequence([PreTokenizer])

    /// Splits one normalized piece of text into words.
    public func preTokenize(_ text: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = text.isEmpty ? [] : [text]
        apply(to: &words)
        return words
    }

    /// Replaces each word of `words` by its own split.
    func apply(to words: inout [[Unicode.Scalar]]) {
        switch self {
        case let .sequence(steps):
            for step in steps { step.apply(to: &words) }
        default:
            var out: [[Unicode.Scalar]] = []
            out.reserveCapacity(words.count * 2)
            for word in words { split(word, into: &out) }
            words = out
        }
    }

    private func split(_ word: [Unicode.Scalar], into out: inout [[Unicode.Scalar]]) {
        switch self {
        case .bert:
            var start = 0
            for (i, c) in word.enumerated() {
                if CharacterClass.isWhitespace(c) {
                    if start < i { out.append(Array(word[start..<i])) }
                    start = i + 1
                } else if CharacterClass.isBertPunctuation(c) {
                    if start < i { out.append(Array(word[start..<i])) }
                    out.append([c])
                    start = i + 1
                }
            }
            if start < word.count { out.append(Array(word[start...])) }
        case .whitespaceSplit:
            var start = 0
            for (i, c) in word.enumerated() where CharacterClass.isWhitespace(c) {
                if start < i { out.append(Array(word[start..<i])) }
                start = i + 1
            }
            if start < word.count { out.append(Array(word[start...])) }
        case let .byteLevel(addPrefixSpace, _, useRegex):
            var text = word
            if addPrefixSpace && text.first != " " { text.insert(" ", at: 0) }
            if useRegex {
                for range in GPT2Split.ranges(text) { out.append(ByteLevelAlphabet.encode(Array(text[range]))) }
            } else {
                out.append(ByteLevelAlphabet.encode(text))
            }
        case .whitespace:
            var i = 0
            while i < word.count {
                let c = word[i]
                if CharacterClass.isWhitespace(c) { i += 1; continue }
                let isWord = CharacterClass.isWordCharacter(c)
                var j = i + 1
                while j < word.count, !CharacterClass.isWhitespace(word[j]), CharacterClass.isWordCharacter(word[j]) == isWord { j += 1 }
                out.append(Array(word[i..<j]))
                i = j
            }
        case let .punctuation(behavior):
            var matches: [(Range<Int>, Bool)] = []
            var start = 0
            for (i, c) in word.enumerated() where CharacterClass.isBertPunctuation(c) {
                if start < i { matches.append((start..<i, false)) }
                matches.append((i..<i + 1, true))
                start = i + 1
            }
            if start < word.count { matches.append((start..<word.count, false)) }
            PreTokenizer.emit(word, matches: matches, behavior: behavior, into: &out)
        case let .split(pattern, behavior, invert):
            let p = Array(pattern.unicodeScalars)
            var matches: [(Range<Int>, Bool)] = []
            var start = 0, i = 0
            while !p.isEmpty, i + p.count <= word.count {
                if word[i..<i + p.count].elementsEqual(p) {
                    if start < i { matches.append((start..<i, invert)) }
                    matches.append((i..<i + p.count, !invert))
                    i += p.count
                    start = i
                } else {
                    i += 1
                }
            }
            if start < word.count { matches.append((start..<word.count, invert)) }
            PreTokenizer.emit(word, matches: matches, behavior: behavior, into: &out)
        case .sequence:
            preconditionFailure("sequences are applied by apply(to:)")
        }
    }

    /// Turns (range, isDelimiter) spans into words as HuggingFace's `NormalizedString::split`.
    private static func emit(_ word: [Unicode.Scalar], matches: [(Range<Int>, Bool)], behavior: SplitBehavior,
                             into out: inout [[Unicode.Scalar]]) {
        var spans: [Range<Int>] = []
        var previousMatch = false
        switch behavior {
        case .isolated: spans = matches.map(\.0)
        case .removed: spans = matches.filter { !$0.1 }.map(\.0)
        case .contiguous:
            for (range, isMatch) in matches {
                if isMatch == previousMatch, let last = spans.last {
                    spans[spans.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    spans.append(range)
                }
                previousMatch = isMatch
            }
        case .mergedWithPrevious:
            for (range, isMatch) in matches {
                if isMatch && !previousMatch, let last = spans.last {
                    spans[spans.count - 1] = last.lowerBound..<range.upperBound
                } else {
                    spans.append(range)
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            for (range, isMatch) in matches.reversed() {
                if isMatch && !previousMatch, let last = spans.last {
                    spans[spans.count - 1] = range.lowerBound..<last.upperBound
                } else {
                    spans.append(range)
                }
                previousMatch = isMatch
            }
            spans.reverse()
        }
        for span in spans where !span.isEmpty { out.append(Array(word[span])) }
    }

    // MARK: - tokenizer.json

    /// Reads a `"pre_tokenizer"` object.
    public init(json: JSONValue) throws {
        let type = try JSONFields(json, component: "pre_tokenizer").string("type")
        let f = try JSONFields(json, component: "pre_tokenizer '\(type)'")
        func behavior(_ key: String) throws -> SplitBehavior {
            let name = try f.optionalString(key) ?? "Isolated"
            guard let b = SplitBehavior(rawValue: name) else { throw f.missing(key, "a split behavior such as 'Isolated'") }
            return b
        }
        switch type {
        case "BertPreTokenizer": self = .bert
        case "ByteLevel":
            self = .byteLevel(addPrefixSpace: try f.bool("add_prefix_space", default: true),
                              trimOffsets: try f.bool("trim_offsets", default: true),
                              useRegex: try f.bool("use_regex", default: true))
        case "Whitespace": self = .whitespace
        case "WhitespaceSplit": self = .whitespaceSplit
        case "Punctuation": self = .punctuation(try behavior("behavior"))
        case "Split":
            let pattern = try JSONFields(json["pattern"] ?? .null, component: "pre_tokenizer 'Split' pattern")
            guard let string = try pattern.optionalString("String") else {
                throw RNNError("tokenizer.json: unsupported pre_tokenizer 'Split' with a Regex pattern (only String patterns)")
            }
            self = .split(pattern: string, behavior: try behavior("behavior"), invert: try f.bool("invert", default: false))
        case "Sequence":
            self = .sequence(try f.array("pretokenizers").map(PreTokenizer.init(json:)))
        default:
            throw RNNError("tokenizer.json: unsupported pre_tokenizer '\(type)'")
        }
    }

    /// The `"pre_tokenizer"` object the Python library reads.
    public var json: JSONValue {
        switch self {
        case .bert: return .object([("type", .string("BertPreTokenizer"))])
        case let .byteLevel(addPrefixSpace, trimOffsets, useRegex):
            return .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(addPrefixSpace)),
                            ("trim_offsets", .bool(trimOffsets)), ("use_regex", .bool(useRegex))])
        case .whitespace: return .object([("type", .string("Whitespace"))])
        case .whitespaceSplit: return .object([("type", .string("WhitespaceSplit"))])
        case let .punctuation(behavior):
            return .object([("type", .string("Punctuation")), ("behavior", .string(behavior.rawValue))])
        case let .split(pattern, behavior, invert):
            return .object([("type", .string("Split")), ("pattern", .object([("String", .string(pattern))])),
                            ("behavior", .string(behavior.rawValue)), ("invert", .bool(invert))])
        case let .sequence(steps):
            return .object([("type", .string("Sequence")), ("pretokenizers", .array(steps.map(\.json)))])
        }
    }
}

/// The GPT-2 split regex
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, by hand:
/// the alternatives are tried in order at each position, as Oniguruma does.
enum GPT2Split {
    static func ranges(_ s: [Unicode.Scalar]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        let n = s.count
        var i = 0
        @inline(__always) func isOther(_ c: Unicode.Scalar) -> Bool {
            !CharacterClass.isWhitespace(c) && !CharacterClass.isLetter(c) && !CharacterClass.isNumber(c)
        }
        while i < n {
            let c = s[i]
            // 's 't 're 've 'm 'll 'd
            if c == "'", i + 1 < n {
                let a = s[i + 1]
                var length = 0
                if a == "s" || a == "t" || a == "m" || a == "d" {
                    length = 2
                } else if i + 2 < n, (a == "r" && s[i + 2] == "e") || (a == "v" && s[i + 2] == "e") || (a == "l" && s[i + 2] == "l") {
                    length = 3
                }
                if length > 0 { result.append(i..<i + length); i += length; continue }
            }
            // ` ?X+` for X in letters, numbers, others
            let start = i
            var first = i
            if c == " ", i + 1 < n { first = i + 1 }
            let head = s[first]
            let classTest: ((Unicode.Scalar) -> Bool)?
            if CharacterClass.isLetter(head) {
                classTest = CharacterClass.isLetter
            } else if CharacterClass.isNumber(head) {
                classTest = CharacterClass.isNumber
            } else if isOther(head) {
                classTest = isOther
            } else {
                classTest = nil
            }
            if let test = classTest, first == i || c == " " {
                var j = first + 1
                while j < n, test(s[j]) { j += 1 }
                result.append(start..<j)
                i = j
                continue
            }
            // \s+(?!\S) | \s+
            var j = i
            while j < n, CharacterClass.isWhitespace(s[j]) { j += 1 }
            if j == n || j - i == 1 {
                result.append(i..<j)
            } else {
                result.append(i..<j - 1)
                j -= 1
            }
            i = j
        }
        return result
    }
}
