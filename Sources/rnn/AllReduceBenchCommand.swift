import ArgumentParser
import Foundation
import RNN
import RNNCore

/// `mpirun -np N rnn bench-allreduce`: the time of one in-place float all-reduce of the size of a
/// model's gradient buffer, as the trainer makes it once per step. Rank 0 prints one JSON line:
/// seconds per call and the ring all-reduce "bus bandwidth" 2(N−1)/N · bytes / seconds.
/// `--sharded`: a reduce-scatter followed by an all-gather instead (the sharded optimizer step's
/// traffic); `--nonblocking`: `MPI_Iallreduce` and `MPI_Wait`. `--verify`: each rank fills the
/// buffer with values of its own and checks the sums (one error line when one is wrong).
struct AllReduceBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-allreduce",
        abstract: "Time the gradient all-reduce of distributed training (run under mpirun).",
        shouldDisplay: false
    )

    @Option(help: "Floats per all-reduce (imdb-lstm's gradient: 2,700,000; jokes-lm's: 3,000,000).") var floats = 2_700_000
    @Option(help: "Timed calls (after 3 untimed ones).") var repeats = 20
    @Flag(help: "Time a reduce-scatter + all-gather pair instead of one all-reduce.") var sharded = false
    @Flag(help: "Time a non-blocking all-reduce (MPI_Iallreduce, then MPI_Wait) instead of the blocking one.") var nonblocking = false
    @Flag(help: "Check the sums of every call (rank-dependent values) instead of filling with ones.") var verify = false
    @OptionGroup var distributedOptions: DistributedOptions

    func run() throws {
        try distributedOptions.run(threads: 1) { collective in
            guard floats >= 1, repeats >= 1 else { throw RNNError("--floats and --repeats must be at least 1") }
            var buffer = [Float](repeating: 1, count: floats)
            var times: [Double] = []
            // Small whole numbers, so every order of summation gives the exact sum.
            let rank = collective.rank, rankCount = collective.size
            func fill(_ values: UnsafeMutableBufferPointer<Float>) {
                for index in values.indices { values[index] = verify ? Float((index % 97) * (rank + 1)) : 1 }
            }
            var checked = 0
            try buffer.withUnsafeMutableBufferPointer { values in
                fill(values)
                for repetition in 0..<(repeats + 3) {
                    let start = DispatchTime.now().uptimeNanoseconds
                    if sharded {
                        try collective.reduceScatterSum(values)
                        try collective.allGather(values)
                    } else if nonblocking {
                        try collective.wait(try collective.startAllReduceSum(values))
                    } else {
                        try collective.allReduceSum(values)
                    }
                    if repetition >= 3 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
                    if verify {
                        let factor = Float(rankCount * (rankCount + 1) / 2)
                        if let wrong = values.indices.first(where: { values[$0] != Float($0 % 97) * factor }) {
                            throw RNNError("bench-allreduce --verify: rank \(rank), element \(wrong) of \(floats): \(values[wrong]), expected \(Float(wrong % 97) * factor)")
                        }
                        checked += 1
                    }
                    fill(values)
                }
            }
            // The slowest rank's time is the step's cost.
            let slowest = try collective.allReduceMinMax(times).maximum.sorted()
            guard collective.isLeader else { return }
            let median = slowest[slowest.count / 2], ranks = Double(collective.size)
            let bytes = Double(floats * MemoryLayout<Float>.size)
            try printJSON(["ranks": collective.size, "floats": floats, "operation": sharded ? "reduce-scatter+all-gather" : (nonblocking ? "iallreduce+wait" : "all-reduce"),
                           "verified_calls": checked, "bytes": bytes, "median_seconds": median,
                           "min_seconds": slowest.first!, "max_seconds": slowest.last!,
                           "bus_gigabytes_per_second": ranks > 1 ? 2 * (ranks - 1) / ranks * bytes / median / 1e9 : 0])
        }
    }
}
