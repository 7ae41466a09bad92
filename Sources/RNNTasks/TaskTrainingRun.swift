import Foundation
import RNN
import RNNCore

/// The training loop wiring every `train` command shares around `Trainer.fit`:
///
/// - **checkpoints:** after every epoch rank 0 saves `OUT/checkpoint/` (weights, optimizer state,
///   best weights, `trainer.json` with the generator state, and the task's files: its model
///   configuration under `configFile`, its tokenizer or vocabulary);
/// - **`--resume`:** the saved configuration must equal the new run's (same data and options),
///   then weights, optimizer, trainer state and generator are restored, so the resumed run ends
///   with the weights of an uninterrupted one, bit for bit (inside an epoch too: see
///   `EpochGenerators`);
/// - **Ctrl-C:** `stopRequested` is checked after every step (agreed over the ranks); the run
///   saves a checkpoint inside the epoch and throws `TrainingInterrupted` whose message names
///   `--resume` (the CLI prints it and exits with 130);
/// - **the collective:** every rank draws the same shuffled global batches from the shared task
///   generator and trains on its rows of each (`Collective.shard`), dropout masks come from a
///   per-rank generator derived from (seed, rank, epoch), and rank 0 alone writes checkpoints.
///   Validation is the task's: it reduces its sums with `sumOverRanks`.
///
/// In one process, `generator` draws the batch order and the dropout masks, as before this type
/// existed, so single-process results are unchanged.
final class TaskTrainingRun {
    let trainer: Trainer
    let collective: any Collective
    let output: String
    /// The task generator: the epochs' batch order (the same on every rank) and, in one
    /// process, the dropout masks.
    private(set) var generator: SeededGenerator
    /// Distributed runs: this rank's dropout masks, drawn afresh every epoch.
    private var dropoutGenerator: SeededGenerator
    private var epochGenerators = EpochGenerators()
    private let seed: UInt64
    private let checkpointFiles: [String: Data]

    /// Builds the trainer; with `resume`, restores the checkpoint in `output` (after checking that
    /// its `configFile` equals `config`) and logs where the run continues. `describesStep`: log
    /// which distributed step the ranks use (false for a second run of the same command, which
    /// would only repeat the line).
    init<Config: Codable & Equatable>(store: ParameterStore, options: TrainingOptions, generator: SeededGenerator, seed: UInt64,
                                      output: String, config: Config, configFile: String, files: [String: Data] = [:],
                                      resume: Bool, collective: any Collective, stopRequested: @escaping () -> Bool,
                                      describesStep: Bool = true, log: (String) -> Void) throws {
        trainer = try Trainer(store: store, options: options)
        trainer.collective = collective
        trainer.stopRequested = stopRequested
        self.collective = collective
        if describesStep, trainer.usesNodeSharedStep {
            log("distributed: the \(collective.size) ranks share this machine's memory: gradients and weights move through it, not through MPI's all-reduce (--no-shared-memory to compare)")
        } else if describesStep, trainer.sendsTouchedRowsOnly {
            log("distributed: the gradient all-reduce sends only the embedding rows some rank's batch used (--dense-allreduce to compare)")
        }
        self.output = output
        self.generator = generator
        self.dropoutGenerator = generator
        self.seed = seed
        var files = files
        files[configFile] = try JSONEncoder().encode(config)
        checkpointFiles = files
        if resume {
            let folder = try Checkpoint.requireDirectory(in: output)
            let saved: Config
            do {
                saved = try JSONDecoder().decode(Config.self, from: Checkpoint.file(configFile, in: output))
            } catch let error as RNNError {
                throw error
            } catch {
                throw RNNError.invalidFile(folder + "/" + configFile, "not this task's model configuration; resume with the command that made the checkpoint")
            }
            guard saved == config else {
                throw RNNError.invalidFile(output, "the checkpoint was made with other data or model options; resume with those of the interrupted run")
            }
            let (state, bestWeights) = try Checkpoint.load(from: output, store: store, optimizer: trainer.optimizer)
            try trainer.resume(from: state, bestWeights: bestWeights)
            self.generator = try epochGenerators.resume(from: state)
            log(resumeMessage(state, epochs: options.epochs))
        }
    }

    /// `Trainer.fit` with checkpoints, resume and Ctrl-C. `batches` draws an epoch's batches,
    /// already cut to this rank's rows (nil: none for this rank in that global batch; its step
    /// contributes nothing); `step` trains on one with the generator for dropout.
    func fit<Item>(batches: (inout SeededGenerator) throws -> [Item?], step: (Item, inout SeededGenerator) throws -> StepResult,
                   validate: (() throws -> ValidationResult)?, monitor: String, higherIsBetter: Bool,
                   onEvent: (TrainingEvent) -> Void) throws -> [EpochRecord] {
        do {
            return try trainer.fit(
                batches: { epoch in
                    dropoutGenerator = DistributedTraining.dropoutGenerator(seed: seed, rank: collective.rank, epoch: epoch)
                    epochGenerators.atEpochStart = generator.stateWords
                    let epochBatches = try batches(&generator)
                    if let continued = epochGenerators.takeContinuation() { generator = continued }
                    return epochBatches
                },
                step: { item in
                    guard let item else { return .empty }
                    return collective.isDistributed ? try step(item, &dropoutGenerator) : try step(item, &generator)
                },
                validate: validate, monitor: monitor, higherIsBetter: higherIsBetter, onEvent: onEvent,
                onEpochEnd: { state in
                    var state = state
                    state.generatorState = generator.stateWords
                    try saveCheckpoint(state)
                })
        } catch let interrupted as TrainingInterrupted {
            throw try epochGenerators.checkpoint(interrupted, generator: generator, output: output, save: saveCheckpoint)
        }
    }

    /// `fit` for tasks whose global batches are cut into ranks' parts by `select(batch, rows)`.
    func fit<Batch>(batches: (inout SeededGenerator) throws -> [Batch], rows: (Batch) -> Int, select: (Batch, [Int]) throws -> Batch,
                    step: (Batch, inout SeededGenerator) throws -> StepResult, validate: (() throws -> ValidationResult)?,
                    monitor: String, higherIsBetter: Bool, onEvent: (TrainingEvent) -> Void) throws -> [EpochRecord] {
        try fit(batches: { generator in try collective.shard(batches(&generator), rows: rows, select: select) }, step: step,
                validate: validate, monitor: monitor, higherIsBetter: higherIsBetter, onEvent: onEvent)
    }

    /// This rank's share of `count` items (rows r, r+N, …; all of them in one process).
    func shardRows(count: Int) -> [Int] { collective.shardRows(count: count) }

    /// This rank's parts of the validation batches (every batch whole in one process).
    func validationShard<Batch>(_ batches: [Batch], rows: (Batch) -> Int, select: (Batch, [Int]) throws -> Batch) throws -> [Batch] {
        try collective.shard(batches, rows: rows, select: select).compactMap { $0 }
    }

    /// Per-rank sums (loss × count, count, …) summed over the ranks; unchanged in one process.
    func sumOverRanks(_ values: [Double]) throws -> [Double] {
        try collective.sum(values)
    }

    /// Rank 0 saves the trained model in `output` (ModelDirectory: config, weights, `files`) with
    /// the training history as `history.json` and `history.csv`; the other ranks hold the same
    /// weights and skip it.
    func saveModel<Model: Codable & Sendable>(_ file: ModelConfigFile<Model>, store: ParameterStore, history: [EpochRecord],
                                              files: [String: Data] = [:]) throws {
        guard collective.isLeader else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var files = files
        files["history.json"] = try encoder.encode(history)
        files["history.csv"] = Data(trainer.historyCSV().utf8)
        try ModelDirectory.save(file, store: store, extraFiles: files, to: output)
    }

    /// Rank 0 writes the checkpoint; the other ranks hold the same weights and skip it.
    private func saveCheckpoint(_ state: TrainerState) throws {
        guard collective.isLeader else { return }
        try Checkpoint.save(in: output, store: trainer.store, optimizer: trainer.optimizer, bestWeights: trainer.bestWeights,
                            state: state, extraFiles: checkpointFiles)
    }
}
