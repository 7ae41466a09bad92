import ArgumentParser
import Foundation
import RNNCore
import RNNServe

/// `rnn serve`: the loaded models over HTTP, with a web page at `/`.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve trained models over HTTP (JSON API, server-sent events, a web page at /).",
        discussion: """
        Endpoints: POST /v1/classify, /v1/generate, /v1/tag, /v1/translate; GET /v1/models, /healthz, \
        /openapi.yaml (OpenAPI 3.1), / (web page). Each --model is a model directory (served under its \
        folder name) or NAME=DIR. SIGINT or SIGTERM shuts down gracefully: requests in flight finish.
        """
    )

    @Option(help: "Model directory to serve, or NAME=DIR (repeat for several models).") var model: [String] = []
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8080
    @Option(help: "How long the first classify/tag request of a batch waits for others, in milliseconds.") var batchWaitMs = 2.0
    @Option(help: "Texts per forward pass at most.") var maxBatch = 64
    @Option(help: "Texts waiting for a forward pass at most, per model (more: 429).") var queue = 512
    @Option(help: "Generations running at once at most.") var concurrentGenerations = 8
    @Option(help: "Per-request time limit, in seconds.") var timeout = 10.0
    @Option(help: "Largest request body, in bytes.") var maxBodyBytes = 1 << 20
    @Option(help: "Largest max_tokens a generation may ask for.") var maxTokensLimit = 512
    @Option(help: "Nice increment (0-19) of the classify/tag/translate forward-pass threads: generations' steps go first under contention.")
    var batchNice: Int32 = 0
    @Option(help: "BLAS threads.") var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        try reportingErrors {
            guard (0...65535).contains(port) else { throw RNNError("--port must be between 0 and 65535, got \(port)") }
            guard batchWaitMs >= 0, batchWaitMs <= 1000 else { throw RNNError("--batch-wait-ms must be between 0 and 1000") }
            guard maxBatch >= 1, queue >= 1, concurrentGenerations >= 1, maxBodyBytes >= 1, maxTokensLimit >= 1 else {
                throw RNNError("--max-batch, --queue, --concurrent-generations, --max-body-bytes and --max-tokens-limit must be at least 1")
            }
            guard (0...19).contains(batchNice) else { throw RNNError("--batch-nice must be between 0 and 19, got \(batchNice)") }
            guard timeout > 0 else { throw RNNError("--timeout must be greater than 0") }
            BLAS.setThreads(threads)
            var limits = ServeLimits()
            limits.batchWait = .microseconds(Int64(batchWaitMs * 1000))
            limits.maxBatchTexts = maxBatch
            limits.queueCapacity = max(queue, maxBatch)
            limits.concurrentGenerations = concurrentGenerations
            limits.generationQueueCapacity = max(8 * concurrentGenerations, 64)
            limits.requestTimeout = .milliseconds(Int64(timeout * 1000))
            limits.maxBodyBytes = maxBodyBytes
            limits.maxGeneratedTokens = maxTokensLimit
            limits.batchThreadNice = batchNice
            let registry = try ModelRegistry.load(model, limits: limits)
            for served in registry.models {
                FileHandle.standardError.write(Data("loaded \(served.name) (\(served.task))\n".utf8))
            }
            let outcome = ServeOutcome()
            let done = DispatchSemaphore(value: 0)
            let host = self.host, port = self.port
            Task {
                do {
                    try await Server.run(registry: registry, limits: limits, host: host, port: port) { bound in
                        say("serving \(registry.models.count) model(s) on http://\(host):\(bound)  (Ctrl-C to stop)")
                    }
                } catch {
                    outcome.error = error
                }
                done.signal()
            }
            done.wait()
            if let error = outcome.error { throw RNNError("cannot serve on \(host):\(port): \(error)") }
        }
    }
}

/// How the server ended, handed from its task to the waiting command.
private final class ServeOutcome: @unchecked Sendable {
    var error: (any Error)?  // written by the server task before `done.signal()`, read after `done.wait()`
}
