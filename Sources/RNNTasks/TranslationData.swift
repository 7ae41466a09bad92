import Foundation
import RNN
import RNNCore
import RNNText

/// Sentence pairs read from parallel files (line i of one translates line i of the other) or
/// from one file of `source<TAB>target` lines. Every sentence is non-empty; `location(i)` names
/// the file and line of pair i for error messages.
public struct ParallelCorpus: Sendable {
    public var sources: [String]
    public var targets: [String]
    public let sourcePath: String
    public let targetPath: String?

    public var count: Int { sources.count }

    /// File and 1-based line of pair `index` on the source side (the target side in parallel files).
    public func location(_ index: Int, target: Bool = false) -> String {
        "\(target ? (targetPath ?? sourcePath) : sourcePath) line \(index + 1)"
    }

    /// - target: the target file; nil when `source` is a two-column TSV.
    public init(source: String, target: String?) throws {
        sourcePath = source
        targetPath = target
        let sourceLines = try BLEU.readSentences(path: source)
        guard !sourceLines.isEmpty else { throw RNNError.invalidFile(source, "is empty; give one sentence per line") }
        if let target {
            let targetLines = try BLEU.readSentences(path: target)
            guard sourceLines.count == targetLines.count else {
                throw RNNError("\(source) has \(sourceLines.count) lines but \(target) has \(targetLines.count); "
                    + "parallel files need one target line per source line")
            }
            sources = sourceLines
            targets = targetLines
        } else {
            sources = []
            targets = []
            for (index, line) in sourceLines.enumerated() {
                let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
                guard columns.count == 2 else {
                    throw RNNError("\(source) line \(index + 1): expected two tab-separated columns (source, target), found \(columns.count); "
                        + "or give --target for parallel files")
                }
                sources.append(String(columns[0]))
                targets.append(String(columns[1]))
            }
        }
        for index in 0..<sources.count {
            if sources[index].allSatisfy(\.isWhitespace) { throw RNNError("\(location(index)): empty source sentence") }
            if targets[index].allSatisfy(\.isWhitespace) { throw RNNError("\(location(index, target: true)): empty target sentence") }
        }
    }

    init(sources: [String], targets: [String], sourcePath: String, targetPath: String?) {
        self.sources = sources
        self.targets = targets
        self.sourcePath = sourcePath
        self.targetPath = targetPath
    }
}

/// The special tokens a translation tokenizer needs besides `[PAD]` and `[UNK]`.
public enum TranslationTokens {
    public static let start = "[BOS]", end = "[EOS]"

    /// Start and end ids of a tokenizer: `[BOS]`/`<s>`/`[CLS]` and `[EOS]`/`</s>`/`[SEP]`.
    public static func ids(in tokenizer: Tokenizer, name: String) throws -> (start: Int, end: Int) {
        guard let start = tokenizer.tokenToId(start) ?? tokenizer.tokenToId("<s>") ?? tokenizer.tokenToId("[CLS]"),
              let end = tokenizer.tokenToId(end) ?? tokenizer.tokenToId("</s>") ?? tokenizer.tokenToId("[SEP]") else {
            throw RNNError("\(name) has no start and end tokens ([BOS]/<s>/[CLS] and [EOS]/</s>/[SEP]); a translation target needs both")
        }
        return (start, end)
    }

    /// A tokenizer for one side of a translation model, trained on `texts`. The word tokenizer
    /// keeps case (the output is scored cased) and splits punctuation; the others are those of
    /// `TokenizerChoice`, with `[BOS]` and `[EOS]` added.
    public static func make(_ choice: TokenizerChoice, texts: [String], vocabularySize: Int, minFrequency: Int) throws -> Tokenizer {
        switch choice {
        case .word:
            return try Tokenizer.trainWordLevel(on: texts, minFrequency: minFrequency, maxSize: vocabularySize,
                                                specialTokens: ["[PAD]", "[UNK]", start, end], normalizer: nil)
        default:
            return try choice.make(texts: texts, vocabularySize: vocabularySize, minFrequency: minFrequency, extraSpecialTokens: [start, end])
        }
    }
}

/// Joins word-level tokens back into text: no space before closing punctuation, none after
/// opening brackets, hyphens and apostrophes inside words (`T - shirt` → `T-shirt`,
/// `man ' s` → `man's`). Used when the target tokenizer has no decoder of its own.
public func detokenize(_ tokens: [String]) -> String {
    let closing: Set<String> = [".", ",", "!", "?", ";", ":", ")", "]", "}", "%"]
    let opening: Set<String> = ["(", "[", "{", "$"]
    let joining: Set<String> = ["-", "'", "/"]
    var text = ""
    var glueNext = true
    for token in tokens {
        let glue = glueNext || closing.contains(token) || joining.contains(token)
        if !glue { text += " " }
        text += token
        glueNext = opening.contains(token) || joining.contains(token)
    }
    return text
}

/// The transposition toy task: random sequences of symbols (`a` … `j` by default, space
/// separated) and their reversal. The model must read the whole input before it writes the
/// first output word — the task where attention visibly beats a fixed-size summary.
public struct TranspositionTask: Sendable {
    public var symbols: [String]
    public var minLength: Int
    public var maxLength: Int

    public init(symbols: [String] = (0..<10).map { String(UnicodeScalar(UInt8(97 + $0))) }, minLength: Int = 3, maxLength: Int = 12) throws {
        guard !symbols.isEmpty, minLength >= 1, maxLength >= minLength else {
            throw RNNError("transposition task: need symbols and 1 ≤ --min-length ≤ --max-length, got \(minLength)…\(maxLength)")
        }
        self.symbols = symbols
        self.minLength = minLength
        self.maxLength = maxLength
    }

    /// `count` (source, reversed source) pairs with lengths uniform in minLength…maxLength.
    public func pairs(count: Int, generator: inout SeededGenerator) -> [(source: String, target: String)] {
        (0..<count).map { _ in
            let length = minLength + Int(generator.next() % UInt64(maxLength - minLength + 1))
            let words = (0..<length).map { _ in symbols[Int(generator.next() % UInt64(symbols.count))] }
            return (words.joined(separator: " "), words.reversed().joined(separator: " "))
        }
    }

    /// Writes `train.src`, `train.tgt`, `val.src`, `val.tgt` into `directory` (atomically).
    public func write(to directory: String, trainCount: Int, validationCount: Int, seed: UInt64) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RNNError.invalidFile(directory, "cannot create the directory (\(error.localizedDescription))")
        }
        var generator = SeededGenerator(seed: seed)
        for (name, count) in [("train", trainCount), ("val", validationCount)] {
            let pairs = self.pairs(count: count, generator: &generator)
            try AtomicFile.write(Data((pairs.map(\.source).joined(separator: "\n") + "\n").utf8), to: directory + "/\(name).src")
            try AtomicFile.write(Data((pairs.map(\.target).joined(separator: "\n") + "\n").utf8), to: directory + "/\(name).tgt")
        }
    }
}
