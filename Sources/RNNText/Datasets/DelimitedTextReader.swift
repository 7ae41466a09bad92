import RNNCore

/// Reads text examples from a CSV or TSV file with a header line, choosing the text (and,
/// optionally, the label) column by its header name. Quoting follows RFC 4180 (see
/// `DelimitedRecordParser`); the file is streamed record by record.
///
///     let jokes = try DelimitedTextReader.csv(path: "reddit-cleanjokes.csv", textColumn: "Joke").read()
public struct DelimitedTextReader: Sendable {
    public var path: String
    /// The field separator, an ASCII byte: `,` for CSV, tab for TSV.
    public var delimiter: UInt8
    /// Whether `"` quotes fields (RFC 4180). Turn off for TSV files whose text contains bare quotes
    /// at the start of a field; fields then cannot contain tabs or newlines.
    public var quoting: Bool
    public var textColumn: String
    public var labelColumn: String?
    /// Stop after this many examples; nil reads the whole file.
    public var limit: Int?
    public var invalidUTF8: InvalidUTF8Handling

    public init(path: String, delimiter: UInt8, quoting: Bool = true, textColumn: String, labelColumn: String? = nil,
                limit: Int? = nil, invalidUTF8: InvalidUTF8Handling = .fail) {
        self.path = path
        self.delimiter = delimiter
        self.quoting = quoting
        self.textColumn = textColumn
        self.labelColumn = labelColumn
        self.limit = limit
        self.invalidUTF8 = invalidUTF8
    }

    /// A comma-separated file.
    public static func csv(path: String, textColumn: String, labelColumn: String? = nil, limit: Int? = nil) -> DelimitedTextReader {
        DelimitedTextReader(path: path, delimiter: UInt8(ascii: ","), textColumn: textColumn, labelColumn: labelColumn, limit: limit)
    }

    /// A tab-separated file.
    public static func tsv(path: String, textColumn: String, labelColumn: String? = nil, limit: Int? = nil) -> DelimitedTextReader {
        DelimitedTextReader(path: path, delimiter: UInt8(ascii: "\t"), textColumn: textColumn, labelColumn: labelColumn, limit: limit)
    }

    /// The header's column names.
    public func columnNames() throws -> [String] {
        var parser = try DelimitedRecordParser(path: path, delimiter: delimiter, quoting: quoting)
        return try header(&parser).names
    }

    /// Reads all examples (up to `limit`).
    public func read() throws -> [TextExample] {
        var examples: [TextExample] = []
        try forEach { examples.append($0) }
        return examples
    }

    /// Streams the examples in file order.
    public func forEach(_ body: (TextExample) throws -> Void) throws {
        var parser = try DelimitedRecordParser(path: path, delimiter: delimiter, quoting: quoting)
        let (columns, headerLine) = try header(&parser)
        let textIndex = try index(of: textColumn, in: columns, headerLine: headerLine)
        let labelIndex = try labelColumn.map { try index(of: $0, in: columns, headerLine: headerLine) }
        var count = 0
        while limit.map({ count < $0 }) ?? true, try parser.next() {
            guard parser.fieldCount == columns.count else {
                throw RNNError("\(path):\(parser.line): expected \(columns.count) fields (as in the header), found "
                    + "\(parser.fieldCount); quote fields that contain the delimiter")
            }
            let text = try decode(parser.field(textIndex), line: parser.line)
            let label = try labelIndex.map { try decode(parser.field($0), line: parser.line) }
            try body(TextExample(text: text, label: label))
            count += 1
        }
    }

    private func header(_ parser: inout DelimitedRecordParser) throws -> (names: [String], line: Int) {
        guard try parser.next() else {
            throw RNNError.invalidFile(path, "empty file; expected a header line naming the columns")
        }
        return (try (0..<parser.fieldCount).map { try decode(parser.field($0), line: parser.line) }, parser.line)
    }

    private func index(of column: String, in columns: [String], headerLine: Int) throws -> Int {
        guard let index = columns.firstIndex(of: column) else {
            let listed = columns.map { "'\($0)'" }.joined(separator: ", ")
            throw RNNError("\(path):\(headerLine): no column '\(column)'; the columns are \(listed)")
        }
        return index
    }

    private func decode(_ field: ArraySlice<UInt8>, line: Int) throws -> String {
        try field.withUnsafeBufferPointer {
            try UTF8Decoding.string($0, handling: invalidUTF8, path: path, firstLine: line)
        }
    }
}
