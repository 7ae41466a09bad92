import ArgumentParser
import Foundation
import RNN
import RNNCore

/// How a training run is spread over processes.
enum DistributedMode: String, ExpressibleByArgument, CaseIterable {
    /// Distributed when started by an MPI launcher, one process otherwise.
    case auto
    /// One process, even under a launcher.
    case none
    /// Open MPI (`mpirun -np N rnn ... train ...`); an error without a launcher.
    case mpi
}

/// `--distributed` and `--collective-timeout`, shared by every `train` command.
struct DistributedOptions: ParsableArguments {
    @Option(help: "auto (MPI when started by mpirun), none, or mpi: data-parallel training, one rank per process.")
    var distributed: DistributedMode = .auto
    @Option(help: "Distributed runs: seconds a rank waits inside one all-reduce before it gives up (a rank died or hangs).")
    var collectiveTimeout: Double = 300
    @Flag(help: "Distributed runs: shard the optimizer step over the ranks (reduce-scatter of the gradient, each rank updates its part, all-gather of the weights; ZeRO-1) instead of one all-reduce of the whole gradient and the same step on every rank.")
    var shardedOptimizer = false
    @Flag(help: ArgumentHelp("Distributed runs: all-reduce the whole gradient after the backward pass, instead of starting the output layer's part during it (for comparison).", visibility: .hidden))
    var blockingAllreduce = false
    @Flag(help: ArgumentHelp("Distributed runs over MPI's all-reduce: send every row of the embedding tables' gradients, also the rows no rank's batch used (for comparison).", visibility: .hidden))
    var denseAllreduce = false
    @Flag(name: .customLong("no-shared-memory"), help: "Distributed runs with every rank on one machine: exchange gradients through MPI's all-reduce instead of memory the ranks share (the default there; see README).")
    var noSharedMemory = false

    func makeCollective() throws -> any Collective {
        guard collectiveTimeout > 0 else { throw RNNError("--collective-timeout must be positive, got \(collectiveTimeout)") }
        switch distributed {
        case .none: return SingleProcessCollective()
        case .auto where !MPICollective.launchedByMPI(): return SingleProcessCollective()
        case .auto, .mpi: return try MPICollective(timeout: collectiveTimeout, shardsOptimizerStep: shardedOptimizer,
                                                 overlapsGradientAllReduce: !blockingAllreduce, sharesNodeMemory: !noSharedMemory,
                                                 sendsTouchedRowsOnly: !denseAllreduce)
        }
    }

    /// Runs a training command on this process's rank. BLAS threads are capped at the cores per
    /// rank on this machine. An error all ranks meet alike is printed by rank 0 and every rank
    /// ends normally; an error of one rank alone is printed with its rank and ends the whole job
    /// (`MPI_Abort`), since the others may be waiting for it inside an all-reduce.
    func run(threads: Int, _ body: (any Collective) throws -> Void) throws {
        try reportingErrors {
            let collective = try makeCollective()
            if collective.isDistributed {
                reportLauncherStop()
                let localRanks = Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? collective.size
                BLAS.setThreads(max(1, min(threads, ProcessInfo.processInfo.activeProcessorCount / max(localRanks, 1))))
            } else {
                BLAS.setThreads(threads)
            }
            do {
                try (collective as? MPICollective)?.checkSameStepKind()
                try body(collective)
                collective.finish()
            } catch let failure as CollectiveFailure {
                // Rank 0 says it before the ranks part (finishing is a fence): once one rank has
                // ended with a failure status, the launcher may stop the rest at any moment.
                silenceLauncherStop()
                if collective.isLeader { reportError(failure.error) }
                collective.finish()
                throw ExitCode.failure
            } catch let error as RNNError where collective.isDistributed && collective.operations == 0 {
                // Failed before the first collective operation (reading the data, say): tell the
                // others through that operation, then end normally.
                let (_, leaderFailed) = (try? collective.agreeToStart(failed: true)) ?? (true, true)
                silenceLauncherStop()
                if collective.isLeader { reportError(error) }
                if !collective.isLeader && !leaderFailed { FileHandle.standardError.write(Data("error: rank \(collective.rank): \(error.message)\n".utf8)) }
                collective.finish()
                throw ExitCode.failure
            } catch let error as RNNError where collective.isDistributed {
                FileHandle.standardError.write(Data("error: rank \(collective.rank): \(error.message)\n".utf8))
                collective.abort(code: 1)
            }
        }
    }
}

/// When one rank dies, Open MPI's launcher stops the others with SIGTERM; each says why before
/// it ends (the last checkpoint, written atomically by rank 0, is intact). Only the write of a
/// fixed text happens inside the handler, which is async-signal-safe.
private func reportLauncherStop() {
    signal(SIGTERM) { _ in
        let message: StaticString = "error: stopped by the MPI launcher: another rank ended abnormally or the job was cancelled; resume from the last checkpoint with --resume\n"
        _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
        _exit(143)
    }
}

/// Every rank knows of the failure and rank 0 reports it: when rank 0's exit makes the launcher
/// stop the others with SIGTERM on their way out, they end without a second message.
private func silenceLauncherStop() {
    signal(SIGTERM, SIG_DFL)
}

/// The one `error:` line of a failure every rank met alike, as `reportingErrors` prints it.
private func reportError(_ error: RNNError) {
    FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
}
