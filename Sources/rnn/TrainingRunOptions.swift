import ArgumentParser
import Foundation
import RNN
#if canImport(Glibc)
import Glibc
#endif

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
        keepLargeAllocationsInHeap()
        try distributedOptions.run(threads: threads ?? defaultThreads, body)
    }
}

/// Training allocates and frees the same large buffers (a batch's activations and gate caches,
/// up to B·T·4H floats) at every step. glibc serves blocks above its mmap threshold with fresh
/// mappings and unmaps them on free, so every step faulted its buffers in again: a 10-minute IMDB
/// run took 31.6 M minor page faults and 140 s of system time. Blocks up to 256 MiB now stay in
/// the heap, which is trimmed only above 512 MiB free (a 1,000-review run: 1.89 M → 0.36 M faults,
/// 7.2 → 3.6 s of system time, peak memory +17%). A user's own `GLIBC_TUNABLES` malloc settings win.
private func keepLargeAllocationsInHeap() {
    #if canImport(Glibc)
    if ProcessInfo.processInfo.environment["GLIBC_TUNABLES"]?.contains("glibc.malloc.") == true { return }
    // mallopt is in <malloc.h>, which the Glibc module does not export: look it up.
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
    let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3  // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
    _ = mallopt(mmapThreshold, 256 << 20)
    _ = mallopt(trimThreshold, 512 << 20)
    #endif
}
