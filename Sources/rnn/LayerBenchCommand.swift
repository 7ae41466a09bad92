import ArgumentParser
import Foundation
import RNN
import RNNCore

/// `rnn bench-layer`: forward and forward+backward throughput of one recurrent layer alone
/// (no embedding, head or optimizer), for working on the engine. `rnn bench` is the full,
/// PyTorch-comparable benchmark.
struct LayerBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-layer",
        abstract: "Time one recurrent layer's forward and backward passes on random data.",
        shouldDisplay: false
    )

    @Option(help: "rnn, lstm or gru.") var cell: CellType = .lstm
    @Option(help: "Time steps T.") var steps = 256
    @Option(help: "Batch size B.") var batch = 64
    @Option(help: "Input features.") var input = 128
    @Option(help: "Hidden units H.") var hidden = 128
    @Option(help: "Stacked layers.") var layers = 1
    @Flag(help: "Bidirectional layer.") var bidirectional = false
    @Option(help: "Timed repetitions.") var repeats = 5
    @Option(help: "Threads for the BLAS library and the step loop (default: the library's own).") var threads: Int?

    func run() throws {
        try reportingErrors {
            if let threads {
                guard threads >= 1 else { throw RNNError("--threads must be at least 1") }
                BLAS.setThreads(threads)
            }
            let store = ParameterStore()
            var generator = SeededGenerator(seed: 1)
            let config = RecurrentConfig(cell: cell, inputSize: input, hiddenSize: hidden, layers: layers, bidirectional: bidirectional)
            let layer = try Recurrent(config, store: store, generator: &generator)
            var x = Tensor(shape: [steps, batch, input])
            for index in 0..<x.count { x.scalars[index] = generator.nextUnitFloat() - 0.5 }
            let outputGradient = Tensor(shape: [steps, batch, config.outputSize], repeating: 0.01)
            var forwardSeconds = 0.0, backwardSeconds = 0.0
            let cpuStart = BenchClock.processCPU.now
            for repetition in 0...repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try layer.forward(x, generator: &generator)
                let middle = DispatchTime.now().uptimeNanoseconds
                _ = try layer.backward(outputGradient: outputGradient)
                let end = DispatchTime.now().uptimeNanoseconds
                if repetition > 0 {  // the first run warms up buffers
                    forwardSeconds += Double(middle - start) / 1e9
                    backwardSeconds += Double(end - middle) / 1e9
                }
            }
            let cpuSeconds = BenchClock.processCPU.now - cpuStart  // warm-up run included
            let tokens = Double(steps * batch * repeats)
            print("\(cell.rawValue) T=\(steps) B=\(batch) I=\(input) H=\(hidden) L=\(layers)\(bidirectional ? " bi" : "") [BLAS \(BLAS.coreName), \(BLAS.threads) thread(s)]")
            print(String(format: "forward %.0f tok/s (%.1f ms), forward+backward %.0f tok/s (backward %.1f ms)",
                         tokens / forwardSeconds, forwardSeconds / Double(repeats) * 1000,
                         tokens / (forwardSeconds + backwardSeconds), backwardSeconds / Double(repeats) * 1000))
            print(String(format: "CPU time (all threads) %.1f ms per forward+backward, %.0f tok per CPU-second",
                         cpuSeconds / Double(repeats + 1) * 1000, Double(steps * batch * (repeats + 1)) / cpuSeconds))
        }
    }
}

extension CellType: ExpressibleByArgument {}
