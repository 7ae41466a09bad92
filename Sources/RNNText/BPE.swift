import RNNCore

/// The BPE model (GPT-2 style): a word starts as one symbol per scalar, then the pair of adjacent
/// symbols with the lowest merge rank is merged (leftmost first on equal rank) until no listed
/// merge applies — the same priority-queue order as HuggingFace's `Word::merge_all`.
/// Only deterministic BPE: `dropout` must be null (or 0).
public final class BPEModel: TokenizerModel {
    public let vocabulary: Vocabulary
    /// Merges in rank order, as token pairs.
    public let merges: [(String, String)]
    public let unkToken: String?
    public let continuingSubwordPrefix: String?
    public let endOfWordSuffix: String?
    public let fuseUnk: Bool
    public let byteFallback: Bool
    public let ignoreMerges: Bool
    /// (left id, right id) → (rank, merged id).
    private let mergeTable: [UInt64: (rank: Int32, id: Int32)]
    /// Id of each single-scalar token (no prefix or suffix), the fast path of the first step.
    private let scalarIds: [UInt32: Int32]

    public init(vocabulary: Vocabulary, merges: [(String, String)], unkToken: String? = nil,
                continuingSubwordPrefix: String? = nil, endOfWordSuffix: String? = nil,
                fuseUnk: Bool = false, byteFallback: Bool = false, ignoreMerges: Bool = false) throws {
        self.vocabulary = vocabulary
        self.merges = merges
        self.unkToken = unkToken
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.endOfWordSuffix = endOfWordSuffix
        self.fuseUnk = fuseUnk
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        if let unkToken, vocabulary[unkToken] == nil {
            throw RNNError("tokenizer.json: BPE unk_token '\(unkToken)' is not in the vocabulary")
        }
        let prefixLength = continuingSubwordPrefix?.unicodeScalars.count ?? 0
        var table: [UInt64: (rank: Int32, id: Int32)] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            guard let aId = vocabulary[a], let bId = vocabulary[b] else {
                throw RNNError("tokenizer.json: BPE merge '\(a) \(b)' uses a token that is not in the vocabulary")
            }
            let merged = a + String(String.UnicodeScalarView(b.unicodeScalars.dropFirst(b.hasPrefix(continuingSubwordPrefix ?? "\u{0}") ? prefixLength : 0)))
            guard let mergedId = vocabulary[merged] else {
                throw RNNError("tokenizer.json: BPE merge '\(a) \(b)' makes '\(merged)', which is not in the vocabulary")
            }
            let key = UInt64(aId) << 32 | UInt64(bId)
            if table[key] == nil { table[key] = (Int32(rank), Int32(mergedId)) }
        }
        mergeTable = table
        var scalarIds: [UInt32: Int32] = [:]
        for (token, id) in vocabulary.ids {
            var it = token.unicodeScalars.makeIterator()
            if let c = it.next(), it.next() == nil { scalarIds[c.value] = Int32(id) }
        }
        self.scalarIds = scalarIds
    }

    convenience init(json: JSONValue) throws {
        let component = "model 'BPE'"
        let f = try JSONFields(json, component: component)
        if let dropout = f.value["dropout"]?.doubleValue, dropout != 0 {
            throw RNNError("tokenizer.json: unsupported model 'BPE' with dropout \(dropout) (only null)")
        }
        var merges: [(String, String)] = []
        for merge in try f.array("merges") {
            if let text = merge.stringValue {
                let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw RNNError("tokenizer.json: \(component) merge '\(text)' is not two tokens separated by a space") }
                merges.append((String(parts[0]), String(parts[1])))
            } else if let pair = merge.arrayValue, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue {
                merges.append((a, b))
            } else {
                throw RNNError("tokenizer.json: \(component) merges must be \"a b\" strings or [\"a\", \"b\"] pairs")
            }
        }
        try self.init(vocabulary: try Vocabulary(json: try f.object("vocab"), component: component), merges: merges,
                      unkToken: try f.optionalString("unk_token"),
                      continuingSubwordPrefix: try f.optionalString("continuing_subword_prefix"),
                      endOfWordSuffix: try f.optionalString("end_of_word_suffix"),
                      fuseUnk: try f.bool("fuse_unk", default: false), byteFallback: try f.bool("byte_fallback", default: false),
                      ignoreMerges: try f.bool("ignore_merges", default: false))
    }

    /// One symbol of a word being merged: a token id and links to its live neighbours.
    private struct Symbol {
        var id: Int32
        var previous: Int32
        var next: Int32
        var length: Int32
    }

    public func tokenize(_ word: [Unicode.Scalar], into ids: inout [Int]) {
        if word.isEmpty { return }
        if ignoreMerges, let id = vocabulary[word.string] { ids.append(id); return }
        var symbols = initialSymbols(word)
        mergeAll(&symbols)
        for s in symbols where s.length > 0 { ids.append(Int(s.id)) }
    }

    /// One symbol per scalar (unknown scalars: byte fallback, unk, or dropped), as HF's `merge_word`.
    private func initialSymbols(_ word: [Unicode.Scalar]) -> [Symbol] {
        var ids: [Int32] = []
        ids.reserveCapacity(word.count)
        var lengths: [Int32] = []
        lengths.reserveCapacity(word.count)
        var pendingUnk: (id: Int32, length: Int32)? = nil
        let unkId = unkToken.flatMap { vocabulary[$0] }.map(Int32.init)
        let plain = continuingSubwordPrefix == nil && endOfWordSuffix == nil
        for (i, c) in word.enumerated() {
            let id: Int32?
            if plain {
                id = scalarIds[c.value]
            } else {
                var s = String(c)
                if i > 0, let prefix = continuingSubwordPrefix { s = prefix + s }
                if i == word.count - 1, let suffix = endOfWordSuffix { s += suffix }
                id = vocabulary[s].map(Int32.init)
            }
            if let id {
                if let unk = pendingUnk { ids.append(unk.id); lengths.append(unk.length); pendingUnk = nil }
                ids.append(id); lengths.append(1)
                continue
            }
            if byteFallback {
                let byteIds = UTF8.encode(c)!.map { vocabulary[byteToken($0)] }
                if byteIds.allSatisfy({ $0 != nil }) {
                    for b in byteIds { ids.append(Int32(b!)); lengths.append(1) }
                    continue
                }
            }
            if let unkId {
                if let unk = pendingUnk {
                    if fuseUnk {
                        pendingUnk = (unk.id, unk.length + 1)
                        continue
                    }
                    ids.append(unk.id); lengths.append(unk.length)
                }
                pendingUnk = (unkId, 1)
            }
        }
        if let unk = pendingUnk { ids.append(unk.id); lengths.append(unk.length) }
        return ids.indices.map {
            Symbol(id: ids[$0], previous: Int32($0) - 1, next: $0 + 1 < ids.count ? Int32($0 + 1) : -1, length: lengths[$0])
        }
    }

    private func byteToken(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }

    /// Merges by (rank, position) through a binary min-heap; stale entries are skipped.
    private func mergeAll(_ symbols: inout [Symbol]) {
        guard symbols.count > 1 else { return }
        var heap = MergeHeap()
        for i in 0..<symbols.count - 1 {
            if let m = mergeTable[UInt64(UInt32(symbols[i].id)) << 32 | UInt64(UInt32(symbols[i + 1].id))] {
                heap.push(rank: m.rank, position: Int32(i), id: m.id)
            }
        }
        while let top = heap.pop() {
            let pos = Int(top.position)
            if symbols[pos].length == 0 || symbols[pos].next == -1 { continue }
            let nextPos = Int(symbols[pos].next)
            let right = symbols[nextPos]
            guard let current = mergeTable[UInt64(UInt32(symbols[pos].id)) << 32 | UInt64(UInt32(right.id))],
                  current.id == top.id else { continue }
            symbols[pos].id = top.id
            symbols[pos].length += right.length
            symbols[pos].next = right.next
            symbols[nextPos].length = 0
            if right.next >= 0 { symbols[Int(right.next)].previous = Int32(pos) }
            let merged = symbols[pos]
            if merged.previous >= 0 {
                let prev = symbols[Int(merged.previous)]
                if let m = mergeTable[UInt64(UInt32(prev.id)) << 32 | UInt64(UInt32(merged.id))] {
                    heap.push(rank: m.rank, position: merged.previous, id: m.id)
                }
            }
            if merged.next >= 0 {
                let next = symbols[Int(merged.next)]
                if let m = mergeTable[UInt64(UInt32(merged.id)) << 32 | UInt64(UInt32(next.id))] {
                    heap.push(rank: m.rank, position: Int32(pos), id: m.id)
                }
            }
        }
    }

    public var json: JSONValue {
        func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return .object([
            ("type", .string("BPE")), ("dropout", .null), ("unk_token", optional(unkToken)),
            ("continuing_subword_prefix", optional(continuingSubwordPrefix)), ("end_of_word_suffix", optional(endOfWordSuffix)),
            ("fuse_unk", .bool(fuseUnk)), ("byte_fallback", .bool(byteFallback)), ("ignore_merges", .bool(ignoreMerges)),
            ("vocab", vocabulary.json),
            ("merges", .array(merges.map { .array([.string($0.0), .string($0.1)]) })),
        ])
    }
}

/// A binary min-heap of pending merges ordered by (rank, position).
private struct MergeHeap {
    private var keys: [UInt64] = []
    private var ids: [Int32] = []

    mutating func push(rank: Int32, position: Int32, id: Int32) {
        keys.append(UInt64(UInt32(rank)) << 32 | UInt64(UInt32(position)))
        ids.append(id)
        var i = keys.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if keys[parent] <= keys[i] { break }
            keys.swapAt(parent, i); ids.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> (position: Int32, id: Int32)? {
        guard let first = keys.first else { return nil }
        let result = (Int32(truncatingIfNeeded: first & 0xFFFF_FFFF), ids[0])
        let lastKey = keys.removeLast(), lastId = ids.removeLast()
        if !keys.isEmpty {
            keys[0] = lastKey; ids[0] = lastId
            var i = 0
            let n = keys.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < n, keys[l] < keys[smallest] { smallest = l }
                if r < n, keys[r] < keys[smallest] { smallest = r }
                if smallest == i { break }
                keys.swapAt(smallest, i); ids.swapAt(smallest, i)
                i = smallest
            }
        }
        return result
    }
}
