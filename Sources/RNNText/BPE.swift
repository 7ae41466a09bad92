import Foundation
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
    /// (left id, right id) → (rank, merged id), packed as `rank << 32 | id`.
    private let mergeTable: IntegerHashTable
    /// Id of each single-scalar token (no prefix or suffix), the fast path of the first step.
    private let scalarIds: IntegerHashTable
    /// Ids of words seen before; merging gives the same result every time.
    private let cache = WordCache()

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
        var table = IntegerHashTable(minimumCapacity: merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            guard let aId = vocabulary[a], let bId = vocabulary[b] else {
                throw RNNError("tokenizer.json: BPE merge '\(a) \(b)' uses a token that is not in the vocabulary")
            }
            let merged = a + (continuingSubwordPrefix.flatMap { b.removingScalarPrefix($0) } ?? b)
            guard let mergedId = vocabulary[merged] else {
                throw RNNError("tokenizer.json: BPE merge '\(a) \(b)' makes '\(merged)', which is not in the vocabulary")
            }
            let key = UInt64(aId) << 32 | UInt64(bId)
            if table.value(for: key) == nil { table.set(UInt64(rank) << 32 | UInt64(mergedId), for: key) }
        }
        mergeTable = table
        var scalarIds = IntegerHashTable()
        for (token, id) in vocabulary.ids {
            var it = token.unicodeScalars.makeIterator()
            if let c = it.next(), it.next() == nil { scalarIds.set(UInt64(id), for: UInt64(c.value)) }
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
        if let cached = cache.ids(for: word) {
            for id in cached { ids.append(Int(id)) }
            return
        }
        var symbols = initialSymbols(word)
        mergeAll(&symbols)
        var result: [Int32] = []
        result.reserveCapacity(symbols.count)
        for s in symbols where s.length > 0 { result.append(s.id) }
        cache.store(result, for: word)
        for id in result { ids.append(Int(id)) }
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
                id = scalarIds.value(for: UInt64(c.value)).map { Int32(truncatingIfNeeded: $0) }
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

    /// The merge of adjacent symbols `a` and `b`, if listed.
    @inline(__always)
    private func merge(_ a: Int32, _ b: Int32) -> (rank: Int32, id: Int32)? {
        guard let packed = mergeTable.value(for: UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))) else { return nil }
        return (Int32(truncatingIfNeeded: packed >> 32), Int32(truncatingIfNeeded: packed & 0xFFFF_FFFF))
    }

    /// Merges by (rank, position) through a binary min-heap; stale entries are skipped.
    private func mergeAll(_ symbols: inout [Symbol]) {
        guard symbols.count > 1 else { return }
        var heap = MergeHeap()
        for i in 0..<symbols.count - 1 {
            if let m = merge(symbols[i].id, symbols[i + 1].id) {
                heap.push(rank: m.rank, position: Int32(i), id: m.id)
            }
        }
        while let top = heap.pop() {
            let pos = Int(top.position)
            if symbols[pos].length == 0 || symbols[pos].next == -1 { continue }
            let nextPos = Int(symbols[pos].next)
            let right = symbols[nextPos]
            guard let current = merge(symbols[pos].id, right.id),
                  current.id == top.id else { continue }
            symbols[pos].id = top.id
            symbols[pos].length += right.length
            symbols[pos].next = right.next
            symbols[nextPos].length = 0
            if right.next >= 0 { symbols[Int(right.next)].previous = Int32(pos) }
            let merged = symbols[pos]
            if merged.previous >= 0 {
                let prev = symbols[Int(merged.previous)]
                if let m = merge(prev.id, merged.id) {
                    heap.push(rank: m.rank, position: merged.previous, id: m.id)
                }
            }
            if merged.next >= 0 {
                let next = symbols[Int(merged.next)]
                if let m = merge(merged.id, next.id) {
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

/// A bounded, thread-safe memo of word → ids. Words are found by a 64-bit hash of their
/// scalars and compared in full, so a hash collision only costs a recomputation.
final class WordCache: @unchecked Sendable {
    private let lock = NSLock()
    private var slots = IntegerHashTable(minimumCapacity: 1 << 16)
    private var words: [[Unicode.Scalar]] = []
    private var results: [[Int32]] = []
    /// Entries kept at most; after that, new words are not remembered (as HuggingFace's cache).
    let capacity: Int
    /// Words longer than this are not cached.
    let maxWordLength = 256

    init(capacity: Int = 100_000) { self.capacity = capacity }

    @inline(__always)
    private static func hash(_ word: [Unicode.Scalar]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for c in word { h = (h ^ UInt64(c.value)) &* 0x100_0000_01B3 }
        return h
    }

    func ids(for word: [Unicode.Scalar]) -> [Int32]? {
        guard word.count <= maxWordLength else { return nil }
        let h = WordCache.hash(word)
        lock.lock()
        defer { lock.unlock() }
        guard let index = slots.value(for: h), words[Int(index)] == word else { return nil }
        return results[Int(index)]
    }

    func store(_ ids: [Int32], for word: [Unicode.Scalar]) {
        guard word.count <= maxWordLength else { return }
        let h = WordCache.hash(word)
        lock.lock()
        defer { lock.unlock() }
        guard words.count < capacity, slots.value(for: h) == nil else { return }
        slots.set(UInt64(words.count), for: h)
        words.append(word)
        results.append(ids)
    }
}
