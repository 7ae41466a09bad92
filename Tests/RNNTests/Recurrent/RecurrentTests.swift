import RNN
import RNNCore
import XCTest

/// What the PyTorch fixtures cannot cover: merge modes other than concat, inter-layer dropout,
/// `go_backwards`, statefulness, defaults, initializers and errors.
final class RecurrentTests: XCTestCase {
    private func makeLayer(_ config: RecurrentConfig, seed: UInt64 = 7) throws -> (Recurrent, ParameterStore) {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: seed)
        return (try Recurrent(config, store: store, generator: &generator), store)
    }

    /// Every parameter, the input and the initial state of a configuration against central
    /// differences, with outputs and final states both feeding the loss.
    private func checkAllGradients(_ config: RecurrentConfig, lengths: [Int]?, training: Bool = false,
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let (layer, store) = try makeLayer(config)
        let T = 4, B = 3, H = config.hiddenSize, stateShape = [config.layers * config.directions, B, H]
        var x = randomTensor([T, B, config.inputSize], seed: 31)
        var h0 = randomTensor(stateShape, seed: 32, scale: 0.5)
        let c0 = config.cell == .lstm ? randomTensor(stateShape, seed: 33, scale: 0.5) : nil
        let outputCotangent = randomTensor([T, B, config.outputSize], seed: 34)
        let stateCotangent = randomTensor(stateShape, seed: 35)
        // The same dropout masks at every evaluation: a fresh generator with a fixed seed.
        func loss(_ input: Tensor, _ hidden: Tensor) throws -> Double {
            var generator = SeededGenerator(seed: 99)
            let output = try layer.forward(input, lengths: lengths, initialState: RecurrentState(hidden: hidden, cell: c0),
                                           training: training, generator: &generator)
            return dot(output.sequence, outputCotangent) + dot(output.state.hidden, stateCotangent)
        }
        _ = try loss(x, h0)
        store.zeroGradients()
        let gradients = try layer.backward(outputGradient: outputCotangent,
                                           stateGradient: RecurrentState(hidden: stateCotangent, cell: c0.map { Tensor(shape: $0.shape) }))
        let label = "\(config.cell) \(config.merge) layers \(config.layers) bi \(config.bidirectional) back \(config.goBackwards)"
        for parameter in store.parameters {
            try checkGradient("\(label) \(parameter.name)", values: store.values(of: parameter), count: parameter.count,
                              analytic: store.gradientTensor(parameter).scalars, file: file, line: line) { try loss(x, h0) }
        }
        let inputCount = x.count, hiddenValue = h0
        try x.withUnsafeMutableBufferPointer { buffer in
            try checkGradient("\(label) input", values: buffer.baseAddress!, count: inputCount,
                              analytic: gradients.input.scalars, file: file, line: line) {
                try loss(Tensor(shape: [T, B, config.inputSize], copying: buffer.baseAddress!), hiddenValue)
            }
        }
        let stateCount = h0.count, inputValue = x
        try h0.withUnsafeMutableBufferPointer { buffer in
            try checkGradient("\(label) h0", values: buffer.baseAddress!, count: stateCount,
                              analytic: gradients.initialState.hidden.scalars, file: file, line: line) {
                try loss(inputValue, Tensor(shape: stateShape, copying: buffer.baseAddress!))
            }
        }
    }

    /// With two BLAS threads a bidirectional layer runs its two directions at once (one thread
    /// each); everything must match one thread, where they run in turn — the path the finite
    /// differences check.
    func testConcurrentDirectionsMatchOneThread() throws {
        let savedThreads = BLAS.threads
        defer { BLAS.setThreads(savedThreads) }
        let T = 5, B = 17, H = 12  // 12 units: one 8-wide chunk and a tail
        let lengths = (0..<B).map { 1 + $0 % T }
        for cell in CellType.allCases {
            for bidirectional in [false, true] {
                let config = RecurrentConfig(cell: cell, inputSize: 6, hiddenSize: H, layers: 2, bidirectional: bidirectional)
                let stateShape = [config.layers * config.directions, B, H]
                let x = randomTensor([T, B, config.inputSize], seed: 41)
                let state = RecurrentState(hidden: randomTensor(stateShape, seed: 42, scale: 0.5),
                                           cell: cell == .lstm ? randomTensor(stateShape, seed: 43, scale: 0.5) : nil)
                let outputCotangent = randomTensor([T, B, config.outputSize], seed: 44)
                let stateCotangent = RecurrentState(hidden: randomTensor(stateShape, seed: 45),
                                                    cell: cell == .lstm ? randomTensor(stateShape, seed: 46) : nil)
                func run(threads: Int) throws -> [Tensor] {
                    BLAS.setThreads(threads)
                    let (layer, store) = try makeLayer(config)
                    layer.recordsStateGradientNorms = true
                    var generator = SeededGenerator(seed: 1)
                    let output = try layer.forward(x, lengths: lengths, initialState: state, generator: &generator)
                    store.zeroGradients()
                    let gradients = try layer.backward(outputGradient: outputCotangent, stateGradient: stateCotangent)
                    let norms = try Tensor(shape: [T], scalars: layer.stateGradientNorms(layer: 0, direction: 0))
                    return [output.sequence, output.state.hidden, gradients.input, gradients.initialState.hidden, norms]
                        + [output.state.cell, gradients.initialState.cell].compactMap { $0 }
                        + store.parameters.map { store.gradientTensor($0) }
                }
                let whole = try run(threads: 1), parts = try run(threads: 2)
                XCTAssertEqual(whole.count, parts.count)
                for (index, (expected, actual)) in zip(whole, parts).enumerated() {
                    assertClose(actual, expected, absolute: 1e-5, "\(cell) bidirectional \(bidirectional) result \(index)")
                }
            }
        }
    }

    /// With two BLAS threads a layer's step loop splits the batch rows in two halves, one thread
    /// each (forward and backward, when no per-step norms are recorded), and the all-steps GEMMs
    /// split into halves of time steps or gate rows, each a single-threaded BLAS call. The step
    /// products (packed kernel) do not depend on the split (bitwise: PackedGEMMTests), but
    /// OpenBLAS may round a block of rows differently from the whole (its kernels and blocking
    /// depend on the shape), in the last bits: so everything must match one thread to 1e-5
    /// relative, variable lengths and a 2-row remainder included.
    func testRowSplitStepLoopMatchesOneThread() throws {
        let savedThreads = BLAS.threads
        defer { BLAS.setThreads(savedThreads) }
        let T = 6, B = 18, H = 20  // halves of 12 and 6 rows; 20 units: a partial 16-column panel
        let lengths = (0..<B).map { 1 + $0 % T }
        for cell in CellType.allCases {
            let config = RecurrentConfig(cell: cell, inputSize: 5, hiddenSize: H, layers: 2)
            let stateShape = [config.layers, B, H]
            let x = randomTensor([T, B, config.inputSize], seed: 51)
            let state = RecurrentState(hidden: randomTensor(stateShape, seed: 52, scale: 0.5),
                                       cell: cell == .lstm ? randomTensor(stateShape, seed: 53, scale: 0.5) : nil)
            let outputCotangent = randomTensor([T, B, config.outputSize], seed: 54)
            func run(threads: Int) throws -> [Tensor] {
                BLAS.setThreads(threads)
                let (layer, store) = try makeLayer(config)
                var generator = SeededGenerator(seed: 1)
                let output = try layer.forward(x, lengths: lengths, initialState: state, generator: &generator)
                store.zeroGradients()
                let gradients = try layer.backward(outputGradient: outputCotangent)
                return [output.sequence, output.state.hidden, gradients.input, gradients.initialState.hidden]
                    + [output.state.cell, gradients.initialState.cell].compactMap { $0 }
                    + store.parameters.map { store.gradientTensor($0) }
            }
            let whole = try run(threads: 1), parts = try run(threads: 2)
            XCTAssertEqual(whole.count, parts.count)
            for (index, (expected, actual)) in zip(whole, parts).enumerated() {
                assertClose(actual, expected, relative: 1e-5, "\(cell) result \(index)")
            }
        }
    }

    /// Wide layers take other step-kernel paths than the small ones the finite differences
    /// check: at H = 256 an LSTM's backward product has gate rows 4 KiB apart (G = 1024), which
    /// go through the 8-row kernels block by block (a GRU at H = 128: one 16-row block and one
    /// 8-row block). A batch of 24 rows over 2 steps (packed step kernels; 34 rows on two threads,
    /// 20 and 14 each) must give what its rows give one at a time (BLAS's matrix-vector path),
    /// summed; on one thread, part of its input gradient is also checked by central differences.
    func testWideBatchMatchesRowsOneAtATime() throws {
        let savedThreads = BLAS.threads
        defer { BLAS.setThreads(savedThreads) }
        let T = 2, I = 4
        for (cell, H, threads, B) in [(CellType.lstm, 256, 1, 24), (.lstm, 256, 2, 34), (.gru, 128, 1, 24)] {
            let config = RecurrentConfig(cell: cell, inputSize: I, hiddenSize: H, layers: 1)
            let x = randomTensor([T, B, I], seed: 61)
            let outputCotangent = randomTensor([T, B, H], seed: 62, scale: 0.1)
            func rows(_ tensor: Tensor, _ row: Int, width: Int) throws -> Tensor {
                let scalars = tensor.scalars
                var picked: [Float] = []
                for t in 0..<T {
                    let start = (t * B + row) * width
                    picked += scalars[start..<start + width]
                }
                return try Tensor(shape: [T, 1, width], scalars: picked)
            }
            let (layer, store) = try makeLayer(config)
            func run(_ input: Tensor, _ cotangent: Tensor) throws -> (input: Tensor, parameters: [Tensor]) {
                BLAS.setThreads(input.shape[1] == 1 ? 1 : threads)
                var generator = SeededGenerator(seed: 1)
                _ = try layer.forward(input, lengths: nil, initialState: nil, generator: &generator)
                store.zeroGradients()
                let gradients = try layer.backward(outputGradient: cotangent)
                return (gradients.input, store.parameters.map { store.gradientTensor($0) })
            }
            let whole = try run(x, outputCotangent)
            var summed = whole.parameters.map { Tensor(shape: $0.shape) }
            for row in 0..<B {
                let one = try run(try rows(x, row, width: I), try rows(outputCotangent, row, width: H))
                assertClose(one.input, try rows(whole.input, row, width: I), absolute: 1e-4, "\(cell) H \(H) threads \(threads) input gradient of row \(row)")
                for index in summed.indices {
                    let added: [Float] = zip(summed[index].scalars, one.parameters[index].scalars).map { $0 + $1 }
                    summed[index] = try Tensor(shape: summed[index].shape, scalars: added)
                }
            }
            for (index, (expected, actual)) in zip(summed, whole.parameters).enumerated() {
                assertClose(actual, expected, absolute: 1e-3, "\(cell) H \(H) threads \(threads) parameter gradient \(index)")
            }
            // And against central differences: the input gradient of step 0 for rows 8–11, which
            // reaches them only through step 1's recurrent term (the packed backward product).
            guard threads == 1 else { continue }
            BLAS.setThreads(1)
            var input = x
            let first = 8 * I, count = 4 * I
            try input.withUnsafeMutableBufferPointer { buffer in
                try checkGradient("\(cell) H \(H) input of step 0, rows 8–11", values: buffer.baseAddress! + first, count: count,
                                  analytic: Array(whole.input.scalars[first..<first + count])) {
                    var generator = SeededGenerator(seed: 1)
                    let output = try layer.forward(Tensor(shape: [T, B, I], copying: buffer.baseAddress!), lengths: nil,
                                                   initialState: nil, generator: &generator)
                    return dot(output.sequence, outputCotangent)
                }
            }
        }
    }

    func testMergeModesMatchFiniteDifferences() throws {
        for cell in CellType.allCases {
            for merge in MergeMode.allCases {
                let config = RecurrentConfig(cell: cell, inputSize: 3, hiddenSize: 4, layers: 2, bidirectional: true, merge: merge)
                try checkAllGradients(config, lengths: [4, 2, 3])
            }
        }
    }

    func testInterLayerDropoutMatchesFiniteDifferences() throws {
        for cell in CellType.allCases {
            let config = RecurrentConfig(cell: cell, inputSize: 3, hiddenSize: 4, layers: 2, dropout: 0.3)
            try checkAllGradients(config, lengths: nil, training: true)
        }
    }

    func testGoBackwardsMatchesFiniteDifferencesAndReversedInput() throws {
        for cell in CellType.allCases {
            var config = RecurrentConfig(cell: cell, inputSize: 3, hiddenSize: 4, activation: .linear)
            config.goBackwards = true
            try checkAllGradients(config, lengths: [4, 1, 3])

            // go_backwards = running forward over each sequence reversed; outputs in processing order.
            let (backwards, _) = try makeLayer(config, seed: 3)
            config.goBackwards = false
            let (forwards, _) = try makeLayer(config, seed: 3)
            var generator = SeededGenerator(seed: 1)
            let lengths = [4, 1, 3]
            let x = randomTensor([4, 3, 3], seed: 41)
            let a = try backwards.forward(x, lengths: lengths, generator: &generator)
            let b = try forwards.forward(reverseSequences(x, lengths: lengths), lengths: lengths, generator: &generator)
            XCTAssertEqual(a.sequence, b.sequence)
            XCTAssertEqual(a.state, b.state)
        }
    }

    func testRNNActivationsMatchFiniteDifferences() throws {
        for activation in [Activation.tanh, .relu, .linear] {
            let config = RecurrentConfig(cell: .rnn, inputSize: 3, hiddenSize: 4, bias: false, activation: activation)
            try checkAllGradients(config, lengths: [2, 4, 1])
        }
    }

    func testMissingInitialStateIsZeroStateOfTheRightSize() throws {
        for cell in CellType.allCases {
            let config = RecurrentConfig(cell: cell, inputSize: 2, hiddenSize: 5, layers: 2, bidirectional: true)
            let (layer, _) = try makeLayer(config)
            let zero = layer.zeroState(batchSize: 3)
            XCTAssertEqual(zero.hidden.shape, [4, 3, 5])
            XCTAssertEqual(zero.cell?.shape, cell == .lstm ? [4, 3, 5] : nil)
            var generator = SeededGenerator(seed: 1)
            let x = randomTensor([6, 3, 2], seed: 5)
            let implicit = try layer.forward(x, generator: &generator)
            let explicit = try layer.forward(x, initialState: zero, generator: &generator)
            XCTAssertEqual(implicit.sequence, explicit.sequence)
            XCTAssertEqual(implicit.state, explicit.state)
            XCTAssertEqual(implicit.sequence.shape, [6, 3, 10])
            // Backward with no state gradient and no initial state given works too.
            let gradients = try layer.backward(outputGradient: Tensor(shape: [6, 3, 10], repeating: 1))
            XCTAssertEqual(gradients.initialState.hidden.shape, [4, 3, 5])
        }
    }

    func testStatefulLayerCarriesStateAcrossBatches() throws {
        for cell in CellType.allCases {
            var config = RecurrentConfig(cell: cell, inputSize: 2, hiddenSize: 3, layers: 2)
            let (whole, _) = try makeLayer(config, seed: 9)
            config.stateful = true
            let (chunked, _) = try makeLayer(config, seed: 9)
            var generator = SeededGenerator(seed: 1)
            let x = randomTensor([6, 2, 2], seed: 6)
            let reference = try whole.forward(x, generator: &generator)
            let firstHalf = try Tensor(shape: [3, 2, 2], scalars: Array(x.scalars[0..<12]))
            let secondHalf = try Tensor(shape: [3, 2, 2], scalars: Array(x.scalars[12..<24]))
            _ = try chunked.forward(firstHalf, generator: &generator)
            let carried = try chunked.forward(secondHalf, generator: &generator)
            XCTAssertLessThan(maxAbsDifference(carried.state.hidden, reference.state.hidden), 1e-6)
            XCTAssertEqual(Array(carried.sequence.scalars), Array(reference.sequence.scalars[18...]), "\(cell)")
            chunked.resetState()
            let fresh = try chunked.forward(secondHalf, generator: &generator)
            XCTAssertNotEqual(fresh.state.hidden, carried.state.hidden)
        }
    }

    func testParameterCountsAndNamesMatchPyTorch() throws {
        // Reference counts printed by PyTorch 2.15: sum(p.numel() for p in m.parameters()).
        let cases: [(RecurrentConfig, Int)] = [
            (RecurrentConfig(cell: .lstm, inputSize: 100, hiddenSize: 128, layers: 2, bidirectional: true), 630_784),
            (RecurrentConfig(cell: .gru, inputSize: 64, hiddenSize: 32), 9_408),
            (RecurrentConfig(cell: .rnn, inputSize: 10, hiddenSize: 20, layers: 3, bidirectional: true, bias: false, activation: .relu), 6_000),
        ]
        for (config, expected) in cases {
            let (_, store) = try makeLayer(config)
            XCTAssertEqual(config.parameterCount, expected)
            XCTAssertEqual(store.scalarCount, expected)
        }
        let (_, store) = try makeLayer(RecurrentConfig(cell: .lstm, inputSize: 3, hiddenSize: 2, layers: 2, bidirectional: true))
        XCTAssertEqual(store.parameters.prefix(5).map(\.name),
                       ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse"])
        XCTAssertEqual(store.parameter(named: "weight_ih_l1")?.shape, [8, 4])
    }

    func testInitializationSchemes() throws {
        var config = RecurrentConfig(cell: .lstm, inputSize: 6, hiddenSize: 5)
        let (pytorch, pytorchStore) = try makeLayer(config)
        _ = pytorch
        let bound = 1 / Float(5).squareRoot()
        XCTAssertTrue(pytorchStore.allValues.allSatisfy { abs($0) <= bound })

        config.initialization = .keras
        config.forgetBias = 1
        let (_, store) = try makeLayer(config)
        let recurrent = store.tensor(store.parameter(named: "weight_hh_l0")!)  // (20, 5): orthonormal columns
        for i in 0..<5 {
            for j in 0..<5 {
                var dotProduct: Float = 0
                for row in 0..<20 { dotProduct += recurrent.scalars[row * 5 + i] * recurrent.scalars[row * 5 + j] }
                XCTAssertEqual(dotProduct, i == j ? 1 : 0, accuracy: 1e-5)
            }
        }
        let kernel = store.tensor(store.parameter(named: "weight_ih_l0")!)
        let glorot = Float((6.0 / Double(20 + 6)).squareRoot())
        XCTAssertTrue(kernel.scalars.allSatisfy { abs($0) <= glorot })
        let biasIH = store.tensor(store.parameter(named: "bias_ih_l0")!).scalars
        let biasHH = store.tensor(store.parameter(named: "bias_hh_l0")!).scalars
        XCTAssertEqual(biasIH, [Float](repeating: 0, count: 5) + [Float](repeating: 1, count: 5) + [Float](repeating: 0, count: 10))
        XCTAssertEqual(biasHH, [Float](repeating: 0, count: 20))
    }

    func testSameSeedSameModel() throws {
        let config = RecurrentConfig(cell: .gru, inputSize: 4, hiddenSize: 6, bidirectional: true)
        let (_, a) = try makeLayer(config, seed: 42)
        let (_, b) = try makeLayer(config, seed: 42)
        let (_, c) = try makeLayer(config, seed: 43)
        XCTAssertEqual(Array(a.allValues), Array(b.allValues))
        XCTAssertNotEqual(Array(a.allValues), Array(c.allValues))
    }

    func testBadShapesAreClearErrors() throws {
        let (layer, _) = try makeLayer(RecurrentConfig(cell: .lstm, inputSize: 3, hiddenSize: 2))
        var generator = SeededGenerator(seed: 1)
        XCTAssertThrowsError(try layer.forward(Tensor(shape: [5, 2, 4]), generator: &generator)) { error in
            XCTAssertEqual("\(error)", "lstm: expected shape (T, B, 3) with T, B > 0, got (5, 2, 4)")
        }
        XCTAssertThrowsError(try layer.forward(Tensor(shape: [5, 2, 3]), lengths: [5, 6], generator: &generator)) { error in
            XCTAssertEqual("\(error)", "lstm: sequence length 6 outside 1…5")
        }
        XCTAssertThrowsError(try layer.forward(Tensor(shape: [5, 2, 3]), initialState: RecurrentState(hidden: Tensor(shape: [1, 3, 2])),
                                               generator: &generator)) { error in
            XCTAssertEqual("\(error)", "lstm initial hidden state: expected shape (1, 2, 2), got (1, 3, 2)")
        }
        XCTAssertThrowsError(try Recurrent(RecurrentConfig(cell: .gru, inputSize: 3, hiddenSize: 0), store: ParameterStore(), generator: &generator))
    }
}
