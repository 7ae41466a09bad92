@testable import RNN
import RNNCore
import XCTest

/// The cells' two implementations of the same gate equations — 8 lanes (AVX2) and 16 lanes
/// (AVX-512, module RNNKernelsAVX512) — and the inference forward that keeps no gate cache.
final class RecurrentGateKernelTests: XCTestCase {
    /// Random inputs for one step of `rows` rows of a cell with `gates` gate blocks of H units.
    private struct StepInputs {
        let gx, gh, bias, hPrev, cPrev, dh, dc: [Float]
        init(rows: Int, hiddenSize H: Int, gates: Int, seed: UInt64) {
            var generator = SeededGenerator(seed: seed)
            func values(_ count: Int, scale: Float) -> [Float] {
                (0..<count).map { _ in (2 * generator.nextUnitFloat() - 1) * scale }
            }
            // Pre-activations up to ±6: the activations' saturated ends included.
            gx = values(rows * gates * H, scale: 3)
            gh = values(rows * gates * H, scale: 2)
            bias = values(gates * H, scale: 1)
            hPrev = values(rows * H, scale: 1)
            cPrev = values(rows * H, scale: 2)
            dh = values(rows * H, scale: 1)
            dc = values(rows * H, scale: 1)
        }
    }

    /// Every output of one forward (with and without cache) and one backward of `cell`.
    private func runStep<Cell: RecurrentCell>(_ cell: Cell, _ inputs: StepInputs, rows: Int, hiddenSize H: Int) -> [String: [Float]] {
        let G = cell.gateCount * H
        var hOut = [Float](repeating: 0, count: rows * H), cOut = hOut
        var hOutNoCache = hOut, cOutNoCache = hOut
        var cache = [Float](repeating: 0, count: max(rows * cell.cacheWidth * H, 1))
        var dGx = [Float](repeating: 0, count: rows * G), dGh = dGx
        var dhPrev = [Float](repeating: 0, count: rows * H), dcPrev = dhPrev
        cache.withUnsafeMutableBufferPointer { cache in
            cell.forward(rows: rows, hiddenSize: H, gx: inputs.gx, gh: inputs.gh, recurrentBias: inputs.bias,
                         hPrev: inputs.hPrev, cPrev: inputs.cPrev, hOut: &hOut, cOut: &cOut, cache: cache.baseAddress!)
            cell.forward(rows: rows, hiddenSize: H, gx: inputs.gx, gh: inputs.gh, recurrentBias: inputs.bias,
                         hPrev: inputs.hPrev, cPrev: inputs.cPrev, hOut: &hOutNoCache, cOut: &cOutNoCache, cache: nil)
            dGx.withUnsafeMutableBufferPointer { dGx in
                dGh.withUnsafeMutableBufferPointer { dGh in
                    cell.backward(rows: rows, hiddenSize: H, dh: inputs.dh, dc: inputs.dc, hPrev: inputs.hPrev,
                                  cPrev: inputs.cPrev, hOut: hOut, cache: cache.baseAddress!,
                                  dGx: dGx.baseAddress!, dGh: cell.separateRecurrentGradient ? dGh.baseAddress! : dGx.baseAddress!,
                                  dhPrev: &dhPrev, dcPrev: &dcPrev)
                }
            }
        }
        var results = ["h": hOut, "h (no cache)": hOutNoCache, "cache": cache, "dGx": dGx, "dhPrev": dhPrev]
        if cell.hasCellState { results["c"] = cOut; results["c (no cache)"] = cOutNoCache; results["dcPrev"] = dcPrev }
        if cell.separateRecurrentGradient { results["dGh"] = dGh }
        return results
    }

    private func compare(_ name: String, eight: [String: [Float]], sixteen: [String: [Float]]) {
        XCTAssertEqual(Set(eight.keys), Set(sixteen.keys), name)
        for (key, expected) in eight {
            guard let actual = sixteen[key], actual.count == expected.count else {
                XCTFail("\(name) \(key): missing or wrong size")
                continue
            }
            for index in expected.indices {
                XCTAssertEqual(actual[index], expected[index], accuracy: 1e-6 * max(1, abs(expected[index])),
                               "\(name) \(key)[\(index)]")
            }
        }
    }

    /// Both paths, every cell, unit counts with and without a remainder of the 8- and 16-lane
    /// chunks: the same results to float rounding. Runs only on a CPU with AVX-512F.
    func testSixteenLanePassesMatchEightLanePasses() throws {
        try XCTSkipUnless(GateKernels.usesAVX512, "this CPU (or build) has no AVX-512: only the 8-lane passes exist here")
        for H in [5, 13, 16, 40, 64] {
            let rows = 3
            let lstm = StepInputs(rows: rows, hiddenSize: H, gates: 4, seed: UInt64(H))
            compare("lstm H \(H)", eight: runStep(LSTMCell(usesAVX512: false), lstm, rows: rows, hiddenSize: H),
                    sixteen: runStep(LSTMCell(usesAVX512: true), lstm, rows: rows, hiddenSize: H))
            let gru = StepInputs(rows: rows, hiddenSize: H, gates: 3, seed: UInt64(100 + H))
            compare("gru H \(H)", eight: runStep(GRUCell(usesAVX512: false), gru, rows: rows, hiddenSize: H),
                    sixteen: runStep(GRUCell(usesAVX512: true), gru, rows: rows, hiddenSize: H))
            let rnn = StepInputs(rows: rows, hiddenSize: H, gates: 1, seed: UInt64(200 + H))
            compare("rnn H \(H)", eight: runStep(SimpleRNNCell(activation: .tanh, usesAVX512: false), rnn, rows: rows, hiddenSize: H),
                    sixteen: runStep(SimpleRNNCell(activation: .tanh, usesAVX512: true), rnn, rows: rows, hiddenSize: H))
        }
    }

    /// The inference forward (no cache) writes the same states as the training forward, bitwise,
    /// on whichever path this CPU takes.
    func testForwardWithoutCacheWritesTheSameStates() {
        for H in [13, 64] {
            let rows = 5
            let checks: [(String, [String: [Float]])] = [
                ("lstm", runStep(LSTMCell(), StepInputs(rows: rows, hiddenSize: H, gates: 4, seed: 7), rows: rows, hiddenSize: H)),
                ("gru", runStep(GRUCell(), StepInputs(rows: rows, hiddenSize: H, gates: 3, seed: 8), rows: rows, hiddenSize: H)),
                ("rnn", runStep(SimpleRNNCell(activation: .tanh), StepInputs(rows: rows, hiddenSize: H, gates: 1, seed: 9),
                                rows: rows, hiddenSize: H)),
            ]
            for (name, results) in checks {
                XCTAssertEqual(results["h"], results["h (no cache)"], "\(name) H \(H): h")
                XCTAssertEqual(results["c"], results["c (no cache)"], "\(name) H \(H): c")
                XCTAssertNotEqual(results["h"], [Float](repeating: 0, count: rows * H), "\(name) H \(H): h was written")
            }
        }
    }

    /// A layer run for inference (`training: false`, no gate caches) and then backpropagated
    /// recomputes its caches: outputs and every gradient equal those after a training forward,
    /// bitwise, for every cell, stacked, bidirectional, with variable lengths.
    func testBackwardAfterInferenceForwardRecomputesTheCaches() throws {
        let T = 5, B = 9, H = 20
        let lengths = (0..<B).map { 1 + $0 % T }
        for cell in CellType.allCases {
            for bidirectional in [false, true] {
                let config = RecurrentConfig(cell: cell, inputSize: 6, hiddenSize: H, layers: 2, bidirectional: bidirectional)
                let stateShape = [config.layers * config.directions, B, H]
                let x = randomTensor([T, B, config.inputSize], seed: 61)
                let state = RecurrentState(hidden: randomTensor(stateShape, seed: 62, scale: 0.5),
                                           cell: cell == .lstm ? randomTensor(stateShape, seed: 63, scale: 0.5) : nil)
                let outputCotangent = randomTensor([T, B, config.outputSize], seed: 64)
                func run(training: Bool) throws -> [Tensor] {
                    let store = ParameterStore()
                    var generator = SeededGenerator(seed: 3)
                    let layer = try Recurrent(config, store: store, generator: &generator)
                    let output = try layer.forward(x, lengths: lengths, initialState: state, training: training, generator: &generator)
                    store.zeroGradients()
                    let gradients = try layer.backward(outputGradient: outputCotangent)
                    return [output.sequence, output.state.hidden, gradients.input, gradients.initialState.hidden]
                        + [output.state.cell, gradients.initialState.cell].compactMap { $0 }
                        + store.parameters.map { store.gradientTensor($0) }
                }
                let trained = try run(training: true), inferred = try run(training: false)
                XCTAssertEqual(trained.count, inferred.count)
                for (index, (expected, actual)) in zip(trained, inferred).enumerated() {
                    XCTAssertEqual(actual.scalars, expected.scalars, "\(cell) bidirectional \(bidirectional) result \(index)")
                }
            }
        }
    }
}
