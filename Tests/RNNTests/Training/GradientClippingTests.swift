import Foundation
import RNN
import RNNCore
import XCTest

/// Clipping on small stores whose norms are worked out by hand (3-4-5 triangles).
final class GradientClippingTests: XCTestCase {
    /// `w` (2,) with gradient `wGradient`, `b` (1,) with 0, and a frozen `c` (1,) with gradient 100.
    private func makeStore(wGradient: [Float] = [3, 4]) -> ParameterStore {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 3)
        let w = store.add("w", shape: [2], initializer: .zeros, generator: &generator)
        store.add("b", shape: [1], initializer: .zeros, generator: &generator)
        let c = store.add("c", shape: [1], initializer: .zeros, generator: &generator)
        store.setFrozen(c, true)
        store.gradients(of: w)[0] = wGradient[0]
        store.gradients(of: w)[1] = wGradient[1]
        store.gradients(of: c)[0] = 100
        return store
    }

    func testClipByGlobalNormScalesOnlyTrainableGradients() throws {
        let store = makeStore()
        XCTAssertEqual(GradientClipping.globalNorm(of: store), 5, "frozen c is not counted")
        let norm = try GradientClipping.clipByGlobalNorm(store, maxNorm: 1)
        XCTAssertEqual(norm, 5, "returns the norm before clipping")
        let scale = Float(1 / (5 + 1e-6))
        XCTAssertEqual(Array(store.allGradients), [3 * scale, 4 * scale, 0, 100])
        XCTAssertEqual(GradientClipping.globalNorm(of: store), 1, accuracy: 1e-6)
    }

    func testNormBelowTheLimitLeavesGradientsAlone() throws {
        let store = makeStore()
        XCTAssertEqual(try GradientClipping.clipByGlobalNorm(store, maxNorm: 5), 5)
        XCTAssertEqual(Array(store.allGradients), [3, 4, 0, 100])
    }

    func testNonFiniteNormIsReturnedAndGradientsUntouched() throws {
        for bad in [Float.nan, .infinity] {
            let store = makeStore(wGradient: [bad, 1])
            let norm = try GradientClipping.clipByGlobalNorm(store, maxNorm: 1)
            XCTAssertFalse(norm.isFinite, "\(bad)")
            XCTAssertEqual(store.allGradients[1], 1)
        }
        // (3e30)² overflows Float but not the Double accumulator: the norm is still 5e30.
        let big = makeStore(wGradient: [3e30, 4e30])
        XCTAssertEqual(GradientClipping.globalNorm(of: big), 5e30, accuracy: 1e24)
    }

    func testGlobalNormOverManyScalars() {
        // Σ k² for k = 1...11 = 11·12·23/6 = 506; 11 is not a multiple of the 4-way unrolling.
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 3)
        let p = store.add("p", shape: [11], initializer: .zeros, generator: &generator)
        for k in 0..<11 { store.gradients(of: p)[k] = Float(k + 1) }
        XCTAssertEqual(GradientClipping.globalNorm(of: store), Float(506.0.squareRoot()), accuracy: 1e-5)
    }

    func testClipByValue() throws {
        let store = makeStore(wGradient: [-7, 2])
        store.allGradients[2] = 6
        try GradientClipping.clipByValue(store, limit: 5)
        XCTAssertEqual(Array(store.allGradients), [-5, 2, 5, 100], "frozen c keeps 100")
    }

    func testInvalidLimitsThrow() {
        let store = makeStore()
        XCTAssertThrowsError(try GradientClipping.clipByGlobalNorm(store, maxNorm: 0)) {
            XCTAssertEqual(($0 as? RNNError)?.message, "gradient clipping: maxNorm must be finite and > 0, got 0.0")
        }
        XCTAssertThrowsError(try GradientClipping.clipByValue(store, limit: -1))
        XCTAssertThrowsError(try GradientClipping.clipByValue(store, limit: .infinity))
    }
}
