import RNN
import RNNCore
import XCTest

final class DenseTests: XCTestCase {
    func testGradientsMatchFiniteDifferences() throws {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 3)
        let dense = try Dense(inputSize: 4, outputSize: 3, store: store, generator: &generator)
        var x = randomTensor([2, 5, 4], seed: 11)
        let cotangent = randomTensor([2, 5, 3], seed: 12)
        func loss() throws -> Double { dot(try dense.forward(x), cotangent) }
        _ = try dense.forward(x)
        store.zeroGradients()
        let dx = try dense.backward(outputGradient: cotangent)
        for parameter in store.parameters {
            try checkGradient(parameter.name, values: store.values(of: parameter), count: parameter.count,
                              analytic: store.gradientTensor(parameter).scalars, loss: loss)
        }
        let count = x.count
        try x.withUnsafeMutableBufferPointer { buffer in
            try checkGradient("x", values: buffer.baseAddress!, count: count, analytic: dx.scalars) {
                // `x` is captured by the buffer; evaluate on a copy of its current contents.
                dot(try dense.forward(Tensor(shape: [2, 5, 4], copying: buffer.baseAddress!)), cotangent)
            }
        }
    }

    func testForwardComputesAffineMap() throws {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 1)
        let dense = try Dense(inputSize: 2, outputSize: 2, store: store, generator: &generator)
        try store.setValues(dense.weight, from: Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        try store.setValues(dense.bias!, from: Tensor(shape: [2], scalars: [0.5, -1]))
        let y = try dense.forward(Tensor(shape: [1, 2], scalars: [1, -1]))
        XCTAssertEqual(y.scalars, [1 - 2 + 0.5, 3 - 4 - 1])
    }

    func testDefaultInitializationAndCountMatchPyTorch() throws {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 1)
        let dense = try Dense(inputSize: 256, outputSize: 1, store: store, generator: &generator)
        XCTAssertEqual(store.scalarCount, 257)  // torch: sum(p.numel()) of nn.Linear(256, 1)
        XCTAssertEqual(dense.parameterCount, 257)
        let bound = 1 / Float(256).squareRoot()
        XCTAssertTrue(store.tensor(dense.weight).scalars.allSatisfy { abs($0) <= bound })
    }

    func testWrongInputShapeIsAClearError() throws {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 1)
        let dense = try Dense(inputSize: 4, outputSize: 3, store: store, generator: &generator)
        XCTAssertThrowsError(try dense.forward(Tensor(shape: [2, 5]))) { error in
            XCTAssertEqual("\(error)", "dense: expected shape (..., 4), got (2, 5)")
        }
    }
}
