import RNNCore

/// Splits a delimited text file (CSV, TSV) into records, following RFC 4180: fields may be quoted
/// with `"`, a doubled `""` inside quotes is one `"`, and quoted fields may hold the delimiter and
/// line breaks (kept as written, `\n` or `\r\n`). Lines may end in LF or CRLF; a UTF-8 byte-order
/// mark at the start is dropped; blank lines between records are skipped. A `"` inside an
/// unquoted field is kept as a literal character (as most writers produce it).
struct DelimitedRecordParser {
    private let reader: LineReader
    private let delimiter: UInt8
    private let quoting: Bool
    /// The bytes of the current record's fields, back to back.
    private(set) var bytes: [UInt8] = []
    /// `fieldBounds[i]` is the range of field i in `bytes`.
    private(set) var fieldBounds: [Range<Int>] = []
    /// The file line on which the current record starts.
    private(set) var line = 0
    private var isFirstLine = true

    init(path: String, delimiter: UInt8, quoting: Bool) throws {
        reader = try LineReader(path: path)
        self.delimiter = delimiter
        self.quoting = quoting
    }

    var path: String { reader.path }
    var fieldCount: Int { fieldBounds.count }

    /// The bytes of field `index` of the current record.
    func field(_ index: Int) -> ArraySlice<UInt8> { bytes[fieldBounds[index]] }

    /// Reads the next record; false at the end of the file.
    mutating func next() throws -> Bool {
        bytes.removeAll(keepingCapacity: true)
        fieldBounds.removeAll(keepingCapacity: true)
        var fieldStart = 0
        var inQuotes = false, afterClosingQuote = false
        var quoteLine = 0
        while var lineBytes = try reader.nextLine() {
            if isFirstLine {
                isFirstLine = false
                if lineBytes.starts(with: [0xEF, 0xBB, 0xBF]) { lineBytes = UnsafeBufferPointer(rebasing: lineBytes.dropFirst(3)) }
            }
            let hadCarriageReturn = lineBytes.last == 0x0D
            let content = droppingCarriageReturn(lineBytes)
            if !inQuotes {
                if content.isEmpty { continue }  // a blank line between records
                line = reader.lineNumber
            }
            var index = 0
            while index < content.count {
                let byte = content[index]
                if inQuotes {
                    if byte == 0x22 {
                        if index + 1 < content.count, content[index + 1] == 0x22 {
                            bytes.append(0x22)
                            index += 1
                        } else {
                            inQuotes = false
                            afterClosingQuote = true
                        }
                    } else {
                        bytes.append(byte)
                    }
                } else if byte == delimiter {
                    fieldBounds.append(fieldStart..<bytes.count)
                    fieldStart = bytes.count
                    afterClosingQuote = false
                } else if afterClosingQuote {
                    throw RNNError("\(path):\(reader.lineNumber): unexpected text after the closing quote of field "
                        + "\(fieldBounds.count + 1); write a quote inside a quoted field as \"\"")
                } else if quoting, byte == 0x22, bytes.count == fieldStart {
                    inQuotes = true
                    quoteLine = reader.lineNumber
                } else {
                    bytes.append(byte)
                }
                index += 1
            }
            if inQuotes {
                if hadCarriageReturn { bytes.append(0x0D) }
                bytes.append(0x0A)
                continue
            }
            fieldBounds.append(fieldStart..<bytes.count)
            return true
        }
        if inQuotes {
            throw RNNError("\(path):\(quoteLine): unterminated quoted field (no closing \"); close the quote or double the \" inside it")
        }
        return false
    }
}
