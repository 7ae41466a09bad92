import Foundation
import RNNCore

/// How a decoder scores the encoder outputs it attends to.
public enum AttentionKind: String, Codable, Sendable, CaseIterable {
    /// Additive (Bahdanau et al. 2015): e = vᵀ tanh(W_q q + b + W_k k).
    case bahdanau
    /// Multiplicative, Luong et al. 2015 "general": e = qᵀ W k.
    case luong
    /// No attention: the decoder sees the source only through its initial state.
    case none
}

/// Attention of T queries over S keys per batch row, with source padding masked (OpenNMT's
/// `GlobalAttention`, parameter names included). Shapes, time-major like every recurrent layer:
/// queries q (T, B, Hq), keys k (S, B, Hk) (the encoder outputs), contexts c (T, B, Hk).
///
/// Forward, for query t and key s of row b (s < length_b; padded keys get α = 0):
///
///     bahdanau: u_ts = tanh(W_q q_t + b_q + W_k k_s)      W_q (A, Hq) `linear_query.weight`, b_q `linear_query.bias`
///               e_ts = v · u_ts                            W_k (A, Hk) `linear_context.weight`, v (1, A) `v.weight`
///     luong:    e_ts = q_t · (W k_s)                       W (Hq, Hk) `linear_in.weight`
///     α_t = softmax_s(e_t)          c_t = Σ_s α_ts k_s
///
/// Backward, side by side (gradients of parameters accumulate, ∂L/∂q is overwritten, ∂L/∂k
/// accumulates so the encoder's output gradient can collect it):
///
///     ∂α_ts = ∂c_t · k_s                     ∂k_s += Σ_t α_ts ∂c_t
///     ∂e_ts = α_ts (∂α_ts − Σ_s' α_ts' ∂α_ts')
///     bahdanau: ∂u = ∂e v,  ∂a = ∂u ⊙ (1 − u²),  ∂v += Σ ∂e u
///               ∂q_t = W_qᵀ Σ_s ∂a_ts,  ∂W_q += Σ (Σ_s ∂a_ts) q_tᵀ,  ∂b_q += Σ ∂a
///               ∂k_s += W_kᵀ Σ_t ∂a_ts,  ∂W_k += Σ (Σ_t ∂a_ts) k_sᵀ
///     luong:    ∂q_t = Σ_s ∂e_ts W k_s,  ∂(W k_s) = Σ_t ∂e_ts q_t,  ∂W += Σ ∂(W k_s) k_sᵀ,  ∂k_s += Wᵀ ∂(W k_s)
///
/// `setKeys` projects the keys once (per batch in training, per sentence batch in decoding), so a
/// decoder step costs one (B, Hq)·(Hq, A) product plus the scores. Buffers only grow: per-step
/// calls allocate nothing.
public final class Attention {
    public let kind: AttentionKind
    public let querySize: Int
    public let keySize: Int
    /// A: width of the additive scorer's hidden layer (Bahdanau only).
    public let attentionSize: Int
    private let store: ParameterStore
    private let queryWeight: Parameter?, queryBias: Parameter?, keyWeight: Parameter?, scoreWeight: Parameter?
    private let bilinearWeight: Parameter?

    private var keySteps = 0, rows = 0, querySteps = 0
    private var lengths: [Int] = []
    private let keys = FloatBuffer()              // (S, B, Hk)
    private let projectedKeys = FloatBuffer()     // (S, B, A) bahdanau, (S, B, Hq) luong
    private let queries = FloatBuffer()           // (T, B, Hq)
    private let projectedQueries = FloatBuffer()  // (T, B, A) bahdanau
    private let hidden = FloatBuffer()            // (T, B, S, A) bahdanau: u_ts
    private let weights = FloatBuffer()           // (T, B, S): α
    private let contexts = FloatBuffer()          // (T, B, Hk)
    private let scoreGradient = FloatBuffer()     // (T, B, S)
    private let queryScratch = FloatBuffer()      // (T, B, A) or unused
    private let keyScratch = FloatBuffer()        // (S, B, A) or (S, B, Hq)

    /// Registers the parameters under `name` (e.g. `"attention."`).
    public init(kind: AttentionKind, querySize: Int, keySize: Int, attentionSize: Int, name: String = "attention.",
                store: ParameterStore, generator: inout SeededGenerator) throws {
        guard kind != .none else { throw RNNError("attention: kind 'none' has no attention layer") }
        guard querySize > 0, keySize > 0, attentionSize > 0 else {
            throw RNNError("attention: sizes must be positive, got query \(querySize), key \(keySize), attention \(attentionSize)")
        }
        self.kind = kind
        self.querySize = querySize
        self.keySize = keySize
        self.attentionSize = kind == .bahdanau ? attentionSize : querySize
        self.store = store
        if kind == .bahdanau {
            let A = attentionSize
            queryWeight = store.add(name + "linear_query.weight", shape: [A, querySize],
                                    initializer: .uniform(bound: 1 / Float(querySize).squareRoot()), generator: &generator)
            queryBias = store.add(name + "linear_query.bias", shape: [A],
                                  initializer: .uniform(bound: 1 / Float(querySize).squareRoot()), generator: &generator)
            keyWeight = store.add(name + "linear_context.weight", shape: [A, keySize],
                                  initializer: .uniform(bound: 1 / Float(keySize).squareRoot()), generator: &generator)
            scoreWeight = store.add(name + "v.weight", shape: [1, A],
                                    initializer: .uniform(bound: 1 / Float(A).squareRoot()), generator: &generator)
            bilinearWeight = nil
        } else {
            (queryWeight, queryBias, keyWeight, scoreWeight) = (nil, nil, nil, nil)
            bilinearWeight = store.add(name + "linear_in.weight", shape: [querySize, keySize],
                                       initializer: .uniform(bound: 1 / Float(keySize).squareRoot()), generator: &generator)
        }
    }

    public var parameterCount: Int {
        kind == .bahdanau ? attentionSize * (querySize + keySize + 2) : querySize * keySize
    }

    /// Keys for the following `forward` calls: (S, B, Hk) time-major, `lengths` B values in 1…S.
    public func setKeys(_ keyValues: UnsafePointer<Float>, steps S: Int, rows B: Int, lengths: [Int]) {
        precondition(lengths.count == B && lengths.allSatisfy { (1...S).contains($0) }, "attention: bad key lengths")
        keySteps = S
        rows = B
        self.lengths = lengths
        let Hk = keySize
        keys.reserve(S * B * Hk).update(from: keyValues, count: S * B * Hk)
        switch kind {
        case .bahdanau:
            let A = attentionSize
            let kp = projectedKeys.reserve(S * B * A)
            BLAS.gemm(transposeA: false, transposeB: true, m: S * B, n: A, k: Hk, a: keys.pointer, lda: Hk,
                      b: store.values(of: keyWeight!), ldb: Hk, beta: 0, c: kp, ldc: A)
        case .luong:
            let Hq = querySize
            BLAS.gemm(transposeA: false, transposeB: true, m: S * B, n: Hq, k: Hk, a: keys.pointer, lda: Hk,
                      b: store.values(of: bilinearWeight!), ldb: Hk, beta: 0, c: projectedKeys.reserve(S * B * Hq), ldc: Hq)
        case .none: break
        }
    }

    /// Attention weights α of the last forward, (T, B, S); zero at padded keys.
    public var attentionWeights: UnsafePointer<Float> { UnsafePointer(weights.pointer) }

    /// Contexts for `steps` queries per row: queries (T, B, Hq) → (T, B, Hk), valid until the next call.
    @discardableResult
    public func forward(queries queryValues: UnsafePointer<Float>, steps T: Int) -> UnsafePointer<Float> {
        let S = keySteps, B = rows, Hq = querySize, Hk = keySize
        querySteps = T
        queries.reserve(T * B * Hq).update(from: queryValues, count: T * B * Hq)
        let scores = weights.reserve(T * B * S)
        switch kind {
        case .bahdanau:
            let A = attentionSize
            let qp = projectedQueries.reserve(T * B * A)
            let bias = store.values(of: queryBias!)
            for row in 0..<(T * B) { (qp + row * A).update(from: bias, count: A) }
            BLAS.gemm(transposeA: false, transposeB: true, m: T * B, n: A, k: Hq, a: queries.pointer, lda: Hq,
                      b: store.values(of: queryWeight!), ldb: Hq, beta: 1, c: qp, ldc: A)
            let u = hidden.reserve(T * B * S * A), kp = projectedKeys.pointer, v = store.values(of: scoreWeight!)
            for t in 0..<T {
                for b in 0..<B {
                    let query = qp + (t * B + b) * A
                    for s in 0..<lengths[b] {
                        scores[(t * B + b) * S + s] = additiveScore(query: query, key: kp + (s * B + b) * A, v: v,
                                                                    hidden: u + ((t * B + b) * S + s) * A, count: A)
                    }
                }
            }
        case .luong:
            // e_b (T, S) = Q_b (T, Hq) · Kp_bᵀ: rows of one batch row are B·H apart.
            for b in 0..<B {
                BLAS.gemm(transposeA: false, transposeB: true, m: T, n: lengths[b], k: Hq,
                          a: queries.pointer + b * Hq, lda: B * Hq, b: projectedKeys.pointer + b * Hq, ldb: B * Hq,
                          beta: 0, c: scores + b * S, ldc: B * S)
            }
        case .none: break
        }
        // Masked softmax over s < length_b.
        for t in 0..<T {
            for b in 0..<B {
                let row = scores + (t * B + b) * S, length = lengths[b]
                var maximum = -Float.infinity
                for s in 0..<length { maximum = max(maximum, row[s]) }
                var sum: Float = 0
                for s in 0..<length {
                    row[s] = expf(row[s] - maximum)
                    sum += row[s]
                }
                let scale = 1 / sum
                for s in 0..<length { row[s] *= scale }
                for s in length..<S { row[s] = 0 }
            }
        }
        // c_b (T, Hk) = α_b (T, S) · K_b (S, Hk)
        let context = contexts.reserve(T * B * Hk)
        for b in 0..<B {
            BLAS.gemm(transposeA: false, transposeB: false, m: T, n: Hk, k: S,
                      a: scores + b * S, lda: B * S, b: keys.pointer + b * Hk, ldb: B * Hk,
                      beta: 0, c: context + b * Hk, ldc: B * Hk)
        }
        return UnsafePointer(context)
    }

    /// Backward for the last `forward` (whose keys came from the last `setKeys`).
    /// - contextGradient: ∂L/∂c (T, B, Hk).
    /// - queryGradient: ∂L/∂q (T, B, Hq), overwritten.
    /// - keyGradient: ∂L/∂k (S, B, Hk), accumulated.
    public func backward(contextGradient: UnsafePointer<Float>, queryGradient: UnsafeMutablePointer<Float>,
                         keyGradient: UnsafeMutablePointer<Float>) {
        let T = querySteps, S = keySteps, B = rows, Hq = querySize, Hk = keySize
        let alpha = weights.pointer, dScores = scoreGradient.reserve(T * B * S)
        // ∂k_s += Σ_t α_ts ∂c_t : per row, K_b grad (S, Hk) += α_bᵀ (S, T) · ∂C_b (T, Hk)
        // ∂α_ts = ∂c_t · k_s : per row, (T, S) = ∂C_b (T, Hk) · K_bᵀ
        for b in 0..<B {
            BLAS.gemm(transposeA: true, transposeB: false, m: S, n: Hk, k: T,
                      a: alpha + b * S, lda: B * S, b: contextGradient + b * Hk, ldb: B * Hk,
                      beta: 1, c: keyGradient + b * Hk, ldc: B * Hk)
            BLAS.gemm(transposeA: false, transposeB: true, m: T, n: S, k: Hk,
                      a: contextGradient + b * Hk, lda: B * Hk, b: keys.pointer + b * Hk, ldb: B * Hk,
                      beta: 0, c: dScores + b * S, ldc: B * S)
        }
        // Softmax backward: ∂e = α ⊙ (∂α − Σ α ∂α); zero at padded keys (α = 0 there).
        for row in 0..<(T * B) {
            let a = alpha + row * S, d = dScores + row * S
            var total: Float = 0
            for s in 0..<S { total += a[s] * d[s] }
            for s in 0..<S { d[s] = a[s] * (d[s] - total) }
        }
        switch kind {
        case .bahdanau:
            let A = attentionSize
            let v = store.values(of: scoreWeight!), dv = store.gradients(of: scoreWeight!)
            let dQp = queryScratch.zeroed(T * B * A), dKp = keyScratch.zeroed(S * B * A)
            let u = hidden.pointer
            for t in 0..<T {
                for b in 0..<B {
                    let dq = dQp + (t * B + b) * A
                    for s in 0..<lengths[b] {
                        additiveBackward(scoreGradient: dScores[(t * B + b) * S + s], hidden: u + ((t * B + b) * S + s) * A,
                                         v: v, dv: dv, dQuery: dq, dKey: dKp + (s * B + b) * A, count: A)
                    }
                }
            }
            // ∂q = ∂Qp W_q; ∂W_q += ∂Qpᵀ q; ∂b_q += Σ ∂Qp
            BLAS.gemm(transposeA: false, transposeB: false, m: T * B, n: Hq, k: A, a: dQp, lda: A,
                      b: store.values(of: queryWeight!), ldb: Hq, beta: 0, c: queryGradient, ldc: Hq)
            BLAS.gemm(transposeA: true, transposeB: false, m: A, n: Hq, k: T * B, a: dQp, lda: A,
                      b: queries.pointer, ldb: Hq, beta: 1, c: store.gradients(of: queryWeight!), ldc: Hq)
            addColumnSums(dQp, rows: T * B, columns: A, into: store.gradients(of: queryBias!))
            // ∂k += ∂Kp W_k; ∂W_k += ∂Kpᵀ k
            BLAS.gemm(transposeA: false, transposeB: false, m: S * B, n: Hk, k: A, a: dKp, lda: A,
                      b: store.values(of: keyWeight!), ldb: Hk, beta: 1, c: keyGradient, ldc: Hk)
            BLAS.gemm(transposeA: true, transposeB: false, m: A, n: Hk, k: S * B, a: dKp, lda: A,
                      b: keys.pointer, ldb: Hk, beta: 1, c: store.gradients(of: keyWeight!), ldc: Hk)
        case .luong:
            let dKp = keyScratch.zeroed(S * B * Hq)
            for b in 0..<B {
                // ∂q_b (T, Hq) = ∂e_b (T, S) · Kp_b (S, Hq);  ∂Kp_b (S, Hq) = ∂e_bᵀ · Q_b
                BLAS.gemm(transposeA: false, transposeB: false, m: T, n: Hq, k: S,
                          a: dScores + b * S, lda: B * S, b: projectedKeys.pointer + b * Hq, ldb: B * Hq,
                          beta: 0, c: queryGradient + b * Hq, ldc: B * Hq)
                BLAS.gemm(transposeA: true, transposeB: false, m: S, n: Hq, k: T,
                          a: dScores + b * S, lda: B * S, b: queries.pointer + b * Hq, ldb: B * Hq,
                          beta: 0, c: dKp + b * Hq, ldc: B * Hq)
            }
            let w = bilinearWeight!
            // Kp = k Wᵀ: ∂W += ∂Kpᵀ k; ∂k += ∂Kp W
            BLAS.gemm(transposeA: true, transposeB: false, m: Hq, n: Hk, k: S * B, a: dKp, lda: Hq,
                      b: keys.pointer, ldb: Hk, beta: 1, c: store.gradients(of: w), ldc: Hk)
            BLAS.gemm(transposeA: false, transposeB: false, m: S * B, n: Hk, k: Hq, a: dKp, lda: Hq,
                      b: store.values(of: w), ldb: Hk, beta: 1, c: keyGradient, ldc: Hk)
        case .none: break
        }
    }
}

/// e = v · tanh(q + k), storing u = tanh(q + k); eight lanes at a time.
@inline(__always)
private func additiveScore(query: UnsafePointer<Float>, key: UnsafePointer<Float>, v: UnsafePointer<Float>,
                           hidden: UnsafeMutablePointer<Float>, count: Int) -> Float {
    var sum = Float8(repeating: 0)
    var j = 0
    while j + 8 <= count {
        let u = tanh8(loadFloat8(query + j) + loadFloat8(key + j))
        storeFloat8(u, hidden + j)
        sum += u * loadFloat8(v + j)
        j += 8
    }
    var total = sum.sum()
    while j < count {
        let u = tanhf(query[j] + key[j])
        hidden[j] = u
        total += u * v[j]
        j += 1
    }
    return total
}

/// Given ∂e: ∂v += ∂e u; ∂a = ∂e v ⊙ (1 − u²) added to ∂query and ∂key.
@inline(__always)
private func additiveBackward(scoreGradient de: Float, hidden: UnsafePointer<Float>, v: UnsafePointer<Float>,
                              dv: UnsafeMutablePointer<Float>, dQuery: UnsafeMutablePointer<Float>,
                              dKey: UnsafeMutablePointer<Float>, count: Int) {
    let scale = Float8(repeating: de)
    var j = 0
    while j + 8 <= count {
        let u = loadFloat8(hidden + j)
        storeFloat8(loadFloat8(dv + j) + scale * u, dv + j)
        let da = scale * loadFloat8(v + j) * (Float8(repeating: 1) - u * u)
        storeFloat8(loadFloat8(dQuery + j) + da, dQuery + j)
        storeFloat8(loadFloat8(dKey + j) + da, dKey + j)
        j += 8
    }
    while j < count {
        let u = hidden[j]
        dv[j] += de * u
        let da = de * v[j] * (1 - u * u)
        dQuery[j] += da
        dKey[j] += da
        j += 1
    }
}
