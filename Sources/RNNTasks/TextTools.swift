import Foundation
import RNNCore
import RNNText

/// Reads text one line at a time from a C stream (standard input for `rnn tokenize`), streaming in
/// constant memory. Each line comes without its `\n` (and without a `\r` before it); a line that is
/// not valid UTF-8 is an error naming the source and line instead of being silently repaired.
public final class InputLines {
    /// Names the source in errors: "standard input" or a path.
    public let name: String
    /// 1-based number of the line last returned by `next()` (0 before the first).
    public private(set) var lineNumber = 0
    private let file: UnsafeMutablePointer<FILE>
    private let closesFile: Bool
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0

    /// Standard input. (Opened from file descriptor 0 rather than the C global `stdin`, which
    /// Swift 6 treats as shared mutable state.)
    public static func standardInput() throws -> InputLines {
        guard let file = fdopen(0, "rb") else {
            throw RNNError("cannot read standard input: \(String(cString: strerror(errno)))")
        }
        return InputLines(file: file, name: "standard input", closesFile: false)
    }

    /// A file, e.g. in tests or for `--input`.
    public convenience init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw RNNError.invalidFile(path, "no such file; check the path")
        }
        guard let file = fopen(path, "rb") else {
            throw RNNError.invalidFile(path, "cannot open: \(String(cString: strerror(errno)))")
        }
        self.init(file: file, name: path, closesFile: true)
    }

    private init(file: UnsafeMutablePointer<FILE>, name: String, closesFile: Bool) {
        self.file = file
        self.name = name
        self.closesFile = closesFile
    }

    deinit {
        free(buffer)
        if closesFile { fclose(file) }
    }

    /// Where the last line came from, for messages: "standard input line 3".
    public var location: String { "\(name) line \(lineNumber)" }

    /// The next line as a String, or nil at the end of the input.
    public func next() throws -> String? {
        let length = getline(&buffer, &capacity, file)
        guard length >= 0, let buffer else {
            if ferror(file) != 0 {
                throw RNNError("\(name): read failed after line \(lineNumber): \(String(cString: strerror(errno)))")
            }
            return nil
        }
        lineNumber += 1
        var count = length
        if count > 0, buffer[count - 1] == 0x0A { count -= 1 }
        if count > 0, buffer[count - 1] == 0x0D { count -= 1 }
        let bytes = UnsafeRawBufferPointer(start: buffer, count: count)
        guard let line = String(validating: bytes, as: UTF8.self) else {
            throw RNNError("\(location): invalid UTF-8 (at byte \(Self.firstInvalidByte(bytes))); "
                + "convert the input to UTF-8 first, e.g. with iconv -f latin1 -t utf-8")
        }
        return line
    }

    /// 0-based offset of the first byte that starts an invalid UTF-8 sequence.
    static func firstInvalidByte(_ bytes: UnsafeRawBufferPointer) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while case .valid(let scalar) = parser.parseScalar(from: &iterator) { offset += scalar.count }
        return offset
    }
}

/// Checks on the file a command will write, made before a long computation rather than after it.
public enum OutputFile {
    /// Throws unless `path`'s folder exists and `path` is not itself a folder.
    public static func checkWritable(_ path: String) throws {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw RNNError.invalidFile(path, "is a folder; give a file name for the output")
        }
        let folder = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RNNError.invalidFile(path, "folder \(folder) does not exist; create it first")
        }
        guard FileManager.default.isWritableFile(atPath: folder) else {
            throw RNNError.invalidFile(path, "cannot write in \(folder) (no permission?)")
        }
    }
}

/// The line formats of `rnn tokenize`: parsing its input lines and writing its output lines.
public enum TokenizeLines {
    /// The text of a JSON Lines record `{"text": "..."}` (`field` names the key).
    public static func text(ofJSONLine line: String, field: String = "text", location: String) throws -> String {
        guard line.drop(while: \.isWhitespace).first == "{" else {
            throw RNNError("\(location): not a JSON object; each line must look like {\"\(field)\": \"...\"}")
        }
        let value = try JSONValue.parse(Array(line.utf8), context: location)
        guard value.objectValue != nil else {
            throw RNNError("\(location): expected a JSON object with a \"\(field)\" field")
        }
        guard let text = value[field] else {
            throw RNNError("\(location): no \"\(field)\" field in the JSON object")
        }
        guard let string = text.stringValue else {
            throw RNNError("\(location): the \"\(field)\" field must be a string")
        }
        return string
    }

    /// `{"ids":[...],"tokens":[...]}`: one encoding as one compact JSON line.
    public static func jsonLine(_ encoding: Encoding) -> String {
        JSONValue.object([
            ("ids", .array(encoding.ids.map { .int($0) })),
            ("tokens", .array(encoding.tokens.map { .string($0) })),
        ]).serialized(indent: 0)
    }

    /// The ids, separated by single spaces.
    public static func idLine(_ ids: [Int]) -> String {
        ids.map(String.init).joined(separator: " ")
    }

    /// Token ids written as in `idLine` (spaces, tabs or commas between them; a JSON-style `[...]`
    /// is accepted too). Every id must belong to `tokenizer`, so a typo is reported, not skipped.
    public static func ids(ofLine line: String, tokenizer: Tokenizer, location: String) throws -> [Int] {
        let separators: Set<Character> = [" ", "\t", ",", "[", "]"]
        return try line.split(whereSeparator: { separators.contains($0) }).map { field in
            guard let id = Int(field), id >= 0 else {
                throw RNNError("\(location): '\(field)' is not a token id (expected whole numbers separated by spaces)")
            }
            guard tokenizer.idToToken(id) != nil else {
                throw RNNError("\(location): token id \(id) is not in the tokenizer's vocabulary (\(tokenizer.vocabSize) tokens)")
            }
            return id
        }
    }
}

/// The tokenizer kinds `rnn tokenizer train` can train.
public enum TrainableTokenizerKind: String, CaseIterable, Sendable {
    case word, char, wordpiece, bpe

    /// Parses `--kind`; an unknown name is one error listing the choices.
    public init(parsing name: String) throws {
        guard let kind = Self(rawValue: name.lowercased()) else {
            throw RNNError("unknown tokenizer kind '\(name)'; use one of: "
                + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = kind
    }

    /// The minimum frequency used when none is given: 1 for characters (keep every character
    /// seen), 2 for the others (drop words and pairs seen once).
    public var defaultMinFrequency: Int { self == .char ? 1 : 2 }

    /// Trains a tokenizer of this kind on `texts`. `vocabSize` is the target size (required for
    /// WordPiece and BPE, an upper bound for word and character vocabularies, nil: no bound).
    public func train(on texts: [String], vocabSize: Int?, minFrequency: Int? = nil) throws -> Tokenizer {
        try checkOptions(vocabSize: vocabSize, minFrequency: minFrequency)
        let minFrequency = minFrequency ?? defaultMinFrequency
        switch self {
        case .word:
            return try Tokenizer.trainWordLevel(on: texts, minFrequency: minFrequency, maxSize: vocabSize)
        case .char:
            return try Tokenizer.trainCharacterLevel(on: texts, minFrequency: minFrequency, maxSize: vocabSize)
        case .wordpiece:
            return try Tokenizer.trainWordPiece(on: texts, vocabSize: try required(vocabSize), minFrequency: minFrequency)
        case .bpe:
            return try Tokenizer.trainByteLevelBPE(on: texts, vocabSize: try required(vocabSize), minFrequency: minFrequency)
        }
    }

    /// Throws if the options cannot work for this kind; call it before reading a large data set.
    public func checkOptions(vocabSize: Int?, minFrequency: Int?) throws {
        if let vocabSize, vocabSize < 1 { throw RNNError("--vocab-size must be positive, got \(vocabSize)") }
        if let minFrequency, minFrequency < 1 { throw RNNError("--min-frequency must be at least 1, got \(minFrequency)") }
        if self == .wordpiece || self == .bpe { _ = try required(vocabSize) }
    }

    private func required(_ vocabSize: Int?) throws -> Int {
        guard let vocabSize else { throw RNNError("--vocab-size is required for --kind \(rawValue) (e.g. --vocab-size 8000)") }
        return vocabSize
    }
}

/// Times a tokenizer on a set of texts, one thread, as `rnn tokenize --benchmark` reports it.
public struct TokenizationBenchmark: Sendable {
    /// Wall-clock seconds of each run over all texts.
    public let secondsPerRun: [Double]
    /// CPU seconds of this thread in each run: on a shared machine, less disturbed by other
    /// processes than wall-clock time.
    public let cpuSecondsPerRun: [Double]
    public let texts: Int
    /// Tokens produced per run (special tokens included when they are added).
    public let tokens: Int
    /// UTF-8 bytes of all texts.
    public let bytes: Int

    /// The median of `secondsPerRun`.
    public var medianSeconds: Double { Self.median(secondsPerRun) }
    /// The median of `cpuSecondsPerRun`.
    public var medianCPUSeconds: Double { Self.median(cpuSecondsPerRun) }

    /// The middle value (the mean of the middle two for an even count); 0 for none.
    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Encodes every text `runs` times with `Tokenizer.encode`, timing each pass.
    public static func run(_ tokenizer: Tokenizer, on texts: [String], runs: Int,
                           addSpecialTokens: Bool = true) throws -> TokenizationBenchmark {
        guard runs >= 1 else { throw RNNError("--runs must be at least 1, got \(runs)") }
        guard !texts.isEmpty else { throw RNNError("benchmark: no texts to encode") }
        var seconds: [Double] = [], cpuSeconds: [Double] = []
        var tokens = 0
        for _ in 0..<runs {
            tokens = 0
            let start = DispatchTime.now().uptimeNanoseconds, cpuStart = threadCPUSeconds()
            for text in texts { tokens += tokenizer.encode(text, addSpecialTokens: addSpecialTokens).count }
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            cpuSeconds.append(threadCPUSeconds() - cpuStart)
        }
        return TokenizationBenchmark(secondsPerRun: seconds, cpuSecondsPerRun: cpuSeconds, texts: texts.count, tokens: tokens,
                                     bytes: texts.reduce(0) { $0 + $1.utf8.count })
    }

    /// CPU time used by the calling thread so far.
    private static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
