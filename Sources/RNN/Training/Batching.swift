import RNNCore

/// A padded batch of token sequences, time-major: `tokens[t * size + b]` is step t of sequence b.
public struct TokenBatch: Sendable, Equatable {
    /// (T, B) token ids; positions past a sequence's length hold the padding id.
    public var tokens: [Int32]
    /// Valid steps of each sequence (1…T).
    public var lengths: [Int]
    /// Which examples of the dataset the rows are.
    public var indices: [Int]

    public var steps: Int { lengths.max() ?? 0 }
    public var size: Int { lengths.count }

    /// Pads `sequences` (each non-empty) to the longest one.
    public init(sequences: [[Int32]], padding: Int32, indices: [Int]? = nil) throws {
        guard !sequences.isEmpty else { throw RNNError("batch: no sequences (empty data set?)") }
        if let empty = sequences.firstIndex(where: \.isEmpty) {
            throw RNNError("batch: sequence \(indices?[empty] ?? empty) is empty; every example needs at least one token")
        }
        let T = sequences.map(\.count).max()!, B = sequences.count
        var tokens = [Int32](repeating: padding, count: T * B)
        for (b, sequence) in sequences.enumerated() {
            for (t, token) in sequence.enumerated() { tokens[t * B + b] = token }
        }
        self.tokens = tokens
        self.lengths = sequences.map(\.count)
        self.indices = indices ?? Array(0..<B)
    }

    /// Token ids of row b, without padding.
    public func sequence(_ b: Int) -> [Int32] {
        (0..<lengths[b]).map { tokens[$0 * size + b] }
    }
}

/// Which end of a too-long sequence to keep.
public enum TruncationSide: String, Codable, Sendable, CaseIterable {
    /// Keep the first `maxLength` tokens.
    case head
    /// Keep the last `maxLength` tokens (for reviews, the verdict is often at the end).
    case tail
}

/// Cuts `sequence` to at most `maxLength` tokens, keeping `side`.
public func truncate<Element>(_ sequence: [Element], maxLength: Int, keep side: TruncationSide) -> [Element] {
    guard sequence.count > maxLength else { return sequence }
    switch side {
    case .head: return Array(sequence.prefix(maxLength))
    case .tail: return Array(sequence.suffix(maxLength))
    }
}

/// Fisher–Yates shuffle driven by a seeded generator (reproducible across platforms, unlike
/// `shuffle(using:)` whose algorithm the standard library does not promise).
public func seededShuffle<Element>(_ array: inout [Element], using generator: inout SeededGenerator) {
    guard array.count > 1 else { return }
    for index in stride(from: array.count - 1, to: 0, by: -1) {
        let other = Int(generator.next() % UInt64(index + 1))
        array.swapAt(index, other)
    }
}

/// Groups example indices into batches.
///
/// With `bucketing`, examples of similar length share a batch, so little compute goes to padding:
/// indices are shuffled, cut into pools of 50 batches, each pool sorted by length and cut into
/// batches, and the batch order shuffled. Without shuffling, the order is the given one.
public func makeBatches(lengths: [Int], batchSize: Int, shuffle: Bool, bucketing: Bool,
                        generator: inout SeededGenerator) -> [[Int]] {
    precondition(batchSize > 0, "batch size must be positive")
    var order = Array(lengths.indices)
    if shuffle { seededShuffle(&order, using: &generator) }
    var batches: [[Int]] = []
    if bucketing {
        let poolSize = batchSize * 50
        for poolStart in stride(from: 0, to: order.count, by: poolSize) {
            let pool = order[poolStart..<min(poolStart + poolSize, order.count)].sorted {
                (lengths[$0], $0) < (lengths[$1], $1)
            }
            for start in stride(from: 0, to: pool.count, by: batchSize) {
                batches.append(Array(pool[start..<min(start + batchSize, pool.count)]))
            }
        }
        if shuffle { seededShuffle(&batches, using: &generator) }
    } else {
        for start in stride(from: 0, to: order.count, by: batchSize) {
            batches.append(Array(order[start..<min(start + batchSize, order.count)]))
        }
    }
    return batches
}

/// Splits example indices into training and validation parts with a seed. With `labels`, the
/// split is stratified: each class contributes the same fraction to validation.
public func validationSplit(count: Int, fraction: Double, labels: [Int]? = nil,
                            generator: inout SeededGenerator) throws -> (training: [Int], validation: [Int]) {
    guard count > 0 else { throw RNNError("validation split: the data set is empty") }
    guard fraction >= 0, fraction < 1 else {
        throw RNNError("validation split must be in [0, 1), got \(fraction)")
    }
    var groups: [[Int]]
    if let labels {
        precondition(labels.count == count, "one label per example")
        var byLabel: [Int: [Int]] = [:]
        for (index, label) in labels.enumerated() { byLabel[label, default: []].append(index) }
        groups = byLabel.keys.sorted().map { byLabel[$0]! }
    } else {
        groups = [Array(0..<count)]
    }
    var training: [Int] = [], validation: [Int] = []
    for var group in groups {
        seededShuffle(&group, using: &generator)
        let take = Int((Double(group.count) * fraction).rounded())
        validation += group.prefix(take)
        training += group.dropFirst(take)
    }
    if fraction > 0 && validation.isEmpty {
        throw RNNError("validation split \(fraction) of \(count) examples is empty; use more data or a larger split")
    }
    guard !training.isEmpty else {
        throw RNNError("validation split \(fraction) leaves no training examples out of \(count)")
    }
    training.sort()
    validation.sort()
    return (training, validation)
}

/// Windows over one long token stream for truncated BPTT (char-rnn style): the stream is cut
/// into B contiguous lanes; window k holds steps [k·T, (k+1)·T) of every lane as inputs, and the
/// same shifted by one as targets. Consecutive windows continue each lane, so a stateful layer
/// carries its state across windows while the gradient stops at each window's start.
public struct StreamWindows: Sendable {
    public let lanes: Int
    public let window: Int
    private let stream: [Int32]
    private let laneLength: Int

    public init(stream: [Int32], lanes: Int, window: Int) throws {
        guard lanes > 0, window > 0 else { throw RNNError("stream windows: lanes and window must be positive") }
        let laneLength = (stream.count - 1) / lanes
        guard laneLength >= window else {
            throw RNNError("stream of \(stream.count) tokens is too short for \(lanes) lanes of \(window)-step windows; lower --batch-size or --bptt")
        }
        self.stream = stream
        self.lanes = lanes
        self.window = window
        self.laneLength = laneLength
    }

    /// Number of full windows.
    public var count: Int { laneLength / window }

    /// Window k: inputs and targets, each (T, B) time-major.
    public func window(_ k: Int) -> (inputs: [Int32], targets: [Int32]) {
        var inputs = [Int32](repeating: 0, count: window * lanes)
        var targets = inputs
        for lane in 0..<lanes {
            let base = lane * laneLength + k * window
            for t in 0..<window {
                inputs[t * lanes + lane] = stream[base + t]
                targets[t * lanes + lane] = stream[base + t + 1]
            }
        }
        return (inputs, targets)
    }
}
