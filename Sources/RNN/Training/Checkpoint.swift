import Foundation
import RNNCore

/// A resumable training checkpoint: `MODEL_DIR/checkpoint/` with
/// - `weights.safetensors`: the current parameters (PyTorch names),
/// - `optimizer.safetensors`: the optimizer's state (`adam.exp_avg`, ...) and `best_weights` (flat),
/// - the task's own files (its model configuration, tokenizer),
/// - `trainer.json`: `TrainerState` (epochs done, steps, history, best, random generator state).
///
/// The directory is built as `checkpoint.tmp/` and swapped in by renames, so a kill at any moment
/// leaves a complete checkpoint: the new one, or the previous one (as `checkpoint` or, for the
/// instant between the two renames, `checkpoint.old`, which `load` falls back to). The model
/// directory is flushed (fsync) after the swap, so the new name also survives a power loss.
public enum Checkpoint {
    public static let directoryName = "checkpoint"

    public static func save(in modelDirectory: String, store: ParameterStore, optimizer: any TrainingOptimizer,
                            bestWeights: [Float]?, state: TrainerState, extraFiles: [String: Data]) throws {
        let manager = FileManager.default
        let final = modelDirectory + "/" + directoryName, staging = final + ".tmp", previous = final + ".old"
        do {
            try manager.createDirectory(atPath: modelDirectory, withIntermediateDirectories: true)
            try? manager.removeItem(atPath: staging)
            try manager.createDirectory(atPath: staging, withIntermediateDirectories: false)
        } catch {
            throw RNNError.invalidFile(modelDirectory, "cannot write a checkpoint (\(error.localizedDescription))")
        }
        do {
            try SafeTensors.write(store.namedTensors(), to: staging + "/weights.safetensors")
            var optimizerTensors = optimizer.stateTensors()
            if let bestWeights { optimizerTensors.append(("best_weights", try Tensor(shape: [bestWeights.count], scalars: bestWeights))) }
            try SafeTensors.write(optimizerTensors, to: staging + "/optimizer.safetensors")
            for (name, data) in extraFiles { try AtomicFile.write(data, to: staging + "/" + name) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(encoder.encode(state), to: staging + "/trainer.json")
        } catch let error as RNNError {
            // A full disk: free the partial copy; the previous checkpoint stays as it was.
            try? manager.removeItem(atPath: staging)
            let kept = directory(in: modelDirectory).map { "the previous checkpoint \($0) is kept" } ?? "no checkpoint was saved"
            throw RNNError("\(error.message); \(kept)")
        }
        // Swap: the old checkpoint stays complete until the new one has its name.
        try? manager.removeItem(atPath: previous)
        if manager.fileExists(atPath: final) { try rename(final, to: previous) }
        try rename(staging, to: final)
        try AtomicFile.synchronizeDirectory(modelDirectory, after: final)
        try? manager.removeItem(atPath: previous)
    }

    /// The checkpoint folder to read: `checkpoint`, or `checkpoint.old` after an interrupted swap.
    public static func directory(in modelDirectory: String) -> String? {
        let final = modelDirectory + "/" + directoryName
        for candidate in [final, final + ".old"] where FileManager.default.fileExists(atPath: candidate + "/trainer.json") {
            return candidate
        }
        return nil
    }

    /// The checkpoint folder to resume from, or the one-line error saying there is none.
    public static func requireDirectory(in modelDirectory: String) throws -> String {
        guard let folder = directory(in: modelDirectory) else {
            throw RNNError.invalidFile(modelDirectory, "no checkpoint to resume from (expected \(directoryName)/trainer.json)")
        }
        return folder
    }

    /// Restores weights and optimizer state; returns the trainer state and the best weights.
    public static func load(from modelDirectory: String, store: ParameterStore,
                            optimizer: any TrainingOptimizer) throws -> (state: TrainerState, bestWeights: [Float]?) {
        let folder = try requireDirectory(in: modelDirectory)
        try store.load(from: SafeTensors(contentsOf: folder + "/weights.safetensors"))
        let optimizerFile = try SafeTensors(contentsOf: folder + "/optimizer.safetensors")
        var bestWeights: [Float]?
        var optimizerTensors: [(name: String, tensor: Tensor)] = []
        for name in optimizerFile.names {
            let tensor = try optimizerFile.tensor(name)
            if name == "best_weights" { bestWeights = tensor.scalars } else { optimizerTensors.append((name, tensor)) }
        }
        try optimizer.loadState(optimizerTensors)
        guard let data = FileContents.read(atPath: folder + "/trainer.json") else {
            throw RNNError.invalidFile(folder + "/trainer.json", "cannot read")
        }
        do {
            return (try JSONDecoder().decode(TrainerState.self, from: data), bestWeights)
        } catch {
            throw RNNError.invalidFile(folder + "/trainer.json", "not a trainer state (\(decodingReason(error)))")
        }
    }

    /// A task file saved with the checkpoint.
    public static func file(_ name: String, in modelDirectory: String) throws -> Data {
        guard let folder = directory(in: modelDirectory),
              let data = FileContents.read(atPath: folder + "/" + name) else {
            throw RNNError.invalidFile(modelDirectory, "the checkpoint has no \(name)")
        }
        return data
    }

    private static func rename(_ from: String, to: String) throws {
        guard Foundation.rename(from, to) == 0 else {
            throw RNNError.invalidFile(to, "cannot rename checkpoint (\(String(cString: strerror(errno))))")
        }
    }
}
