import RNNCore

/// Sparse word–word co-occurrence counts X_ij for GloVe (Pennington et al. 2014, §4.2): within a
/// symmetric window, a context word `d` positions away adds 1/d. Only pairs that occur are stored,
/// keyed by `(i, j)` packed into one `UInt64`.
public struct CooccurrenceCounts: Sendable {
    /// One stored pair: X[row, column] = count.
    public struct Entry: Equatable, Sendable {
        public let row: Int32
        public let column: Int32
        public let count: Float
    }

    public let vocabularySize: Int
    /// Context words on each side of the centre word.
    public let window: Int
    private var counts: [UInt64: Double] = [:]

    public init(vocabularySize: Int, window: Int = 10) throws {
        guard vocabularySize > 0, vocabularySize <= Int(Int32.max) else {
            throw RNNError("co-occurrence counts: vocabulary size must be in 1...\(Int32.max), got \(vocabularySize)")
        }
        guard window > 0 else { throw RNNError("co-occurrence counts: window must be at least 1, got \(window)") }
        self.vocabularySize = vocabularySize
        self.window = window
    }

    /// Counts the pairs in one sequence of token ids (a sentence or document; windows do not cross it).
    public mutating func add(_ ids: [Int]) throws {
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw RNNError("co-occurrence counts: token id \(bad) outside the vocabulary 0..<\(vocabularySize)")
        }
        for (position, centre) in ids.enumerated() {
            for distance in 1...window where distance <= position {
                let context = ids[position - distance]
                let weight = 1.0 / Double(distance)
                counts[Self.key(centre, context), default: 0] += weight
                counts[Self.key(context, centre), default: 0] += weight
            }
        }
    }

    /// The number of distinct (i, j) pairs stored.
    public var nonZeroCount: Int { counts.count }

    /// X_ij (0 if the pair never occurred).
    public subscript(row: Int, column: Int) -> Double { counts[Self.key(row, column)] ?? 0 }

    /// Every stored pair, in (row, column) order so training is reproducible.
    public func entries() -> [Entry] {
        counts.keys.sorted().map { key in
            Entry(row: Int32(truncatingIfNeeded: key >> 32), column: Int32(truncatingIfNeeded: key & 0xFFFF_FFFF),
                  count: Float(counts[key] ?? 0))
        }
    }

    private static func key(_ row: Int, _ column: Int) -> UInt64 { UInt64(row) << 32 | UInt64(column) }
}
