import Foundation
import RNN
import RNNCore

/// The task generator's states a checkpoint inside an epoch needs (shuffling draws the epoch's
/// batch order from the generator, dropout draws from it at every step): the state before the
/// epoch's batches were drawn, and, when resuming inside an epoch, the state to continue with once
/// the same order has been drawn again.
struct EpochGenerators {
    /// The generator state before the current epoch's batches were drawn.
    var atEpochStart: [UInt64] = []
    private var continuation: SeededGenerator?

    /// The generator to start a resumed run with: the state at the end of the checkpoint's last
    /// epoch, or, inside an epoch, the state at that epoch's start (then `takeContinuation`
    /// returns the state after the interrupted step).
    mutating func resume(from state: TrainerState) throws -> SeededGenerator {
        guard let partial = state.partialEpoch else { return try SeededGenerator(state: state.generatorState) }
        continuation = try SeededGenerator(state: state.generatorState)
        return try SeededGenerator(state: partial.generatorStateAtEpochStart)
    }

    /// After drawing an epoch's batches: the generator to continue a resumed epoch with (once).
    mutating func takeContinuation() -> SeededGenerator? {
        defer { continuation = nil }
        return continuation
    }

    /// Saves the checkpoint of an interrupted run (adding the generator states) and returns the
    /// interruption with the message for the user.
    func checkpoint(_ interrupted: TrainingInterrupted, generator: SeededGenerator, output: String,
                    save: (TrainerState) throws -> Void) throws -> TrainingInterrupted {
        var state = interrupted.state
        state.generatorState = generator.stateWords
        state.partialEpoch?.generatorStateAtEpochStart = atEpochStart
        try save(state)
        return TrainingInterrupted(state: state, message: "\(interrupted.message); saved the checkpoint \(output)/\(Checkpoint.directoryName). "
                                   + "Continue with the same command and --resume")
    }
}

/// The log line of a resumed run.
func resumeMessage(_ state: TrainerState, epochs: Int) -> String {
    if let partial = state.partialEpoch {
        return "resuming epoch \(partial.epoch) of \(epochs) after step \(partial.batchesDone)"
    }
    return "resuming after epoch \(state.completedEpochs) of \(epochs)"
}
