import Foundation
import RNNCore

/// Where an interrupted epoch stood: the batches done and the running sums of its record, so that
/// a resumed run finishes the epoch as if it had never stopped.
public struct PartialEpoch: Codable, Sendable, Equatable {
    public var epoch: Int
    /// Optimizer steps done in this epoch (the first `batchesDone` batches of its order).
    public var batchesDone: Int
    public var lossSum: Double
    public var lossCount: Int
    public var tokens: Int
    public var normSum: Double
    public var normMax: Double
    /// Training seconds spent in the epoch so far.
    public var seconds: Double
    /// The caller's generator state before it drew this epoch's batches (shuffling): a resumed
    /// run draws the same order from it, skips `batchesDone` batches and continues with
    /// `TrainerState.generatorState`. Filled in by the caller, like `generatorState`.
    public var generatorStateAtEpochStart: [UInt64] = []
}

/// Thrown by `Trainer.fit` when `stopRequested` returned true after a step: `state` (with
/// `partialEpoch`) is what to checkpoint; the caller adds its generator states and saves.
public struct TrainingInterrupted: Error, Sendable {
    public var state: TrainerState
    /// What to tell the user (set by the caller once the checkpoint is saved).
    public var message: String

    public init(state: TrainerState, message: String) {
        self.state = state
        self.message = message
    }
}

extension Trainer {
    /// The interruption error for a stop after a step of `partial.epoch`.
    func interruption(_ partial: PartialEpoch) -> TrainingInterrupted {
        var current = state(generatorState: [])
        current.partialEpoch = partial
        return TrainingInterrupted(state: current,
                                   message: "interrupted in epoch \(partial.epoch) after step \(partial.batchesDone)")
    }
}

extension Trainer {
    /// Keeps a checkpoint's partly done epoch for the next `fit` (from `resume`).
    func resumeInsideEpoch(_ partial: PartialEpoch?) throws {
        if let partial, partial.epoch != state(generatorState: []).completedEpochs + 1 || partial.batchesDone < 1 {
            throw RNNError("checkpoint: a partial epoch \(partial.epoch) (\(partial.batchesDone) steps) does not follow its completed epochs")
        }
        resumedPartialEpoch = partial
    }

    /// The partly done epoch to continue when `fit` starts `epoch` (used once).
    func takeResumedPartialEpoch(epoch: Int, batches: Int) throws -> PartialEpoch? {
        guard let partial = resumedPartialEpoch, partial.epoch == epoch else { return nil }
        resumedPartialEpoch = nil
        guard partial.batchesDone <= batches else {
            throw RNNError("checkpoint: epoch \(epoch) was interrupted after \(partial.batchesDone) steps but now has \(batches) batches; resume with the data and options of the interrupted run")
        }
        return partial
    }
}

extension Trainer {
    /// `stopRequested`, agreed over the ranks of a data-parallel run: every rank stops after the
    /// same step when any one of them is asked to (a launcher forwards Ctrl-C to each rank at a
    /// slightly different moment), so none is left waiting in the next all-reduce.
    func stopRequestedOnAnyRank() throws -> Bool {
        let local = stopRequested()
        guard collective.isDistributed else { return local }
        return try collective.sum([local ? 1 : 0])[0] > 0
    }
}
