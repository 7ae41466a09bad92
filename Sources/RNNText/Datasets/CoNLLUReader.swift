import RNNCore

/// Reads part-of-speech tagged sentences from a CoNLL-U file (Universal Dependencies).
///
/// Each word line has 10 tab-separated columns: ID, FORM, LEMMA, UPOS, XPOS, FEATS, HEAD, DEPREL,
/// DEPS, MISC. A sentence is the word lines between blank lines; `#` lines are comments. Multi-word
/// token lines (ID `3-4`, e.g. "don't" over "do" + "n't") and empty nodes (ID `5.1`) are skipped, so
/// the words are the syntactic words, each with its tag. Word IDs must run 1, 2, 3, ... in each
/// sentence. A last sentence with no blank line after it is kept. The file is streamed.
public struct CoNLLUReader: Sendable {
    /// Which column supplies the tags.
    public enum TagColumn: Int, Sendable {
        /// Column 4: universal part-of-speech tags (NOUN, VERB, ...).
        case upos = 3
        /// Column 5: language-specific tags (NN, VBZ, ... for English).
        case xpos = 4
    }

    public var path: String
    public var tagColumn: TagColumn
    /// Stop after this many sentences; nil reads them all.
    public var limit: Int?

    public init(path: String, tagColumn: TagColumn = .upos, limit: Int? = nil) {
        self.path = path
        self.tagColumn = tagColumn
        self.limit = limit
    }

    /// Reads all sentences (up to `limit`).
    public func read() throws -> [TaggedSentence] {
        var sentences: [TaggedSentence] = []
        try forEach { sentences.append($0) }
        return sentences
    }

    /// Streams the sentences in file order.
    public func forEach(_ body: (TaggedSentence) throws -> Void) throws {
        let reader = try LineReader(path: path)
        var words: [String] = [], tags: [String] = []
        var count = 0
        var fields: [UnsafeBufferPointer<UInt8>] = []
        func finishSentence() throws {
            guard !words.isEmpty else { return }
            try body(TaggedSentence(words: words, tags: tags))
            words.removeAll(keepingCapacity: true)
            tags.removeAll(keepingCapacity: true)
            count += 1
        }
        while limit.map({ count < $0 }) ?? true, let raw = try reader.nextLine() {
            let line = droppingCarriageReturn(raw)
            let location = "\(path):\(reader.lineNumber)"
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                try finishSentence()
                continue
            }
            if line.first == UInt8(ascii: "#") { continue }
            fields.removeAll(keepingCapacity: true)
            for piece in line.split(separator: 0x09, omittingEmptySubsequences: false) {
                fields.append(UnsafeBufferPointer(rebasing: piece))
            }
            guard fields.count == 10 else {
                throw RNNError("\(location): expected 10 tab-separated columns, found \(fields.count); "
                    + "CoNLL-U separates columns with single tabs and writes _ for an empty one")
            }
            switch Self.parseID(fields[0]) {
            case .word(let id):
                guard id == words.count + 1 else {
                    throw RNNError("\(location): word ID \(id) out of sequence, expected \(words.count + 1); "
                        + "is a blank line missing between sentences?")
                }
            case .range, .emptyNode:
                continue
            case .invalid:
                let id = String(decoding: fields[0], as: UTF8.self)
                throw RNNError("\(location): bad ID '\(id)'; expected a word number (7), a range (3-4) or an empty node (5.1)")
            }
            words.append(try UTF8Decoding.string(fields[1], handling: .fail, path: path, firstLine: reader.lineNumber))
            tags.append(try UTF8Decoding.string(fields[tagColumn.rawValue], handling: .fail, path: path, firstLine: reader.lineNumber))
        }
        if limit.map({ count < $0 }) ?? true { try finishSentence() }
    }

    private enum TokenID { case word(Int), range, emptyNode, invalid }

    /// Classifies an ID column: `7` a word, `3-4` a multi-word token, `5.1` an empty node.
    private static func parseID(_ bytes: UnsafeBufferPointer<UInt8>) -> TokenID {
        func number(_ part: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
            guard !part.isEmpty, part.count <= 9, part.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return part.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        if let dash = bytes.firstIndex(of: UInt8(ascii: "-")) {
            guard let first = number(bytes[..<dash]), let last = number(bytes[(dash + 1)...]), first >= 1, first < last else { return .invalid }
            return .range
        }
        if let dot = bytes.firstIndex(of: UInt8(ascii: ".")) {
            guard number(bytes[..<dot]) != nil, let decimal = number(bytes[(dot + 1)...]), decimal >= 1 else { return .invalid }
            return .emptyNode
        }
        guard let id = number(bytes[...]), id >= 1 else { return .invalid }
        return .word(id)
    }
}
