import Foundation
import RNN
import RNNCore
import XCTest

/// L(θ) = Σ ½ cᵢ θᵢ² over θ₀ split into two parameters `w` (3,) and `b` (2,): the gradient is
/// cᵢθᵢ, so every step depends on the previous ones. Shared by the optimizer tests.
struct QuadraticProblem {
    let theta0: [Float] = [0.5, -1.0, 2.0, 0.1, -0.3]
    let curvature: [Float] = [1.0, 2.0, 0.5, 3.0, 0.25]

    /// A store holding θ₀ as `w` (3,) and `b` (2,).
    func makeStore() throws -> ParameterStore {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 1)
        let w = store.add("w", shape: [3], initializer: .zeros, generator: &generator)
        let b = store.add("b", shape: [2], initializer: .zeros, generator: &generator)
        try store.setValues(w, from: Tensor(shape: [3], scalars: Array(theta0[0..<3])))
        try store.setValues(b, from: Tensor(shape: [2], scalars: Array(theta0[3..<5])))
        return store
    }

    /// Sets g = cθ (what backward would add after zeroGradients) and steps.
    func step(_ optimizer: any TrainingOptimizer, _ store: ParameterStore) {
        store.zeroGradients()
        for i in 0..<store.scalarCount { store.allGradients[i] += curvature[i] * store.allValues[i] }
        optimizer.step()
    }
}

/// The bookkeeping of `Optimizer<Rule>`: frozen parameters, per-parameter steps, state export
/// and import, argument checks. The update rules themselves are in `OptimizersTests`.
final class OptimizerTests: XCTestCase {
    private let problem = QuadraticProblem()
    private var theta0: [Float] { problem.theta0 }

    func testFrozenParametersAreSkippedAndStartAtStepOneWhenUnfrozen() throws {
        let store = try problem.makeStore()
        let b = store.parameter(named: "b")!
        store.setFrozen(b, true)
        let optimizer = try Optimizer(store: store, rule: Adam(), learningRate: 0.1)
        for _ in 0..<3 { problem.step(optimizer, store) }
        XCTAssertEqual(Array(store.allValues[3..<5]), Array(theta0[3..<5]))
        XCTAssertNotEqual(Array(store.allValues[0..<3]), Array(theta0[0..<3]))
        XCTAssertEqual(optimizer.parameterSteps, [3, 0])
        store.setFrozen(b, false)
        problem.step(optimizer, store)
        XCTAssertEqual(optimizer.parameterSteps, [4, 1])
        // Adam's first step moves each scalar by γ·sign(g) (up to ε): m̂ = g, v̂ = g².
        XCTAssertEqual(store.allValues[3], theta0[3] - 0.1, accuracy: 1e-6)
        XCTAssertEqual(store.allValues[4], theta0[4] + 0.1, accuracy: 1e-6)
    }

    func testStateRoundTripResumesExactly() throws {
        let rule = RMSprop(momentum: 0.5, centered: true)
        let store = try problem.makeStore(), resumedStore = try problem.makeStore()
        let optimizer = try Optimizer(store: store, rule: rule, learningRate: 0.01)
        for _ in 0..<3 { problem.step(optimizer, store) }
        let state = optimizer.stateTensors()
        XCTAssertEqual(state.map(\.name), ["rmsprop.step", "rmsprop.square_avg", "rmsprop.momentum_buffer", "rmsprop.grad_avg"])
        XCTAssertEqual(state[0].tensor.scalars, [3, 3])
        XCTAssertEqual(state[1].tensor.shape, [5])

        // Resume through a safetensors file, as a checkpoint would.
        let file = try SafeTensors(bytes: SafeTensors.serialize(state))
        let resumed = try Optimizer(store: resumedStore, rule: rule, learningRate: 0.01)
        try resumed.loadState(try file.names.map { (name: $0, tensor: try file.tensor($0)) })
        resumedStore.restore(store.snapshot())
        for _ in 0..<2 {
            problem.step(optimizer, store)
            problem.step(resumed, resumedStore)
        }
        XCTAssertEqual(Array(resumedStore.allValues), Array(store.allValues))
        XCTAssertEqual(resumed.parameterSteps, [5, 5])
        XCTAssertEqual(resumed.slot(named: "grad_avg"), optimizer.slot(named: "grad_avg"))
    }

    func testLoadStateRejectsMismatchesWithoutChangingAnything() throws {
        let optimizer = try Optimizer(store: try problem.makeStore(), rule: Adam(), learningRate: 0.1)
        problem.step(optimizer, optimizer.store)
        let good = optimizer.stateTensors()
        XCTAssertThrowsError(try optimizer.loadState(Array(good.dropLast()))) {
            XCTAssertEqual(($0 as? RNNError)?.message, "optimizer state: missing 'adam.exp_avg_sq' (is this a adam checkpoint?)")
        }
        var short = good
        short[1].tensor = Tensor(shape: [4])
        XCTAssertThrowsError(try optimizer.loadState(short)) {
            XCTAssertEqual(($0 as? RNNError)?.message, "optimizer state: 'adam.exp_avg' has 4 values, this model needs 5")
        }
        var fractional = good
        fractional[0].tensor.scalars = [1.5, 1]
        XCTAssertThrowsError(try optimizer.loadState(fractional))
        XCTAssertEqual(optimizer.parameterSteps, [1, 1])
        XCTAssertThrowsError(try optimizer.loadState(try Optimizer(store: try problem.makeStore(), rule: SGD(momentum: 0.9), learningRate: 0.1).stateTensors()))
        let withMomentum = try Optimizer(store: try problem.makeStore(), rule: RMSprop(momentum: 0.9), learningRate: 0.1)
        let plain = try Optimizer(store: try problem.makeStore(), rule: RMSprop(), learningRate: 0.1)
        XCTAssertThrowsError(try plain.loadState(withMomentum.stateTensors())) {
            XCTAssertEqual(($0 as? RNNError)?.message,
                           "optimizer state: unexpected 'rmsprop.momentum_buffer' (the checkpoint's rmsprop was configured differently; expected rmsprop.square_avg, rmsprop.step)")
        }
        // Model weights stored in the same checkpoint are not the optimizer's business.
        try optimizer.loadState(good + [(name: "w", tensor: Tensor(shape: [3]))])
    }

    func testLearningRateIsChecked() throws {
        let store = try problem.makeStore()
        XCTAssertThrowsError(try Optimizer(store: store, rule: RMSprop(), learningRate: -0.1)) {
            XCTAssertEqual(($0 as? RNNError)?.message, "optimizer: learning rate must be finite and >= 0, got -0.1")
        }
        XCTAssertThrowsError(try Optimizer(store: store, rule: SGD(), learningRate: .nan))
    }
}
