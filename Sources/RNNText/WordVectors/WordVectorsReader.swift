import RNNCore

/// Streams word vectors from a text file in GloVe format (`word v1 v2 ... vD` per line) or word2vec
/// text format (the same rows after a first line `count dimension`), keeping only the words a
/// vocabulary needs when given one, so a multi-gigabyte file costs memory only for those.
///
///     let vocabulary = ["<pad>", "the", "Movie", ...]                 // tokens by id
///     let glove = try WordVectorsReader(path: "glove.6B.100d.txt", vocabulary: vocabulary).read()
///     let match = glove.match(vocabulary: vocabulary)              // exact, then lowercase
///
/// Fields are separated by single spaces (trailing spaces and CRLF line ends are tolerated); words
/// cannot contain spaces. Every row must have the same dimension; a row that differs, a value that
/// is not a finite number, or a bad word2vec header is one error naming the file and line (values
/// are parsed, and so checked, only for the rows that are kept). When a word appears twice, the
/// first row wins.
public struct WordVectorsReader: Sendable {
    public enum Format: Sendable {
        /// GloVe: no header; the dimension is taken from the first row.
        case glove
        /// word2vec text (`-binary 0`): a first line `count dimension`.
        case word2vec
        /// word2vec if the first line is two whole numbers, GloVe otherwise.
        case automatic
    }

    public var path: String
    public var format: Format
    /// Keep only vectors for these tokens or their lowercase forms (what `match(vocabulary:)` looks
    /// up); nil keeps every word.
    public var vocabulary: [String]?
    /// Read at most this many rows (the most frequent words come first in GloVe and word2vec files).
    public var limit: Int?
    public var invalidUTF8: InvalidUTF8Handling

    public init(path: String, format: Format = .automatic, vocabulary: [String]? = nil, limit: Int? = nil,
                invalidUTF8: InvalidUTF8Handling = .fail) {
        self.path = path
        self.format = format
        self.vocabulary = vocabulary
        self.limit = limit
        self.invalidUTF8 = invalidUTF8
    }

    public func read() throws -> WordVectors {
        let reader = try LineReader(path: path)
        let wanted = vocabulary.map { tokens in Set(tokens).union(tokens.map { $0.lowercased() }) }
        var vectors: [String: [Float]] = [:]
        var fields: [UnsafeBufferPointer<UInt8>] = []
        var dimension: Int?
        var declaredCount: Int?
        var rows = 0
        var firstRow = true
        while limit.map({ rows < $0 }) ?? true, let raw = try reader.nextLine() {
            let line = Self.trimmingTrailingSpace(raw)
            if line.isEmpty { continue }
            fields.removeAll(keepingCapacity: true)
            for piece in line.split(separator: 0x20) { fields.append(UnsafeBufferPointer(rebasing: piece)) }
            let location = "\(path):\(reader.lineNumber)"
            if firstRow {
                firstRow = false
                let header = Self.word2vecHeader(fields)
                if format == .word2vec || (format == .automatic && header != nil) {
                    guard let header else {
                        throw RNNError("\(location): expected the word2vec header 'count dimension' (two positive whole numbers)")
                    }
                    (declaredCount, dimension) = (header.count, header.dimension)
                    continue
                }
            }
            let size = dimension ?? fields.count - 1
            guard size > 0 else {
                throw RNNError("\(location): a word with no values; each row is 'word v1 v2 ... vD'")
            }
            dimension = size
            guard fields.count - 1 == size else {
                throw RNNError("\(location): \(fields.count - 1) values, expected \(size) like the rows before; "
                    + "every vector must have the same dimension (words cannot contain spaces)")
            }
            rows += 1
            let word = try UTF8Decoding.string(fields[0], handling: invalidUTF8, path: path, firstLine: reader.lineNumber)
            if let wanted, !wanted.contains(word) { continue }
            if vectors[word] != nil { continue }
            var vector = [Float](repeating: 0, count: size)
            for index in 0..<size {
                let token = fields[index + 1]
                guard let value = Float(String(decoding: token, as: UTF8.self)), value.isFinite else {
                    throw RNNError("\(location): value \(index + 1) '\(String(decoding: token, as: UTF8.self))' is not a finite number")
                }
                vector[index] = value
            }
            vectors[word] = vector
        }
        if let declaredCount, limit == nil, rows != declaredCount {
            throw RNNError.invalidFile(path, "the word2vec header declares \(declaredCount) vectors but the file has \(rows); is it truncated?")
        }
        guard let dimension else {
            throw RNNError.invalidFile(path, "no vectors in the file; expected rows 'word v1 v2 ... vD'")
        }
        return try WordVectors(dimension: dimension, vectors: vectors)
    }

    /// `(count, dimension)` if the fields are two positive whole numbers.
    private static func word2vecHeader(_ fields: [UnsafeBufferPointer<UInt8>]) -> (count: Int, dimension: Int)? {
        guard fields.count == 2,
              let count = Int(String(decoding: fields[0], as: UTF8.self)), count >= 0,
              let dimension = Int(String(decoding: fields[1], as: UTF8.self)), dimension > 0 else { return nil }
        return (count, dimension)
    }

    private static func trimmingTrailingSpace(_ line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var end = line.count
        while end > 0, line[end - 1] == 0x20 || line[end - 1] == 0x0D || line[end - 1] == 0x09 { end -= 1 }
        return UnsafeBufferPointer(rebasing: line[0..<end])
    }
}
