import RNNCore

/// Learns BPE merges from word counts, as HuggingFace's `BpeTrainer`: the vocabulary starts with
/// the special tokens, then the alphabet (every character seen plus `initialAlphabet`, in
/// code-point order); then the most frequent adjacent pair (counted over all words, weighted by
/// word count) is merged into a new token, again and again, until the vocabulary has `vocabSize`
/// tokens or no pair occurs `minFrequency` times. Ties go to the pair with the smaller ids, so
/// training is deterministic. With `continuingSubwordPrefix` (`##`) this is also the WordPiece
/// trainer: characters after the first of a word carry the prefix.
public struct BPETrainer: Sendable {
    public var vocabSize: Int
    public var minFrequency: Int
    public var specialTokens: [String]
    public var initialAlphabet: [Unicode.Scalar]
    public var continuingSubwordPrefix: String?

    public init(vocabSize: Int, minFrequency: Int = 2, specialTokens: [String] = ["[PAD]", "[UNK]"],
                initialAlphabet: [Unicode.Scalar] = [], continuingSubwordPrefix: String? = nil) {
        self.vocabSize = vocabSize
        self.minFrequency = minFrequency
        self.specialTokens = specialTokens
        self.initialAlphabet = initialAlphabet
        self.continuingSubwordPrefix = continuingSubwordPrefix
    }

    /// The vocabulary and merges learned from `wordCounts`.
    public func train(wordCounts: [String: Int]) throws -> (vocabulary: Vocabulary, merges: [(String, String)]) {
        guard vocabSize > 0 else { throw RNNError("BPETrainer: vocabSize must be positive, got \(vocabSize)") }
        var tokens: [String] = []
        var ids: [String: Int32] = [:]
        func add(_ token: String) -> Int32 {
            if let id = ids[token] { return id }
            let id = Int32(tokens.count)
            tokens.append(token)
            ids[token] = id
            return id
        }
        for token in specialTokens { _ = add(token) }
        var alphabet = Set(initialAlphabet)
        var continuationAlphabet = Set<Unicode.Scalar>()
        let sortedWords = wordCounts.filter { $0.value > 0 && !$0.key.isEmpty }
            .sorted { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }
        for (word, _) in sortedWords {
            for (i, c) in word.unicodeScalars.enumerated() {
                alphabet.insert(c)
                if i > 0 { continuationAlphabet.insert(c) }
            }
        }
        for c in alphabet.sorted(by: { $0.value < $1.value }) { _ = add(String(c)) }
        let prefix = continuingSubwordPrefix ?? ""
        if !prefix.isEmpty {
            for c in continuationAlphabet.sorted(by: { $0.value < $1.value }) { _ = add(prefix + String(c)) }
        }

        // Words as symbol ids, and the pair statistics.
        var words: [[Int32]] = sortedWords.map { word, _ in
            word.unicodeScalars.enumerated().map { i, c in ids[i > 0 && !prefix.isEmpty ? prefix + String(c) : String(c)]! }
        }
        let counts = sortedWords.map(\.value)
        var pairCounts: [UInt64: Int] = [:]
        var wordsWithPair: [UInt64: [Int32]] = [:]
        @inline(__always) func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }
        for (w, word) in words.enumerated() where word.count > 1 {
            for i in 0..<word.count - 1 {
                let k = key(word[i], word[i + 1])
                pairCounts[k, default: 0] += counts[w]
                wordsWithPair[k, default: []].append(Int32(w))
            }
        }
        var heap = PairCountHeap()
        for (pair, count) in pairCounts { heap.push(count: count, pair: pair) }

        var merges: [(String, String)] = []
        var visited = [Int](repeating: -1, count: words.count)
        while tokens.count < vocabSize, let top = heap.pop() {
            let current = pairCounts[top.pair] ?? 0
            if top.count != current {
                if current > 0 { heap.push(count: current, pair: top.pair) }
                continue
            }
            if current < max(minFrequency, 1) { break }
            let a = Int32(truncatingIfNeeded: top.pair >> 32), b = Int32(truncatingIfNeeded: top.pair & 0xFFFF_FFFF)
            let left = tokens[Int(a)], right = tokens[Int(b)]
            let rightPart = prefix.isEmpty ? right : right.removingScalarPrefix(prefix) ?? right
            let merged = add(left + rightPart)
            merges.append((left, right))
            var touched = Set<UInt64>()
            for w32 in wordsWithPair.removeValue(forKey: top.pair) ?? [] {
                let w = Int(w32)
                if visited[w] == merges.count { continue }
                visited[w] = merges.count
                let old = words[w]
                var new: [Int32] = []
                new.reserveCapacity(old.count)
                var i = 0
                while i < old.count {
                    if i + 1 < old.count, old[i] == a, old[i + 1] == b {
                        new.append(merged)
                        i += 2
                    } else {
                        new.append(old[i])
                        i += 1
                    }
                }
                if new.count == old.count { continue }
                for i in 0..<old.count - 1 { pairCounts[key(old[i], old[i + 1]), default: 0] -= counts[w] }
                for i in 0..<max(new.count - 1, 0) {
                    let k = key(new[i], new[i + 1])
                    pairCounts[k, default: 0] += counts[w]
                    if new[i] == merged || new[i + 1] == merged {
                        wordsWithPair[k, default: []].append(w32)
                        touched.insert(k)
                    }
                }
                words[w] = new
            }
            for k in touched.sorted() { heap.push(count: pairCounts[k] ?? 0, pair: k) }
        }
        return (Vocabulary(tokens), merges)
    }
}

/// A max-heap of (count, pair): higher count first, then the smaller pair of ids.
private struct PairCountHeap {
    private var entries: [(count: Int, pair: UInt64)] = []

    @inline(__always)
    private static func before(_ x: (count: Int, pair: UInt64), _ y: (count: Int, pair: UInt64)) -> Bool {
        x.count != y.count ? x.count > y.count : x.pair < y.pair
    }

    mutating func push(count: Int, pair: UInt64) {
        entries.append((count, pair))
        var i = entries.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard PairCountHeap.before(entries[i], entries[parent]) else { break }
            entries.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (count: Int, pair: UInt64)? {
        guard let first = entries.first else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < entries.count, PairCountHeap.before(entries[l], entries[best]) { best = l }
                if r < entries.count, PairCountHeap.before(entries[r], entries[best]) { best = r }
                if best == i { break }
                entries.swapAt(i, best)
                i = best
            }
        }
        return first
    }
}
