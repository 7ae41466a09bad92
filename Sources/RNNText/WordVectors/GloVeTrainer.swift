import Foundation
import RNNCore

/// Trains GloVe word vectors (Pennington, Socher & Manning 2014) on co-occurrence counts X:
///
///     J = Σ_{X_ij > 0} f(X_ij) (w_i·w̃_j + b_i + b̃_j − log X_ij)²,   f(x) = min(1, (x / x_max)^α)
///
/// with AdaGrad on every parameter (squared-gradient sums start at 1, as in the reference C code),
/// visiting the non-zero pairs in a seeded random order each epoch. The result is w + w̃ per word,
/// the paper's choice. The inner loop works on flat buffers, eight lanes at a time, and allocates nothing.
public struct GloVeTrainer: Sendable {
    public var dimension: Int
    public var xMax: Float = 100
    public var alpha: Float = 0.75
    public var learningRate: Float = 0.05
    public var epochs: Int
    public var seed: UInt64

    public init(dimension: Int, epochs: Int = 25, seed: UInt64 = 0) {
        self.dimension = dimension
        self.epochs = epochs
        self.seed = seed
    }

    /// The trained vectors and the cost J / (number of pairs) of each epoch.
    public struct Result: Sendable {
        public let vectors: WordVectors
        public let lossPerEpoch: [Float]
    }

    /// Trains on `counts`; `vocabulary[i]` names token id i.
    public func train(_ counts: CooccurrenceCounts, vocabulary: [String]) throws -> Result {
        guard vocabulary.count == counts.vocabularySize else {
            throw RNNError("GloVe: \(vocabulary.count) vocabulary words for counts over \(counts.vocabularySize) ids")
        }
        guard dimension > 0, epochs > 0, xMax > 0, alpha > 0, learningRate > 0 else {
            throw RNNError("GloVe: dimension, epochs, xMax, alpha and learningRate must be positive")
        }
        let entries = counts.entries()
        guard !entries.isEmpty else { throw RNNError("GloVe: no co-occurrences; the corpus needs sequences of 2+ tokens") }
        let size = counts.vocabularySize, d = dimension
        var generator = SeededGenerator(seed: seed)
        // All parameters and AdaGrad sums in one buffer:
        // word vectors w (V, D) | context vectors w̃ (V, D) | their squared-gradient sums (V, D) (V, D)
        // | biases b (V) | b̃ (V) | their squared-gradient sums (V) (V).
        let contextAt = size * d, wordSquaresAt = 2 * size * d, contextSquaresAt = 3 * size * d
        let biasAt = 4 * size * d, contextBiasAt = biasAt + size
        let biasSquaresAt = biasAt + 2 * size, contextBiasSquaresAt = biasAt + 3 * size
        var state = [Float](repeating: 1, count: 4 * size * d + 4 * size)
        for index in 0..<wordSquaresAt { state[index] = (generator.nextUnitFloat() - 0.5) / Float(d) }
        for index in biasAt..<biasSquaresAt { state[index] = 0 }
        // Per-pair constants, computed once: f(X_ij) and log X_ij.
        let weights = entries.map { min(1, powf($0.count / xMax, alpha)) }
        let logCounts = entries.map { logf($0.count) }
        var order = Array(entries.indices)
        var losses: [Float] = []
        for _ in 0..<epochs {
            order.shuffle(using: &generator)
            var total: Double = 0
            state.withUnsafeMutableBufferPointer { p in
                for pair in order {
                    let row = Int(entries[pair].row), column = Int(entries[pair].column)
                    let w = row * d, c = contextAt + column * d
                    let wSq = wordSquaresAt + row * d, cSq = contextSquaresAt + column * d
                    let base = p.baseAddress!
                    let difference = dotProduct(base + w, base + c, count: d)
                        + p[biasAt + row] + p[contextBiasAt + column] - logCounts[pair]
                    let scaled = weights[pair] * difference  // f(X_ij) (w·w̃ + b + b̃ − log X_ij)
                    total += Double(0.5 * scaled * difference)
                    adaGradPairUpdate(word: base + w, context: base + c, wordSquares: base + wSq, contextSquares: base + cSq,
                                      count: d, scaled: scaled, learningRate: learningRate)
                    p[biasAt + row] -= learningRate * scaled / p[biasSquaresAt + row].squareRoot()
                    p[contextBiasAt + column] -= learningRate * scaled / p[contextBiasSquaresAt + column].squareRoot()
                    p[biasSquaresAt + row] += scaled * scaled
                    p[contextBiasSquaresAt + column] += scaled * scaled
                }
            }
            losses.append(Float(total / Double(entries.count)))
        }
        var vectors: [String: [Float]] = [:]
        for (id, token) in vocabulary.enumerated() where vectors[token] == nil {
            vectors[token] = (0..<d).map { state[id * d + $0] + state[contextAt + id * d + $0] }
        }
        return Result(vectors: try WordVectors(dimension: d, vectors: vectors), lossPerEpoch: losses)
    }
}

/// Σ_k a_k b_k over `count` floats, eight lanes at a time.
@inline(__always)
private func dotProduct(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, count: Int) -> Float {
    var lanes = SIMD8<Float>.zero
    var k = 0
    while k + 8 <= count {
        let x = UnsafeRawPointer(a + k).loadUnaligned(as: SIMD8<Float>.self)
        let y = UnsafeRawPointer(b + k).loadUnaligned(as: SIMD8<Float>.self)
        lanes.addProduct(x, y)
        k += 8
    }
    var sum = lanes.sum()
    while k < count { sum += a[k] * b[k]; k += 1 }
    return sum
}

/// One pair's AdaGrad step on w_i and w̃_j: g_w = s·w̃_j, g_w̃ = s·w_i (both from the old
/// values), w −= η g / √G, G += g², where s = f(X_ij)(w·w̃ + b + b̃ − log X_ij).
@inline(__always)
private func adaGradPairUpdate(word: UnsafeMutablePointer<Float>, context: UnsafeMutablePointer<Float>,
                               wordSquares: UnsafeMutablePointer<Float>, contextSquares: UnsafeMutablePointer<Float>,
                               count: Int, scaled: Float, learningRate: Float) {
    var k = 0
    while k + 8 <= count {
        let w = UnsafeRawPointer(word + k).loadUnaligned(as: SIMD8<Float>.self)
        let c = UnsafeRawPointer(context + k).loadUnaligned(as: SIMD8<Float>.self)
        let wSquares = UnsafeRawPointer(wordSquares + k).loadUnaligned(as: SIMD8<Float>.self)
        let cSquares = UnsafeRawPointer(contextSquares + k).loadUnaligned(as: SIMD8<Float>.self)
        let gradientWord = scaled * c, gradientContext = scaled * w
        UnsafeMutableRawPointer(word + k).storeBytes(of: w - learningRate * gradientWord / wSquares.squareRoot(), as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(context + k).storeBytes(of: c - learningRate * gradientContext / cSquares.squareRoot(), as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(wordSquares + k).storeBytes(of: wSquares + gradientWord * gradientWord, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(contextSquares + k).storeBytes(of: cSquares + gradientContext * gradientContext, as: SIMD8<Float>.self)
        k += 8
    }
    while k < count {
        let gradientWord = scaled * context[k], gradientContext = scaled * word[k]
        word[k] -= learningRate * gradientWord / wordSquares[k].squareRoot()
        context[k] -= learningRate * gradientContext / contextSquares[k].squareRoot()
        wordSquares[k] += gradientWord * gradientWord
        contextSquares[k] += gradientContext * gradientContext
        k += 1
    }
}
