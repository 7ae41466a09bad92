import Foundation
import RNN
import RNNCore
import XCTest

/// Every PyTorch fixture in `Fixtures/torch-rnn-parity/` (and in `$RNN_PARITY_FIXTURES` when set):
/// forward outputs, final states and every gradient must match `nn.RNN` / `nn.LSTM` / `nn.GRU`.
/// Tolerances from the fixtures' FORMAT.md: forward 1e-4 absolute, gradients 1e-3 relative to
/// the largest magnitude of each tensor.
final class RecurrentParityTests: XCTestCase {
    func testEveryParityFixtureMatchesPyTorch() throws {
        var folders = [fixturesDirectory("torch-rnn-parity")]
        if let extra = ProcessInfo.processInfo.environment["RNN_PARITY_FIXTURES"], !extra.isEmpty {
            folders.append(URL(fileURLWithPath: extra))
        }
        var files: [URL] = []
        for folder in folders {
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            files += names.filter { $0.hasSuffix(".safetensors") }.sorted().map { folder.appendingPathComponent($0) }
        }
        XCTAssertGreaterThanOrEqual(files.count, 20, "expected the 20 shared fixtures")
        var passed = 0
        for file in files {
            let failuresBefore = testRun?.failureCount ?? 0
            try checkFixture(file)
            if (testRun?.failureCount ?? 0) == failuresBefore { passed += 1 }
        }
        print("parity: \(passed) fixtures passed")
        XCTAssertEqual(passed, files.count)
    }

    private func checkFixture(_ url: URL) throws {
        let name = url.lastPathComponent
        let file = try SafeTensors(contentsOf: url.path)
        let meta = file.metadata
        func flag(_ key: String) -> Bool { meta[key] == "true" || meta[key] == "True" || meta[key] == "1" }
        guard let mode = meta["mode"], let inputSize = Int(meta["input_size"] ?? ""),
              let hiddenSize = Int(meta["hidden_size"] ?? ""), let layers = Int(meta["num_layers"] ?? "") else {
            return XCTFail("\(name): metadata incomplete: \(meta)")
        }
        let cell: CellType
        var activation = Activation.tanh
        switch mode {
        case "RNN_TANH": cell = .rnn
        case "RNN_RELU": cell = .rnn; activation = .relu
        case "LSTM": cell = .lstm
        case "GRU": cell = .gru
        default: return XCTFail("\(name): unknown mode \(mode)")
        }
        let config = RecurrentConfig(cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers,
                                     bidirectional: flag("bidirectional"), bias: flag("bias"), activation: activation)
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 1)
        let layer = try Recurrent(config, store: store, generator: &generator)
        for parameter in store.parameters {
            try store.setValues(parameter, from: file.tensor(parameter.name))
        }
        XCTAssertEqual(store.scalarCount, config.parameterCount, "\(name): parameter count")

        let x = try file.tensor("x").swappingFirstAxes()   // (B, T, I) → (T, B, I)
        let lengths = flag("variable_length") ? try file.integers("lengths") : nil
        let h0 = try file.tensor("h0")
        let c0 = cell == .lstm ? try file.tensor("c0") : nil
        let output = try layer.forward(x, lengths: lengths, initialState: RecurrentState(hidden: h0, cell: c0),
                                       generator: &generator)
        assertClose(output.sequence.swappingFirstAxes(), try file.tensor("y"), absolute: 1e-4, "\(name) y")
        assertClose(output.state.hidden, try file.tensor("hn"), absolute: 1e-4, "\(name) hn")
        if cell == .lstm { assertClose(output.state.cell!, try file.tensor("cn"), absolute: 1e-4, "\(name) cn") }

        store.zeroGradients()
        let gradients = try layer.backward(
            outputGradient: try file.tensor("ry").swappingFirstAxes(),
            stateGradient: RecurrentState(hidden: try file.tensor("rh"), cell: cell == .lstm ? try file.tensor("rc") : nil))
        assertClose(gradients.input.swappingFirstAxes(), try file.tensor("grad.x"), relative: 1e-3, "\(name) grad.x")
        assertClose(gradients.initialState.hidden, try file.tensor("grad.h0"), relative: 1e-3, "\(name) grad.h0")
        if cell == .lstm {
            assertClose(gradients.initialState.cell!, try file.tensor("grad.c0"), relative: 1e-3, "\(name) grad.c0")
        }
        for parameter in store.parameters {
            assertClose(store.gradientTensor(parameter), try file.tensor("grad." + parameter.name), relative: 1e-3,
                        "\(name) grad.\(parameter.name)")
        }
    }
}
