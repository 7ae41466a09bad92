import Foundation

/// A seedable pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random choice in swift-rnn (initial weights, dropout masks, shuffling, sampling) takes
/// one of these explicitly: the same seed gives the same model on the same machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// A uniform Float in [0, 1) with 24 random bits.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal sample (Box–Muller).
    public mutating func nextNormal() -> Double {
        var u1 = nextUnitDouble()
        while u1 <= .leastNormalMagnitude { u1 = nextUnitDouble() }
        let u2 = nextUnitDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// The full state, e.g. for a checkpoint: `SeededGenerator(state:)` continues the same sequence.
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    /// Continues a sequence from `stateWords`.
    public init(state words: [UInt64]) throws {
        guard words.count == 4, words.contains(where: { $0 != 0 }) else {
            throw RNNError("random generator state must be 4 words, not all zero")
        }
        state = (words[0], words[1], words[2], words[3])
    }

    /// An independent generator derived from this one (for a layer, a worker, an epoch).
    public mutating func split() -> SeededGenerator {
        SeededGenerator(seed: next())
    }
}

@inline(__always)
private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

