import RNNCore

/// Reads unlabelled text: either one document per line (e.g. `imdb-unsup.txt`, streamed, blank
/// lines skipped) or a whole file as one corpus (e.g. `tinyshakespeare/input.txt`, for
/// character-level language models). Line ends (LF or CRLF) are not part of a line's document.
public struct PlainTextReader: Sendable {
    public var path: String
    /// Stop after this many documents (line mode); nil reads them all.
    public var limit: Int?
    /// Whether lines that are empty or only spaces and tabs are skipped (the default) or kept as empty documents.
    public var skipBlankLines: Bool
    public var invalidUTF8: InvalidUTF8Handling

    public init(path: String, limit: Int? = nil, skipBlankLines: Bool = true, invalidUTF8: InvalidUTF8Handling = .fail) {
        self.path = path
        self.limit = limit
        self.skipBlankLines = skipBlankLines
        self.invalidUTF8 = invalidUTF8
    }

    /// Every line as an unlabelled example (up to `limit`).
    public func readLines() throws -> [TextExample] {
        var examples: [TextExample] = []
        try forEachLine { examples.append($0) }
        return examples
    }

    /// Streams the lines as unlabelled examples.
    public func forEachLine(_ body: (TextExample) throws -> Void) throws {
        let reader = try LineReader(path: path)
        var count = 0
        while limit.map({ count < $0 }) ?? true, let raw = try reader.nextLine() {
            let line = droppingCarriageReturn(raw)
            if skipBlankLines, line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let text = try UTF8Decoding.string(line, handling: invalidUTF8, path: path, firstLine: reader.lineNumber)
            try body(TextExample(text: text))
            count += 1
        }
    }

    /// The whole file as one string, exactly as written (line ends included).
    public func readCorpus() throws -> String {
        let bytes = try FileChecks.readAll(path)
        guard !bytes.isEmpty else { throw RNNError.invalidFile(path, "empty file; a corpus needs some text") }
        return try UTF8Decoding.string(bytes, handling: invalidUTF8, path: path, firstLine: 1)
    }
}
