import RNNCore

/// Builds a word or character vocabulary from a corpus: special tokens first (in the order
/// given, so `[PAD]` = 0 and `[UNK]` = 1 by default), then every unit seen at least
/// `minFrequency` times, most frequent first, ties in code-point order, up to `maxSize` in all.
public struct WordLevelTrainer: Sendable {
    /// What one vocabulary entry is.
    public enum Unit: Sendable { case word, character }

    public var unit: Unit
    public var minFrequency: Int
    /// Largest vocabulary, special tokens included; nil for no limit.
    public var maxSize: Int?
    public var specialTokens: [String]

    public init(unit: Unit = .word, minFrequency: Int = 1, maxSize: Int? = nil,
                specialTokens: [String] = ["[PAD]", "[UNK]"]) {
        self.unit = unit
        self.minFrequency = minFrequency
        self.maxSize = maxSize
        self.specialTokens = specialTokens
    }

    /// Counts the words (or characters) `tokenizer`'s normalizer and pre-tokenizer make of `texts`.
    public func train<Texts: Sequence>(on texts: Texts, using tokenizer: Tokenizer) throws -> Vocabulary where Texts.Element == String {
        var counts: [String: Int] = [:]
        for text in texts {
            for word in tokenizer.words(in: text) {
                switch unit {
                case .word: counts[word.string, default: 0] += 1
                case .character: for c in word { counts[String(c), default: 0] += 1 }
                }
            }
        }
        return try vocabulary(from: counts)
    }

    /// The vocabulary of already counted units.
    public func vocabulary(from counts: [String: Int]) throws -> Vocabulary {
        guard minFrequency >= 1 else { throw RNNError("WordLevelTrainer: minFrequency must be at least 1, got \(minFrequency)") }
        if let maxSize, maxSize < specialTokens.count {
            throw RNNError("WordLevelTrainer: maxSize \(maxSize) is smaller than the \(specialTokens.count) special tokens")
        }
        var tokens: [String] = []
        var seen = Set<String>()
        for token in specialTokens where seen.insert(token).inserted { tokens.append(token) }
        let ranked = counts.filter { $0.value >= minFrequency && !seen.contains($0.key) }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }
        for (token, _) in ranked {
            if let maxSize, tokens.count >= maxSize { break }
            tokens.append(token)
        }
        return Vocabulary(tokens)
    }
}

extension Tokenizer {
    /// The words the normalizer and pre-tokenizer make of `text`, added tokens left out:
    /// what a trainer counts.
    public func words(in text: String) -> [[Unicode.Scalar]] {
        var result: [[Unicode.Scalar]] = []
        let scalars = Array(text.unicodeScalars)
        for piece in rawMatcher.split(scalars) where piece.token == nil {
            var normalized = Array(scalars[piece.range])
            normalizer?.normalize(&normalized)
            result += preTokenizer?.preTokenize(normalized) ?? (normalized.isEmpty ? [] : [normalized])
        }
        return result
    }
}
