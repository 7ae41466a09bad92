import Foundation
import RNNCore
import RNNText

/// `--tokenizer word|char|wordpiece|bpe|FILE.json`: train one of our kinds on the training texts,
/// or load a HuggingFace `tokenizer.json`.
public enum TokenizerChoice: Sendable, Equatable, CustomStringConvertible {
    case word, character, wordPiece, bytePairEncoding
    case file(String)

    public init(_ text: String) throws {
        switch text.lowercased() {
        case "word": self = .word
        case "char", "character": self = .character
        case "wordpiece": self = .wordPiece
        case "bpe": self = .bytePairEncoding
        default:
            guard text.hasSuffix(".json") else {
                throw RNNError("unknown --tokenizer '\(text)'; use word, char, wordpiece, bpe or a tokenizer.json path")
            }
            self = .file(text)
        }
    }

    public var description: String {
        switch self {
        case .word: "word"
        case .character: "char"
        case .wordPiece: "wordpiece"
        case .bytePairEncoding: "bpe"
        case .file(let path): path
        }
    }

    /// The tokenizer: trained on `texts` (vocabulary at most `vocabularySize`, words seen at
    /// least `minFrequency` times) or loaded. `specialTokens` come first in a trained vocabulary;
    /// `[PAD]` = 0 and `[UNK]` = 1 always.
    public func make(texts: [String], vocabularySize: Int, minFrequency: Int = 2,
                     extraSpecialTokens: [String] = []) throws -> Tokenizer {
        let specials = ["[PAD]", "[UNK]"] + extraSpecialTokens
        switch self {
        case .word:
            return try Tokenizer.trainWordLevel(on: texts, minFrequency: minFrequency, maxSize: vocabularySize, specialTokens: specials)
        case .character:
            return try Tokenizer.trainCharacterLevel(on: texts, minFrequency: 1, maxSize: vocabularySize, specialTokens: specials)
        case .wordPiece:
            return try Tokenizer.trainWordPiece(on: texts, vocabSize: vocabularySize, minFrequency: minFrequency,
                                                specialTokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + extraSpecialTokens)
        case .bytePairEncoding:
            return try Tokenizer.trainByteLevelBPE(on: texts, vocabSize: vocabularySize, minFrequency: minFrequency, specialTokens: specials)
        case .file(let path):
            return try Tokenizer(contentsOf: path)
        }
    }
}

extension Tokenizer {
    /// The id of the padding token: `[PAD]`, `<pad>`, or the tokenizer's padding setting, else 0.
    public var paddingId: Int {
        tokenToId("[PAD]") ?? tokenToId("<pad>") ?? padding?.padId ?? 0
    }

    /// The tokenizer as `tokenizer.json` bytes.
    public func jsonData() throws -> Data {
        Data(json.serialized().utf8)
    }
}
