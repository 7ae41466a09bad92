import Foundation
import RNNCore

/// One decoded sentence: target ids (end token excluded), the length-normalised score used to
/// rank it, and its total log-probability.
public struct DecodedSequence: Sendable, Equatable {
    public var tokens: [Int32]
    /// log P / lengthᵅ, length counting the end token.
    public var score: Double
    public var logProbability: Double
}

/// How `Seq2Seq.decode` searches.
public struct BeamSearchOptions: Sendable, Equatable {
    /// Hypotheses kept per sentence; 1 is greedy decoding.
    public var beamSize = 5
    /// α in score = log P / lengthᵅ (0: raw log-probability, which favours short outputs).
    public var lengthPenalty = 1.0
    /// Longest output in tokens (nil: 2 × source length + 10, at most the model's limit).
    public var maxLength: Int?
    /// Sentences decoded together (each with `beamSize` rows).
    public var batchSize = 64

    public init(beamSize: Int = 5, lengthPenalty: Double = 1.0, maxLength: Int? = nil, batchSize: Int = 64) {
        self.beamSize = beamSize
        self.lengthPenalty = lengthPenalty
        self.maxLength = maxLength
        self.batchSize = batchSize
    }
}

extension Seq2Seq {
    /// Translates source id sequences (each non-empty) with batched beam search: the beams of all
    /// sentences of a batch are rows of one decoder batch, so every step is one GEMM per weight
    /// matrix. A hypothesis ends at the end token; a sentence stops when `beamSize` hypotheses
    /// have ended or at the length limit (then its live hypotheses count as ended).
    public func decode(_ sources: [[Int32]], options: BeamSearchOptions = BeamSearchOptions()) throws -> [DecodedSequence] {
        guard options.beamSize >= 1 else { throw RNNError("--beam must be at least 1, got \(options.beamSize)") }
        guard options.batchSize >= 1 else { throw RNNError("--batch-size must be at least 1") }
        if let limit = options.maxLength, limit < 1 { throw RNNError("--max-output must be at least 1, got \(limit)") }
        var results = [DecodedSequence?](repeating: nil, count: sources.count)
        let order = sources.indices.sorted { (sources[$0].count, $0) < (sources[$1].count, $1) }
        let search = BeamSearch(model: self, beamSize: options.beamSize)
        for start in stride(from: 0, to: order.count, by: options.batchSize) {
            let indices = Array(order[start..<min(start + options.batchSize, order.count)])
            let decoded = try search.run(indices.map { sources[$0] }, options: options)
            for (index, result) in zip(indices, decoded) { results[index] = result }
        }
        return results.map { $0! }
    }
}

/// The per-step machinery of beam search. Every buffer is sized once per batch; the step loop
/// allocates nothing (only a finished hypothesis' token list is built, once per hypothesis).
final class BeamSearch {
    let model: Seq2Seq
    let beamSize: Int
    private let hidden = FloatBuffer(), cell = FloatBuffer()   // (Ld, R, Hd), the states entering a step
    private let zeroCell = FloatBuffer()
    private let embedded = FloatBuffer()                        // (R, E)
    private let combined = FloatBuffer()                        // (R, Hk + Hd)
    private let attentional = FloatBuffer()                     // (R, Hd)
    private let logits = FloatBuffer()                          // (R, V), log-probabilities after `step`
    private let tiledKeys = FloatBuffer()                       // (S, R, Hk)
    private let noLengths: [Int32] = []

    init(model: Seq2Seq, beamSize: Int) {
        self.model = model
        self.beamSize = beamSize
    }

    /// One decoder step for R rows fed `tokens`: log-probabilities (R, V) in `logits`; the new
    /// states stay in the runners (`finalHidden`, `finalCell`) until `reorder` gathers them.
    func step(tokens: UnsafePointer<Int32>, rows R: Int) {
        let config = model.config, E = config.embeddingDimension, Hd = config.decoderHiddenSize, V = config.targetVocabularySize
        let table = model.store.values(of: model.targetEmbedding.weight)
        let x = embedded.reserve(R * E)
        for r in 0..<R { (x + r * E).update(from: table + Int(tokens[r]) * E, count: E) }
        var input = UnsafePointer(x)
        let lstm = config.decoderCell == .lstm
        for (layer, runner) in model.decoderLayers.enumerated() {
            runner.forward(input: input, steps: 1, rows: R, lengths: noLengths,
                           h0: UnsafePointer(hidden.pointer + layer * R * Hd),
                           c0: UnsafePointer(lstm ? cell.pointer + layer * R * Hd : zeroCell.pointer))
            input = runner.finalHidden
        }
        let width = model.combine.inputSize
        let z = combined.reserve(R * width)
        if let attention = model.attention {
            let Hk = config.keySize
            let context = attention.forward(queries: input, steps: 1)
            for r in 0..<R {
                (z + r * width).update(from: context + r * Hk, count: Hk)
                (z + r * width + Hk).update(from: input + r * Hd, count: Hd)
            }
        } else {
            z.update(from: input, count: R * Hd)
        }
        let store = model.store
        let h = attentional.reserve(R * Hd)
        let combineBias = store.values(of: model.combine.bias!)
        for r in 0..<R { (h + r * Hd).update(from: combineBias, count: Hd) }
        BLAS.gemm(transposeA: false, transposeB: true, m: R, n: Hd, k: width, a: z, lda: width,
                  b: store.values(of: model.combine.weight), ldb: width, beta: 1, c: h, ldc: Hd)
        for index in 0..<(R * Hd) { h[index] = tanhf(h[index]) }
        let y = logits.reserve(R * V)
        let generatorBias = store.values(of: model.generator.bias!)
        for r in 0..<R { (y + r * V).update(from: generatorBias, count: V) }
        BLAS.gemm(transposeA: false, transposeB: true, m: R, n: V, k: Hd, a: h, lda: Hd,
                  b: store.values(of: model.generator.weight), ldb: Hd, beta: 1, c: y, ldc: V)
        for r in 0..<R { logSoftmax(y + r * V, count: V) }
    }

    /// x ← x − log Σ e^x, eight lanes at a time (the vocabulary-wide row of every beam, every step).
    private func logSoftmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var maximum = -Float.infinity
        for j in 0..<count { maximum = max(maximum, x[j]) }
        var lanes = Float8(repeating: 0), j = 0
        let shift8 = Float8(repeating: maximum)
        while j + 8 <= count {
            lanes += exp8(loadFloat8(x + j) - shift8)
            j += 8
        }
        var sum = lanes.sum()
        while j < count {
            sum += expf(x[j] - maximum)
            j += 1
        }
        let shift = maximum + logf(sum)
        for j in 0..<count { x[j] -= shift }
    }

    /// States entering the next step: row r takes the new state of row `parents[r]`.
    func reorder(parents: [Int], rows R: Int) {
        let Hd = model.config.decoderHiddenSize, lstm = model.config.decoderCell == .lstm
        for (layer, runner) in model.decoderLayers.enumerated() {
            let newHidden = runner.finalHidden, target = hidden.pointer + layer * R * Hd
            for r in 0..<R { (target + r * Hd).update(from: newHidden + parents[r] * Hd, count: Hd) }
            if lstm {
                let newCell = runner.finalCell, cellTarget = cell.pointer + layer * R * Hd
                for r in 0..<R { (cellTarget + r * Hd).update(from: newCell + parents[r] * Hd, count: Hd) }
            }
        }
    }

    func run(_ sources: [[Int32]], options: BeamSearchOptions) throws -> [DecodedSequence] {
        let config = model.config, K = beamSize, N = sources.count, R = N * K
        let Hd = config.decoderHiddenSize, Ld = config.decoderLayers, V = config.targetVocabularySize
        let source = try TokenBatch(sequences: sources, padding: Int32(config.sourcePaddingId))
        var random = SeededGenerator(seed: 0)
        let keys = try model.encode(source, training: false, generator: &random)   // (S, N, Hk); initial states (Ld, N, Hd)
        let S = source.steps
        let start = hidden.reserve(Ld * R * Hd)
        let encoded = model.initialStateValues
        for layer in 0..<Ld {
            for r in 0..<R { (start + (layer * R + r) * Hd).update(from: encoded + (layer * N + r / K) * Hd, count: Hd) }
        }
        cell.zeroed(Ld * R * Hd)
        zeroCell.zeroed(R * Hd)
        if let attention = model.attention {
            let Hk = config.keySize
            let tiled = tiledKeys.reserve(S * R * Hk)
            keys.withUnsafeBufferPointer { k in
                for s in 0..<S {
                    for r in 0..<R { (tiled + (s * R + r) * Hk).update(from: k.baseAddress! + (s * N + r / K) * Hk, count: Hk) }
                }
            }
            attention.setKeys(tiled, steps: S, rows: R, lengths: (0..<R).map { source.lengths[$0 / K] })
        }
        let maxLength = min(options.maxLength ?? (2 * S + 10), config.maxTargetLength + 1)

        var scores = [Float](repeating: -.infinity, count: R)
        for n in 0..<N { scores[n * K] = 0 }
        var tokens = [Int32](repeating: Int32(config.startId), count: R)
        var history = [Int32](repeating: 0, count: maxLength * R)   // token chosen at step t for row r
        var parents = [Int](repeating: 0, count: maxLength * R)     // row it extends, at step t − 1
        var finished = [[DecodedSequence]](repeating: [], count: N)
        var active = [Bool](repeating: true, count: N)
        var newScores = scores, newTokens = tokens, stepParents = [Int](repeating: 0, count: R)
        var candidateScores = [Float](repeating: 0, count: 2 * K), candidateRows = [Int](repeating: 0, count: 2 * K)
        var candidateTokens = [Int32](repeating: 0, count: 2 * K)
        let end = Int32(config.endId), alpha = options.lengthPenalty

        func backtrack(row: Int, step t: Int) -> [Int32] {
            var result: [Int32] = []
            var row = row, t = t
            while t >= 0 {
                result.append(history[t * R + row])
                row = parents[t * R + row]
                t -= 1
            }
            return result.reversed()
        }

        for t in 0..<maxLength where active.contains(true) {
            tokens.withUnsafeBufferPointer { step(tokens: $0.baseAddress!, rows: R) }
            let logProbabilities = logits.pointer
            for n in 0..<N {
                let base = n * K
                guard active[n] else {
                    for k in 0..<K {
                        stepParents[base + k] = base + k
                        newScores[base + k] = -.infinity
                        newTokens[base + k] = end
                    }
                    continue
                }
                // The best 2K extensions of the live beams, best first.
                var count = 0
                for k in 0..<K where scores[base + k] > -.infinity {
                    let row = logProbabilities + (base + k) * V, prefix = scores[base + k]
                    for j in 0..<V {
                        let total = prefix + row[j]
                        guard count < 2 * K || total > candidateScores[count - 1] else { continue }
                        var position = min(count, 2 * K - 1)
                        while position > 0 && candidateScores[position - 1] < total {
                            if position < 2 * K {
                                candidateScores[position] = candidateScores[position - 1]
                                candidateRows[position] = candidateRows[position - 1]
                                candidateTokens[position] = candidateTokens[position - 1]
                            }
                            position -= 1
                        }
                        candidateScores[position] = total
                        candidateRows[position] = base + k
                        candidateTokens[position] = Int32(j)
                        count = min(count + 1, 2 * K)
                    }
                }
                var kept = 0
                for c in 0..<count where kept < K {
                    if candidateTokens[c] == end || t == maxLength - 1 {
                        var sequence = t > 0 ? backtrack(row: candidateRows[c], step: t - 1) : []
                        if candidateTokens[c] != end { sequence.append(candidateTokens[c]) }
                        let length = Double(t + 1)
                        finished[n].append(DecodedSequence(tokens: sequence, score: Double(candidateScores[c]) / pow(length, alpha),
                                                           logProbability: Double(candidateScores[c])))
                        if finished[n].count >= K { break }
                        continue
                    }
                    stepParents[base + kept] = candidateRows[c]
                    newScores[base + kept] = candidateScores[c]
                    newTokens[base + kept] = candidateTokens[c]
                    kept += 1
                }
                for k in kept..<K {
                    stepParents[base + k] = base
                    newScores[base + k] = -.infinity
                    newTokens[base + k] = end
                }
                if finished[n].count >= K || kept == 0 || t == maxLength - 1 { active[n] = false }
            }
            for r in 0..<R {
                history[t * R + r] = newTokens[r]
                parents[t * R + r] = stepParents[r]
            }
            reorder(parents: stepParents, rows: R)
            swap(&scores, &newScores)
            swap(&tokens, &newTokens)
        }
        return finished.map { hypotheses in
            hypotheses.max { $0.score < $1.score } ?? DecodedSequence(tokens: [], score: -.infinity, logProbability: -.infinity)
        }
    }
}
