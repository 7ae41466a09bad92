import Foundation
import RNN
import RNNCore

/// What defines a stored bigram model (saved under `model.bigram` in `config.json`).
public struct KneserNeyBigramConfig: Codable, Sendable, Equatable {
    public var vocabularySize: Int
    /// Distinct (context, next) pairs seen in training: the length of the stored count tensors.
    public var pairCount: Int
    /// Absolute discount D of the bigram level.
    public var discount: Double
    /// Absolute discount D₁ of the continuation (unigram) level.
    public var unigramDiscount: Double
}

/// The bigram baseline: **interpolated Kneser-Ney** smoothing (Chen & Goodman 1998, §3.5) with
/// one absolute discount per level, the lowest level interpolated with the uniform distribution
/// over all V ids so that no token has probability zero.
///
///     P(w | v)   = max(c(v,w) − D, 0) / c(v)  +  D · N₁₊(v•) / c(v) · P_cont(w)      when c(v) > 0
///     P(w | v)   = P_cont(w)                                                           when c(v) = 0
///     P_cont(w)  = max(N₁₊(•w) − D₁, 0) / N₁₊(••)  +  D₁ · |{w : N₁₊(•w) > 0}| / N₁₊(••) · 1/V
///
/// c(v,w): training count of the pair; c(v) = Σ_w c(v,w); N₁₊(v•): distinct words after v;
/// N₁₊(•w): distinct words before w; N₁₊(••): distinct pairs. D = n₁ / (n₁ + 2n₂) from the
/// numbers of pairs seen once and twice (Ney et al. 1994), D₁ likewise from the N₁₊(•w), both
/// clamped to [0.05, 0.95]. Each conditional distribution sums to 1 over the vocabulary.
///
/// Stored as three tensors of `pairCount` values in `model.safetensors`: `bigram.context`,
/// `bigram.next` (token ids) and `bigram.count` (c(v,w)), all float32 (exact below 2²⁴).
public struct KneserNeyBigram: Sendable {
    public let config: KneserNeyBigramConfig
    /// CSR layout by context: the followers of v are `next[rowStart[v]..<rowStart[v+1]]`, sorted.
    private let rowStart: [Int]
    private let next: [Int32]
    private let counts: [Double]
    /// c(v)
    private let contextTotals: [Double]
    /// P_cont(w), (V)
    private let continuation: [Double]

    /// Counts the (context, next) pairs of training text; every id must be in 0..<vocabularySize.
    public init<Pairs: Sequence>(pairs: Pairs, vocabularySize: Int) throws where Pairs.Element == (Int32, Int32) {
        var table: [Int64: Int] = [:]
        for (context, next) in pairs {
            guard (0..<vocabularySize).contains(Int(context)), (0..<vocabularySize).contains(Int(next)) else {
                throw RNNError("bigram: token id outside the vocabulary of \(vocabularySize)")
            }
            table[Int64(context) * Int64(vocabularySize) + Int64(next), default: 0] += 1
        }
        guard !table.isEmpty else { throw RNNError("bigram: no training pairs (empty corpus?)") }
        let keys = table.keys.sorted()
        try self.init(vocabularySize: vocabularySize,
                      contexts: keys.map { Int32($0 / Int64(vocabularySize)) },
                      nexts: keys.map { Int32($0 % Int64(vocabularySize)) },
                      counts: keys.map { Double(table[$0]!) }, discounts: nil)
    }

    /// Rebuilds the model from stored pairs sorted by (context, next); discounts nil: estimate them.
    private init(vocabularySize V: Int, contexts: [Int32], nexts: [Int32], counts: [Double],
                 discounts: (Double, Double)?) throws {
        var rowStart = [Int](repeating: 0, count: V + 1)
        var totals = [Double](repeating: 0, count: V)
        var before = [Double](repeating: 0, count: V)  // N₁₊(•w)
        var seenOnce = 0.0, seenTwice = 0.0
        for (index, context) in contexts.enumerated() {
            let v = Int(context), w = Int(nexts[index])
            guard (0..<V).contains(v), (0..<V).contains(w), counts[index] >= 1 else {
                throw RNNError("bigram: stored pair \(index) is invalid (ids \(v), \(w), count \(counts[index]))")
            }
            if index > 0, (contexts[index - 1], nexts[index - 1]) >= (context, nexts[index]) {
                throw RNNError("bigram: stored pairs are not sorted by (context, next)")
            }
            rowStart[v + 1] += 1
            totals[v] += counts[index]
            before[w] += 1
            if counts[index] == 1 { seenOnce += 1 } else if counts[index] == 2 { seenTwice += 1 }
        }
        for v in 0..<V { rowStart[v + 1] += rowStart[v] }
        func estimate(_ n1: Double, _ n2: Double) -> Double {
            n1 + 2 * n2 > 0 ? min(max(n1 / (n1 + 2 * n2), 0.05), 0.95) : 0.5
        }
        let discount = discounts?.0 ?? estimate(seenOnce, seenTwice)
        let unigramDiscount = discounts?.1 ?? estimate(Double(before.filter { $0 == 1 }.count),
                                                       Double(before.filter { $0 == 2 }.count))
        let pairTypes = Double(contexts.count)
        let seenWords = Double(before.filter { $0 > 0 }.count)
        let uniformShare = unigramDiscount * seenWords / pairTypes / Double(V)
        self.continuation = before.map { max($0 - unigramDiscount, 0) / pairTypes + uniformShare }
        self.rowStart = rowStart
        self.next = nexts
        self.counts = counts
        self.contextTotals = totals
        self.config = KneserNeyBigramConfig(vocabularySize: V, pairCount: contexts.count,
                                            discount: discount, unigramDiscount: unigramDiscount)
    }

    /// P(next | context).
    public func probability(of next: Int, after context: Int) -> Double {
        let total = contextTotals[context]
        guard total > 0 else { return continuation[next] }
        let range = rowStart[context]..<rowStart[context + 1]
        let backoff = config.discount * Double(range.count) / total
        var p = backoff * continuation[next]
        if let position = binarySearch(Int32(next), in: range) { p += max(counts[position] - config.discount, 0) / total }
        return p
    }

    /// P(· | context) over the whole vocabulary, (V).
    public func probabilities(after context: Int) -> [Double] {
        let total = contextTotals[context]
        guard total > 0 else { return continuation }
        let range = rowStart[context]..<rowStart[context + 1]
        let backoff = config.discount * Double(range.count) / total
        var result = continuation.map { $0 * backoff }
        for position in range { result[Int(next[position])] += max(counts[position] - config.discount, 0) / total }
        return result
    }

    /// Σ −log P(next | context) over the pairs, and how many there were.
    public func crossEntropySum<Pairs: Sequence>(pairs: Pairs) -> (nats: Double, count: Int) where Pairs.Element == (Int32, Int32) {
        var nats = 0.0, count = 0
        for (context, next) in pairs {
            nats -= log(probability(of: Int(next), after: Int(context)))
            count += 1
        }
        return (nats, count)
    }

    private func binarySearch(_ token: Int32, in range: Range<Int>) -> Int? {
        var low = range.lowerBound, high = range.upperBound
        while low < high {
            let middle = (low + high) / 2
            if next[middle] < token { low = middle + 1 } else { high = middle }
        }
        return low < range.upperBound && next[low] == token ? low : nil
    }

    // MARK: Storage

    static let contextTensor = "bigram.context", nextTensor = "bigram.next", countTensor = "bigram.count"

    /// The counts as a parameter store, for `ModelDirectory.save`.
    func parameterStore() -> ParameterStore {
        let store = Self.emptyStore(pairCount: config.pairCount)
        let contexts = store.values(of: store.parameter(named: Self.contextTensor)!)
        let nexts = store.values(of: store.parameter(named: Self.nextTensor)!)
        let pairCounts = store.values(of: store.parameter(named: Self.countTensor)!)
        for context in 0..<config.vocabularySize {
            for position in rowStart[context]..<rowStart[context + 1] {
                contexts[position] = Float(context)
                nexts[position] = Float(next[position])
                pairCounts[position] = Float(counts[position])
            }
        }
        return store
    }

    /// A store with the three tensors of `pairCount` zeros, to load a saved model into.
    static func emptyStore(pairCount: Int) -> ParameterStore {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 0)
        for name in [contextTensor, nextTensor, countTensor] {
            store.add(name, shape: [pairCount], initializer: .zeros, generator: &generator)
        }
        return store
    }

    /// Rebuilds a saved model from its config and loaded store.
    init(config: KneserNeyBigramConfig, store: ParameterStore) throws {
        func values(_ name: String) -> [Float] {
            let parameter = store.parameter(named: name)!
            return Array(UnsafeBufferPointer(start: store.values(of: parameter), count: parameter.count))
        }
        try self.init(vocabularySize: config.vocabularySize, contexts: values(Self.contextTensor).map { Int32($0) },
                      nexts: values(Self.nextTensor).map { Int32($0) }, counts: values(Self.countTensor).map(Double.init),
                      discounts: (config.discount, config.unigramDiscount))
    }
}

/// The training pairs of documents as the RNN sees them: `<eos>` before the first token and after
/// the last, so the bigram is scored on exactly the RNN's targets.
func documentPairs(_ documents: [[Int32]], endToken: Int32) -> [(Int32, Int32)] {
    var pairs: [(Int32, Int32)] = []
    for document in documents {
        var previous = endToken
        for token in document + [endToken] {
            pairs.append((previous, token))
            previous = token
        }
    }
    return pairs
}

/// Consecutive pairs of one token stream.
func streamPairs(_ stream: [Int32]) -> [(Int32, Int32)] {
    zip(stream, stream.dropFirst()).map { ($0, $1) }
}
