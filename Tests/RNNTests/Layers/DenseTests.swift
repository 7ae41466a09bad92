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

    /// A product of at least 2²² multiply-adds runs on two threads (halves of the output units
    /// for ∂L/∂W, halves of the rows for y and ∂L/∂x): everything must match one thread, with
    /// 1,030 units (not a multiple of the 16-unit split) and 66 rows.
    func testTwoThreadsMatchOneOnALargeProduct() throws {
        let savedThreads = BLAS.threads
        defer { BLAS.setThreads(savedThreads) }
        let x = randomTensor([66, 64], seed: 13), cotangent = randomTensor([66, 1030], seed: 14)
        func run(threads: Int) throws -> [Tensor] {
            BLAS.setThreads(threads)
            let store = ParameterStore()
            var generator = SeededGenerator(seed: 5)
            let dense = try Dense(inputSize: 64, outputSize: 1030, store: store, generator: &generator)
            let y = try dense.forward(x)
            store.zeroGradients()
            let dx = try dense.backward(outputGradient: cotangent)
            return [y, dx] + store.parameters.map { store.gradientTensor($0) }
        }
        let one = try run(threads: 1), two = try run(threads: 2)
        for (index, (expected, actual)) in zip(one, two).enumerated() {
            assertClose(actual, expected, relative: 1e-5, "result \(index)")
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
