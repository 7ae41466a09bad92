import RNNCore

/// Ready-made tokenizers we build and train ourselves. Each is an ordinary `tokenizer.json`
/// pipeline, so it saves, reloads and loads in the Python library like any other.
extension Tokenizer {
    /// IMDB-style word cleanup: HTML line breaks `<br />` become spaces, then lowercase.
    public static let reviewNormalizer = Normalizer.sequence([.replace(pattern: "<br />", content: " "), .lowercase])
    /// Words split at whitespace, each punctuation character a word of its own.
    public static let wordPreTokenizer = PreTokenizer.sequence([.whitespaceSplit, .punctuation(.isolated)])

    /// A word-level tokenizer (`WordLevel` model) over `vocabulary`: `reviewNormalizer`,
    /// `wordPreTokenizer`, unknown words as `unkToken`; `specialTokens` (which must be in the
    /// vocabulary) are matched whole in the raw text and skipped when decoding.
    public static func wordLevel(vocabulary: Vocabulary, unkToken: String = "[UNK]",
                                 specialTokens: [String] = ["[PAD]", "[UNK]"],
                                 normalizer: Normalizer? = reviewNormalizer) throws -> Tokenizer {
        Tokenizer(model: try WordLevelModel(vocabulary: vocabulary, unkToken: unkToken),
                  normalizer: normalizer, preTokenizer: wordPreTokenizer,
                  addedTokens: try addedTokens(specialTokens, in: vocabulary))
    }

    /// Trains a word-level tokenizer on `texts` (see `WordLevelTrainer` for the order of ids).
    public static func trainWordLevel<Texts: Sequence>(on texts: Texts, minFrequency: Int = 1, maxSize: Int? = nil,
                                                       specialTokens: [String] = ["[PAD]", "[UNK]"],
                                                       normalizer: Normalizer? = reviewNormalizer) throws -> Tokenizer
    where Texts.Element == String {
        let counter = Tokenizer(model: try WordLevelModel(vocabulary: Vocabulary(["[UNK]"])), normalizer: normalizer,
                                preTokenizer: wordPreTokenizer, addedTokens: specialTokens.enumerated().map { AddedToken(id: $0, content: $1) })
        let trainer = WordLevelTrainer(unit: .word, minFrequency: minFrequency, maxSize: maxSize, specialTokens: specialTokens)
        return try wordLevel(vocabulary: try trainer.train(on: texts, using: counter), specialTokens: specialTokens, normalizer: normalizer)
    }

    /// A character-level tokenizer over `vocabulary`: a `BPE` model without merges and without a
    /// pre-tokenizer, so every character (spaces and newlines included) is one token, unknown ones
    /// `unkToken`; a `Fuse` decoder joins them back without spaces.
    public static func characterLevel(vocabulary: Vocabulary, unkToken: String = "[UNK]",
                                      specialTokens: [String] = ["[PAD]", "[UNK]"],
                                      normalizer: Normalizer? = nil) throws -> Tokenizer {
        Tokenizer(model: try BPEModel(vocabulary: vocabulary, merges: [], unkToken: unkToken),
                  normalizer: normalizer, decoder: .fuse, addedTokens: try addedTokens(specialTokens, in: vocabulary))
    }

    /// Trains a character-level tokenizer on `texts`.
    public static func trainCharacterLevel<Texts: Sequence>(on texts: Texts, minFrequency: Int = 1, maxSize: Int? = nil,
                                                            specialTokens: [String] = ["[PAD]", "[UNK]"],
                                                            normalizer: Normalizer? = nil) throws -> Tokenizer
    where Texts.Element == String {
        let counter = Tokenizer(model: try WordLevelModel(vocabulary: Vocabulary(["[UNK]"])), normalizer: normalizer,
                                addedTokens: specialTokens.enumerated().map { AddedToken(id: $0, content: $1) })
        let trainer = WordLevelTrainer(unit: .character, minFrequency: minFrequency, maxSize: maxSize, specialTokens: specialTokens)
        return try characterLevel(vocabulary: try trainer.train(on: texts, using: counter), specialTokens: specialTokens,
                                  normalizer: normalizer)
    }

    /// Special added tokens for `tokens`, with their ids in `vocabulary`.
    static func addedTokens(_ tokens: [String], in vocabulary: Vocabulary) throws -> [AddedToken] {
        try tokens.map { token in
            guard let id = vocabulary[token] else { throw RNNError("tokenizer: special token '\(token)' is not in the vocabulary") }
            return AddedToken(id: id, content: token)
        }
    }
}

extension Tokenizer {
    /// Trains a GPT-2 style byte-level BPE tokenizer on `texts`: `ByteLevel` pre-tokenizer (the
    /// GPT-2 regex, no prefix space) and decoder; all 256 bytes are in the alphabet, so no text is
    /// unknown. `vocabSize` counts special tokens, alphabet and merges.
    public static func trainByteLevelBPE<Texts: Sequence>(on texts: Texts, vocabSize: Int, minFrequency: Int = 2,
                                                          specialTokens: [String] = ["[PAD]", "[UNK]"]) throws -> Tokenizer
    where Texts.Element == String {
        let preTokenizer = PreTokenizer.byteLevel(addPrefixSpace: false, trimOffsets: true, useRegex: true)
        let counter = try wordCounter(normalizer: nil, preTokenizer: preTokenizer, specialTokens: specialTokens)
        let trainer = BPETrainer(vocabSize: vocabSize, minFrequency: minFrequency, specialTokens: specialTokens,
                                 initialAlphabet: ByteLevelAlphabet.alphabet)
        let (vocabulary, merges) = try trainer.train(wordCounts: counter.wordCounts(texts))
        return Tokenizer(model: try BPEModel(vocabulary: vocabulary, merges: merges), preTokenizer: preTokenizer,
                         decoder: .byteLevel(addPrefixSpace: true, trimOffsets: true, useRegex: true),
                         addedTokens: try addedTokens(specialTokens, in: vocabulary))
    }

    /// Trains a BERT-style uncased WordPiece tokenizer on `texts` (BPE training with `##`
    /// continuation prefixes, as the Python library's `WordPieceTrainer`): `BertNormalizer`,
    /// `BertPreTokenizer`, `[CLS] … [SEP]` template, `WordPiece` decoder.
    public static func trainWordPiece<Texts: Sequence>(on texts: Texts, vocabSize: Int, minFrequency: Int = 2,
                                                       specialTokens: [String] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]) throws -> Tokenizer
    where Texts.Element == String {
        for required in ["[UNK]", "[CLS]", "[SEP]"] where !specialTokens.contains(required) {
            throw RNNError("trainWordPiece: specialTokens must include \(required)")
        }
        let normalizer = Normalizer.bert(cleanText: true, handleChineseCharacters: true, stripAccents: nil, lowercase: true)
        let counter = try wordCounter(normalizer: normalizer, preTokenizer: .bert, specialTokens: specialTokens)
        let trainer = BPETrainer(vocabSize: vocabSize, minFrequency: minFrequency, specialTokens: specialTokens,
                                 continuingSubwordPrefix: "##")
        let (vocabulary, _) = try trainer.train(wordCounts: counter.wordCounts(texts))
        let cls = vocabulary["[CLS]"]!, sep = vocabulary["[SEP]"]!
        let template = PostProcessor.template(
            single: [.specialToken("[CLS]", typeId: 0), .sequence(second: false, typeId: 0), .specialToken("[SEP]", typeId: 0)],
            pair: [.specialToken("[CLS]", typeId: 0), .sequence(second: false, typeId: 0), .specialToken("[SEP]", typeId: 0),
                   .sequence(second: true, typeId: 1), .specialToken("[SEP]", typeId: 1)],
            specialTokens: [.init(name: "[CLS]", ids: [cls], tokens: ["[CLS]"]), .init(name: "[SEP]", ids: [sep], tokens: ["[SEP]"])])
        return Tokenizer(model: try WordPieceModel(vocabulary: vocabulary), normalizer: normalizer, preTokenizer: .bert,
                         postProcessor: template, decoder: .wordPiece(prefix: "##", cleanup: true),
                         addedTokens: try addedTokens(specialTokens, in: vocabulary))
    }

    /// A tokenizer used only to split training texts into words.
    private static func wordCounter(normalizer: Normalizer?, preTokenizer: PreTokenizer, specialTokens: [String]) throws -> Tokenizer {
        Tokenizer(model: try WordLevelModel(vocabulary: Vocabulary(["[UNK]"])), normalizer: normalizer, preTokenizer: preTokenizer,
                  addedTokens: specialTokens.enumerated().map { AddedToken(id: $0, content: $1) })
    }

    /// How often each word of `texts` occurs, after normalization and pre-tokenization.
    func wordCounts<Texts: Sequence>(_ texts: Texts) -> [String: Int] where Texts.Element == String {
        var counts: [String: Int] = [:]
        for text in texts {
            for word in words(in: text) { counts[word.string, default: 0] += 1 }
        }
        return counts
    }
}
