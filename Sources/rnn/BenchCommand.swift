import ArgumentParser
import Foundation
import RNN
import RNNCore

/// The reference configurations of `shared/bench/torch_rnn_bench.py`, with the same shapes.
struct BenchConfiguration: Sendable {
    enum Task: String, Sendable { case classify, languageModel = "lm" }
    let name: String
    let task: Task
    let cell: CellType
    let vocabulary: Int, embedding: Int, hidden: Int, layers: Int, batch: Int, steps: Int
    let bidirectional: Bool

    static let all: [BenchConfiguration] = [
        .init(name: "imdb-lstm", task: .classify, cell: .lstm, vocabulary: 20000, embedding: 128, hidden: 128, layers: 1, batch: 64, steps: 256, bidirectional: false),
        .init(name: "imdb-bigru", task: .classify, cell: .gru, vocabulary: 20000, embedding: 128, hidden: 128, layers: 1, batch: 64, steps: 256, bidirectional: true),
        .init(name: "jokes-lm", task: .languageModel, cell: .lstm, vocabulary: 5000, embedding: 128, hidden: 256, layers: 2, batch: 32, steps: 35, bidirectional: false),
        .init(name: "char-lstm512", task: .languageModel, cell: .lstm, vocabulary: 65, embedding: 64, hidden: 512, layers: 2, batch: 32, steps: 100, bidirectional: false),
        .init(name: "rnn-tanh256", task: .languageModel, cell: .rnn, vocabulary: 65, embedding: 64, hidden: 256, layers: 1, batch: 32, steps: 100, bidirectional: false),
    ]

    /// Forward multiply-adds × 2 per token, the PyTorch script's formula; training counts 3×.
    var flopsPerToken: Double {
        let directions = bidirectional ? 2 : 1
        var flops = 0, input = embedding
        for _ in 0..<layers {
            flops += directions * 2 * cell.gateCount * hidden * (input + hidden)
            input = hidden * directions
        }
        if task == .languageModel { flops += 2 * input * vocabulary }
        return Double(flops)
    }
}

/// `rnn bench`: training, inference and batch-1 generation throughput on the reference
/// configurations, with the same optimizer (Adam), clipping (global norm 5) and random data as
/// the PyTorch script, so the two can run side by side. Each configuration runs in its own
/// process so its peak memory is its own.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training, inference and generation throughput on the reference configurations.",
        discussion: "Configurations: " + BenchConfiguration.all.map(\.name).joined(separator: ", ")
            + ". Compare with: python shared/bench/torch_rnn_bench.py THREADS [CONFIG...]."
    )

    @Option(name: .customLong("config"), help: "A configuration to run (repeatable; default: all).")
    var configs: [String] = []
    @Option(help: "Threads for the BLAS library.")
    var threads = 2
    @Option(help: "Seconds of timed training per configuration (inference and generation get half).")
    var seconds = 4.0
    @Flag(help: "Print one JSON object per configuration.")
    var json = false
    @Flag(help: "Time by the process's CPU time (all its threads) instead of wall-clock time: tokens per CPU-second, a fairer measure on a loaded, shared machine.")
    var cpuTime = false
    @Flag(help: "Measure inference and generation without folding the embedding into the first layer's input projection (the input GEMM runs over the embedding vectors, as in PyTorch).")
    var noFoldEmbedding = false
    @Flag(help: .hidden)
    var child = false

    func run() throws {
        try reportingErrors {
            let known = Set(BenchConfiguration.all.map(\.name))
            if let unknown = configs.first(where: { !known.contains($0) }) {
                throw RNNError("unknown --config \(unknown); choose from \(BenchConfiguration.all.map(\.name).joined(separator: ", "))")
            }
            guard threads >= 1 else { throw RNNError("--threads must be at least 1") }
            let selected = configs.isEmpty ? BenchConfiguration.all : BenchConfiguration.all.filter { configs.contains($0.name) }
            if child {
                BLAS.setThreads(threads)
                for configuration in selected { print(try measure(configuration).jsonLine()) }
                return
            }
            if !json {
                print("swift-rnn bench: BLAS core \(BLAS.coreName), \(threads) thread(s)")
            }
            for configuration in selected {
                let line = try runChild(configuration)
                if json {
                    print(line)
                } else {
                    print(BenchResult.humanLine(fromJSON: line))
                }
            }
        }
    }

    /// Re-runs this executable for one configuration and returns its JSON line.
    private func runChild(_ configuration: BenchConfiguration) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0].hasPrefix("/")
            ? CommandLine.arguments[0] : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0])
        process.arguments = ["bench", "--child", "--config", configuration.name, "--threads", "\(threads)", "--seconds", "\(seconds)"]
            + (cpuTime ? ["--cpu-time"] : []) + (noFoldEmbedding ? ["--no-fold-embedding"] : [])
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = String(data: data, encoding: .utf8)?
            .split(separator: "\n").last.map(String.init) else {
            throw RNNError("bench: the run of \(configuration.name) failed (exit \(process.terminationStatus))")
        }
        return line
    }

    private func measure(_ configuration: BenchConfiguration) throws -> BenchResult {
        var generator = SeededGenerator(seed: 0)
        let B = configuration.batch, T = configuration.steps, V = configuration.vocabulary
        let inputs = (0..<(B * T)).map { _ in Int32(generator.next() % UInt64(V)) }
        var options = TrainingOptions()
        options.clipNorm = 5
        var result = BenchResult(config: configuration.name, threads: threads, blasCore: BLAS.coreName)
        result.clock = cpuTime ? "cpu" : "wall"
        result.foldEmbedding = !noFoldEmbedding
        // Inference as `classify eval`/`serve`/generation run a loaded model: with the embedding
        // folded into the first layer's input projection (table built in the warm-up calls),
        // unless --no-fold-embedding.
        let foldMode: EmbeddingFold.Mode = noFoldEmbedding ? .off : .always
        let clock: BenchClock = cpuTime ? .processCPU : .wall
        let tokensPerStep = Double(B * T)
        switch configuration.task {
        case .classify:
            let recurrent = RecurrentConfig(cell: configuration.cell, inputSize: configuration.embedding, hiddenSize: configuration.hidden,
                                            layers: configuration.layers, bidirectional: configuration.bidirectional)
            let model = try TextClassifier(ClassifierConfig(vocabularySize: V, embeddingDimension: configuration.embedding, paddingId: 0,
                                                            recurrent: recurrent, pooling: .last, labels: ["0", "1"]), generator: &generator)
            let batch = try TokenBatch(sequences: (0..<B).map { b in (0..<T).map { inputs[$0 * B + b] } }, padding: 0)
            let labels = (0..<B).map { _ in Int(generator.next() % 2) }
            let update = try TrainingUpdate(store: model.store, options: options)
            result.trainTokensPerSecond = tokensPerStep / (try secondsPerCall(seconds, clock: clock) {
                try update.run { try model.trainStep(batch, labels: labels, generator: &generator) }
            })
            model.embeddingFold.mode = foldMode
            result.inferTokensPerSecond = tokensPerStep / (try secondsPerCall(seconds / 2, clock: clock) {
                _ = try model.logits(batch, training: false, generator: &generator)
            })
        case .languageModel:
            let recurrent = RecurrentConfig(cell: configuration.cell, inputSize: configuration.embedding, hiddenSize: configuration.hidden,
                                            layers: configuration.layers)
            let model = try LanguageModel(LanguageModelConfig(vocabularySize: V, embeddingDimension: configuration.embedding,
                                                              recurrent: recurrent), generator: &generator)
            let targets = (0..<(B * T)).map { _ in Int(generator.next() % UInt64(V)) }
            let update = try TrainingUpdate(store: model.store, options: options)
            result.trainTokensPerSecond = tokensPerStep / (try secondsPerCall(seconds, clock: clock) {
                try update.run { try model.trainStep(inputs: inputs, targets: targets, steps: T, batch: B, generator: &generator) }
            })
            model.embeddingFold.mode = foldMode
            result.inferTokensPerSecond = tokensPerStep / (try secondsPerCall(seconds / 2, clock: clock) {
                _ = try model.logits(tokens: inputs, steps: T, batch: B, training: false, generator: &generator)
            })
            // Batch-1 sampling, one token at a time, carrying the state.
            var token: Int32 = 0
            var state: RecurrentState? = nil
            result.generateTokensPerSecond = 1 / (try secondsPerCall(seconds / 2, clock: clock) {
                let (logits, next) = try model.logits(tokens: [token], steps: 1, batch: 1, initialState: state,
                                                      training: false, generator: &generator)
                state = next
                token = Int32(sample(logits.scalars, generator: &generator))
            })
        }
        result.trainGFLOPs = 3 * configuration.flopsPerToken * result.trainTokensPerSecond / 1e9
        result.peakMemoryBytes = peakResidentBytes()
        return result
    }
}

/// One optimizer step as `Trainer.fit` takes it per batch: zero the gradients, forward and
/// backward, clip to the global norm, update. (`fit` itself cannot be timed call by call: it
/// resumes after its last completed epoch, so a second call with the same options does nothing.)
private struct TrainingUpdate {
    let store: ParameterStore
    let options: TrainingOptions
    let optimizer: any TrainingOptimizer

    init(store: ParameterStore, options: TrainingOptions) throws {
        self.store = store
        self.options = options
        optimizer = try options.makeOptimizer(for: store)
    }

    func run(_ step: () throws -> StepResult) throws {
        store.zeroGradients()
        let result = try step()
        guard result.loss.isFinite else { throw RNNError("bench: the loss is \(result.loss)") }
        if let clipNorm = options.clipNorm { _ = try GradientClipping.clipByGlobalNorm(store, maxNorm: clipNorm) }
        optimizer.step()
    }
}

/// What `secondsPerCall` measures: wall-clock time, or the CPU time of all the process's threads.
enum BenchClock {
    case wall, processCPU

    /// Seconds since an arbitrary origin.
    var now: Double {
        switch self {
        case .wall: return Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        case .processCPU:
            var time = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
    }
}

/// Calls `body` twice to warm up, then repeatedly for about `seconds` of `clock`; returns
/// seconds per call.
private func secondsPerCall(_ seconds: Double, clock: BenchClock = .wall, _ body: () throws -> Void) throws -> Double {
    for _ in 0..<2 { try body() }
    let start = clock.now
    var calls = 0
    var elapsed = 0.0
    repeat {
        try body()
        calls += 1
        elapsed = clock.now - start
    } while elapsed < seconds
    return elapsed / Double(calls)
}

/// Draws an index from softmax(logits).
private func sample(_ logits: [Float], generator: inout SeededGenerator) -> Int {
    let top = logits.max() ?? 0
    var total: Double = 0
    let weights = logits.map { value -> Double in
        let weight = Foundation.exp(Double(value - top))
        total += weight
        return weight
    }
    var threshold = generator.nextUnitDouble() * total
    for (index, weight) in weights.enumerated() {
        threshold -= weight
        if threshold <= 0 { return index }
    }
    return weights.count - 1
}

/// The process's peak resident memory (Linux: VmHWM; elsewhere ru_maxrss).
func peakResidentBytes() -> Int {
    #if os(Linux)
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
       let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
       let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") {
        return kilobytes * 1024
    }
    return 0
    #else
    var usage = rusage()
    getrusage(RUSAGE_SELF, &usage)
    return Int(usage.ru_maxrss)  // bytes on macOS
    #endif
}

/// One configuration's figures, with the PyTorch script's field names.
struct BenchResult: Codable {
    var config: String
    var threads: Int
    var blasCore: String
    /// "wall", or "cpu" with --cpu-time (then every rate is per CPU-second of the process).
    var clock = "wall"
    var trainTokensPerSecond = 0.0
    var inferTokensPerSecond = 0.0
    var generateTokensPerSecond: Double?
    var trainGFLOPs = 0.0
    var peakMemoryBytes = 0
    /// Whether inference folded the embedding into the first layer's input projection.
    var foldEmbedding: Bool?

    init(config: String, threads: Int, blasCore: String) {
        self.config = config
        self.threads = threads
        self.blasCore = blasCore
    }

    enum CodingKeys: String, CodingKey {
        case config, threads, clock
        case blasCore = "blas_core"
        case trainTokensPerSecond = "train_tokens_per_s"
        case inferTokensPerSecond = "infer_tokens_per_s"
        case generateTokensPerSecond = "generate_tokens_per_s"
        case trainGFLOPs = "train_gflops"
        case peakMemoryBytes = "peak_memory_bytes"
        case foldEmbedding = "fold_embedding"
    }

    func jsonLine() throws -> String {
        var rounded = self
        rounded.trainTokensPerSecond = trainTokensPerSecond.rounded()
        rounded.inferTokensPerSecond = inferTokensPerSecond.rounded()
        rounded.generateTokensPerSecond = generateTokensPerSecond.map { $0.rounded() }
        rounded.trainGFLOPs = (trainGFLOPs * 10).rounded() / 10
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(rounded), as: UTF8.self)
    }

    static func humanLine(fromJSON line: String) -> String {
        guard let result = try? JSONDecoder().decode(BenchResult.self, from: Data(line.utf8)) else { return line }
        var text = "\(result.config.padding(toLength: 13, withPad: " ", startingAt: 0)) train \(Int(result.trainTokensPerSecond)) tok/s (\(result.trainGFLOPs) GFLOP/s)  infer \(Int(result.inferTokensPerSecond)) tok/s"
        if let generate = result.generateTokensPerSecond { text += "  generate \(Int(generate)) tok/s" }
        text += "  peak \(result.peakMemoryBytes / 1_048_576) MiB"
        if result.foldEmbedding == false { text += "  (embedding not folded)" }
        return text
    }
}
