import RNN
import RNNCore
import XCTest

final class AttentionTests: XCTestCase {
    /// T = 3 queries over S = 4 keys for B = 2 rows, the second row with only 2 real keys.
    private let T = 3, S = 4, B = 2, Hq = 5, Hk = 6
    private let lengths = [4, 2]

    /// L = Σ c ⊙ w for a fixed cotangent w; every parameter, the queries and the keys against
    /// central differences, for both scoring functions.
    func testGradientsMatchFiniteDifferences() throws {
        for kind in [AttentionKind.bahdanau, .luong] {
            var generator = SeededGenerator(seed: 7)
            let store = ParameterStore()
            let attention = try Attention(kind: kind, querySize: Hq, keySize: Hk, attentionSize: 4, store: store, generator: &generator)
            // Raw buffers, so the check can perturb them while `loss` reads them.
            let queries = FloatBuffer(), keys = FloatBuffer()
            queries.load(randomTensor([T, B, Hq], seed: 1))
            keys.load(randomTensor([S, B, Hk], seed: 2))
            let cotangent = randomTensor([T, B, Hk], seed: 3)
            func loss() -> Double {
                attention.setKeys(keys.pointer, steps: S, rows: B, lengths: lengths)
                let context = Tensor(shape: [T, B, Hk], copying: attention.forward(queries: queries.pointer, steps: T))
                return dot(context, cotangent)
            }
            _ = loss()
            store.zeroGradients()
            var queryGradient = Tensor(shape: [T, B, Hq]), keyGradient = Tensor(shape: [S, B, Hk])
            cotangent.withUnsafeBufferPointer { dc in
                queryGradient.withUnsafeMutableBufferPointer { dq in
                    keyGradient.withUnsafeMutableBufferPointer { dk in
                        attention.backward(contextGradient: dc.baseAddress!, queryGradient: dq.baseAddress!, keyGradient: dk.baseAddress!)
                    }
                }
            }
            for parameter in store.parameters {
                checkGradient("\(kind) \(parameter.name)", values: store.values(of: parameter), count: parameter.count,
                                  analytic: store.gradientTensor(parameter).scalars, loss: loss)
            }
            checkGradient("\(kind) queries", values: queries.pointer, count: T * B * Hq, analytic: queryGradient.scalars, loss: loss)
            checkGradient("\(kind) keys", values: keys.pointer, count: S * B * Hk, analytic: keyGradient.scalars, loss: loss)
            // Padded keys of row 1 get no weight and no gradient.
            for t in 0..<T {
                for s in 2..<S { XCTAssertEqual(attention.attentionWeights[(t * B + 1) * S + s], 0) }
                var total: Float = 0
                for s in 0..<S { total += attention.attentionWeights[(t * B + 1) * S + s] }
                XCTAssertEqual(total, 1, accuracy: 1e-5)
            }
            for s in 2..<S {
                for j in 0..<Hk { XCTAssertEqual(keyGradient.scalars[(s * B + 1) * Hk + j], 0, "\(kind): padded key \(s)") }
            }
        }
    }

    func testParameterNamesAndCounts() throws {
        var generator = SeededGenerator(seed: 1)
        let store = ParameterStore()
        let additive = try Attention(kind: .bahdanau, querySize: 8, keySize: 12, attentionSize: 10, store: store, generator: &generator)
        XCTAssertEqual(store.parameters.map(\.name), ["attention.linear_query.weight", "attention.linear_query.bias",
                                                      "attention.linear_context.weight", "attention.v.weight"])
        XCTAssertEqual(additive.parameterCount, store.scalarCount)
        let other = ParameterStore()
        let multiplicative = try Attention(kind: .luong, querySize: 8, keySize: 12, attentionSize: 10, store: other, generator: &generator)
        XCTAssertEqual(other.parameters.map(\.name), ["attention.linear_in.weight"])
        XCTAssertEqual(multiplicative.parameterCount, 96)
        XCTAssertThrowsError(try Attention(kind: .none, querySize: 8, keySize: 8, attentionSize: 8, store: other, generator: &generator))
    }
}
