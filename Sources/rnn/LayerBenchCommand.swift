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
    @Flag(help: "Time inference forwards only (no gate caches, no backward).") var inference = false
    @Option(help: "With --inference: put an embedding of this many words in front and feed random token ids (the embedding folded into the input projection unless --no-fold-embedding).") var vocabulary: Int?
    @Flag(help: "With --vocabulary: run the embedding and the input GEMM instead of the folded table.") var noFoldEmbedding = false

    func run() throws {
        try reportingErrors {
            if let threads {
                guard threads >= 1 else { throw RNNError("--threads must be at least 1") }
                BLAS.setThreads(threads)
            }
            if vocabulary != nil && !inference { throw RNNError("--vocabulary needs --inference") }
            if let vocabulary, vocabulary < 1 { throw RNNError("--vocabulary must be at least 1") }
            let store = ParameterStore()
            var generator = SeededGenerator(seed: 1)
            let config = RecurrentConfig(cell: cell, inputSize: input, hiddenSize: hidden, layers: layers, bidirectional: bidirectional)
            let embedding = try vocabulary.map { try Embedding(vocabularySize: $0, dimension: input, store: store, generator: &generator) }
            let layer = try Recurrent(config, store: store, generator: &generator)
            if inference {
                try timeInference(layer, embedding: embedding, store: store, generator: &generator)
                return
            }
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

extension LayerBenchCommand {
    /// `--inference`: forwards only, from vectors or (with `--vocabulary`) from token ids.
    private func timeInference(_ layer: Recurrent, embedding: Embedding?, store: ParameterStore,
                               generator: inout SeededGenerator) throws {
        var x = Tensor(shape: [steps, batch, input])
        for index in 0..<x.count { x.scalars[index] = generator.nextUnitFloat() - 0.5 }
        let fold = embedding.map { EmbeddingFold(embedding: $0, recurrent: layer, store: store) }
        fold?.mode = noFoldEmbedding ? .off : .always
        let tokens = (0..<(steps * batch)).map { _ in Int32(generator.next() % UInt64(vocabulary ?? 1)) }
        var seconds = 0.0
        let cpuStart = BenchClock.processCPU.now
        for repetition in 0...repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            if let fold {
                _ = try fold.forward(tokens: tokens, steps: steps, batch: batch, dropout: nil, training: false, generator: &generator)
            } else {
                _ = try layer.forward(x, training: false, generator: &generator)
            }
            if repetition > 0 { seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        }
        let cpuSeconds = BenchClock.processCPU.now - cpuStart  // warm-up run (and the table) included
        let what = vocabulary.map { "tokens of \($0) words, \(noFoldEmbedding ? "embedding + input GEMM" : "folded embedding")" } ?? "vectors"
        print("\(layer.config.cell.rawValue) T=\(steps) B=\(batch) I=\(input) H=\(hidden) L=\(layers)\(bidirectional ? " bi" : "") inference from \(what) [BLAS \(BLAS.coreName), \(BLAS.threads) thread(s)]")
        print(String(format: "forward %.0f tok/s (%.2f ms); CPU time (all threads) %.0f tok per CPU-second",
                     Double(steps * batch * repeats) / seconds, seconds / Double(repeats) * 1000,
                     Double(steps * batch * (repeats + 1)) / cpuSeconds))
    }
}

extension CellType: ExpressibleByArgument {}
