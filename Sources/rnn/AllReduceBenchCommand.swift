import ArgumentParser
import Foundation
import RNN
import RNNCore

/// `mpirun -np N rnn bench-allreduce`: the time of one in-place float all-reduce of the size of a
/// model's gradient buffer, as the trainer makes it once per step. Rank 0 prints one JSON line:
/// seconds per call and the ring all-reduce "bus bandwidth" 2(N−1)/N · bytes / seconds.
struct AllReduceBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-allreduce",
        abstract: "Time the gradient all-reduce of distributed training (run under mpirun).",
        shouldDisplay: false
    )

    @Option(help: "Floats per all-reduce (imdb-lstm's gradient: 2,700,000; jokes-lm's: 3,000,000).") var floats = 2_700_000
    @Option(help: "Timed calls (after 3 untimed ones).") var repeats = 20
    @OptionGroup var distributedOptions: DistributedOptions

    func run() throws {
        try distributedOptions.run(threads: 1) { collective in
            guard floats >= 1, repeats >= 1 else { throw RNNError("--floats and --repeats must be at least 1") }
            var buffer = [Float](repeating: 1, count: floats)
            var times: [Double] = []
            try buffer.withUnsafeMutableBufferPointer { values in
                for repetition in 0..<(repeats + 3) {
                    let start = DispatchTime.now().uptimeNanoseconds
                    try collective.allReduceSum(values)
                    if repetition >= 3 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
                    for index in values.indices { values[index] = 1 }
                }
            }
            // The slowest rank's time is the step's cost.
            let slowest = try collective.allReduceMinMax(times).maximum.sorted()
            guard collective.isLeader else { return }
            let median = slowest[slowest.count / 2], ranks = Double(collective.size)
            let bytes = Double(floats * MemoryLayout<Float>.size)
            try printJSON(["ranks": collective.size, "floats": floats, "bytes": bytes, "median_seconds": median,
                           "min_seconds": slowest.first!, "max_seconds": slowest.last!,
                           "bus_gigabytes_per_second": ranks > 1 ? 2 * (ranks - 1) / ranks * bytes / median / 1e9 : 0])
        }
    }
}
