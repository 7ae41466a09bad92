import ArgumentParser
import Foundation
import RNN

/// The options every `train` command shares: the seed, BLAS threads, resuming, JSON output and
/// how the run is spread over processes.
struct TrainingRunOptions: ParsableArguments {
    @Option(help: "Random seed: the same seed gives the same model.") var seed: UInt64 = 1
    @Option(help: "BLAS threads per process (default: every core; forecast: 1).") var threads: Int?
    @Flag(help: "Continue an interrupted run from OUT/checkpoint (same data and options; --epochs may be larger).") var resume = false
    @Flag(help: "Print the result as one JSON object.") var json = false
    @OptionGroup var distributedOptions: DistributedOptions

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Runs a training command on this process's rank (see `DistributedOptions.run`), with
    /// `defaultThreads` BLAS threads unless `--threads` says otherwise.
    func run(defaultThreads: Int = ProcessInfo.processInfo.activeProcessorCount, _ body: (any Collective) throws -> Void) throws {
        try distributedOptions.run(threads: threads ?? defaultThreads, body)
    }
}
