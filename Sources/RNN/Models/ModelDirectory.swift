import Foundation
import RNNCore

/// What every `config.json` starts with: enough to say what a directory holds before decoding it.
public struct ModelHeader: Codable, Sendable {
    /// Always "swift-rnn".
    public var format: String
    /// Layout version of the directory; bumped when a change would misread older models.
    public var formatVersion: Int
    /// "classify", "lm", "tag", ...
    public var task: String
    /// The toolkit version that wrote it.
    public var writtenBy: String
}

/// A model's `config.json`: the header, the task's model configuration and free-form records.
public struct ModelConfigFile<Model: Codable & Sendable>: Codable, Sendable {
    public var format: String
    public var formatVersion: Int
    public var task: String
    public var writtenBy: String
    public var model: Model
    /// Training options as given (strings, for people and for resuming).
    public var training: [String: String]
    /// Final metrics (validation accuracy, perplexity, ...).
    public var metrics: [String: Double]

    public init(task: String, model: Model, training: [String: String] = [:], metrics: [String: Double] = [:],
                writtenBy: String) {
        self.format = ModelDirectory.formatName
        self.formatVersion = ModelDirectory.formatVersion
        self.task = task
        self.writtenBy = writtenBy
        self.model = model
        self.training = training
        self.metrics = metrics
    }
}

/// A trained model on disk: a directory of `config.json`, `model.safetensors` (PyTorch parameter
/// names) and, for text models, `tokenizer.json` (HuggingFace format).
///
/// Every file is written atomically (temporary file, then rename) and `config.json` last, so a
/// directory whose config is readable has complete weights beside it.
public enum ModelDirectory {
    public static let formatName = "swift-rnn"
    public static let formatVersion = 1
    public static let configFile = "config.json"
    public static let weightsFile = "model.safetensors"
    public static let tokenizerFile = "tokenizer.json"

    /// Writes a model. `extraFiles` maps file names (e.g. `tokenizer.json`, `history.json`) to contents.
    public static func save<Model: Codable & Sendable>(_ config: ModelConfigFile<Model>, store: ParameterStore,
                                                       extraFiles: [String: Data] = [:], to path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw RNNError.invalidFile(path, "exists and is not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                var isDirectory: ObjCBool = false
                // Another process made it between Foundation's check and its mkdir: that is fine.
                if !(FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue) {
                    throw RNNError.invalidFile(path, "cannot create the model directory (\(error.localizedDescription))")
                }
            }
        }
        try SafeTensors.write(store.namedTensors(), metadata: ["format": "pt", "written_by": config.writtenBy],
                              to: path + "/" + weightsFile)
        for (name, data) in extraFiles.sorted(by: { $0.key < $1.key }) {
            try AtomicFile.write(data, to: path + "/" + name)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(config), to: path + "/" + configFile)
    }

    /// Fails at once, before any training, when the model directory cannot be created or written
    /// (read-only file system, no permission), rather than after the first epoch.
    /// A directory it had to create is removed again (training creates it when it saves).
    public static func checkWritable(_ path: String) throws {
        let existed = FileManager.default.fileExists(atPath: path)
        let probe = path + "/.write-test-\(getpid())"
        // Several processes (the ranks of a distributed run) may probe the same new directory at
        // once, and one may remove it between another's creating it and writing its probe: try again.
        for attempt in 1...3 {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                var isDirectory: ObjCBool = false
                // Another process made it between Foundation's check and its mkdir: that is fine.
                if !(FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue) {
                    throw RNNError.invalidFile(path, "cannot create the model directory (\(error.localizedDescription))")
                }
            }
            if FileManager.default.createFile(atPath: probe, contents: nil) { break }
            guard errno == ENOENT, attempt < 3 else {
                throw RNNError.invalidFile(path, "cannot write in the model directory (\(String(cString: strerror(errno))))")
            }
        }
        try? FileManager.default.removeItem(atPath: probe)
        if !existed { rmdir(path) }  // fails, harmlessly, when another process has put files there
    }

    /// Reads the header, checking the directory is a complete swift-rnn model of `task` (any task when nil).
    public static func header(at path: String, task: String? = nil) throws -> ModelHeader {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RNNError.invalidFile(path, "no such model directory")
        }
        guard isDirectory.boolValue else { throw RNNError.invalidFile(path, "is a file; --model takes a model directory") }
        for file in [configFile, weightsFile] where !FileManager.default.fileExists(atPath: path + "/" + file) {
            throw RNNError.invalidFile(path, "missing \(file); is this a model directory written by `rnn ... train`?")
        }
        let data = try readFile(path + "/" + configFile)
        let header: ModelHeader
        do {
            header = try JSONDecoder().decode(ModelHeader.self, from: data)
        } catch {
            throw RNNError.invalidFile(path + "/" + configFile, "not a swift-rnn model config (\(decodingReason(error)))")
        }
        guard header.format == formatName else {
            throw RNNError.invalidFile(path + "/" + configFile, "format is '\(header.format)', expected '\(formatName)'")
        }
        guard header.formatVersion == formatVersion else {
            throw RNNError.invalidFile(path, "written by swift-rnn \(header.writtenBy) in layout version \(header.formatVersion); this build reads version \(formatVersion): retrain or use a matching build")
        }
        if let task, header.task != task {
            throw RNNError.invalidFile(path, "is a '\(header.task)' model, not a '\(task)' model")
        }
        return header
    }

    /// Decodes `config.json` for a task.
    public static func config<Model: Codable & Sendable>(at path: String, task: String, as type: Model.Type) throws -> ModelConfigFile<Model> {
        _ = try header(at: path, task: task)
        do {
            return try JSONDecoder().decode(ModelConfigFile<Model>.self, from: readFile(path + "/" + configFile))
        } catch let error as RNNError {
            throw error
        } catch {
            throw RNNError.invalidFile(path + "/" + configFile, "invalid model configuration (\(decodingReason(error)))")
        }
    }

    /// Loads weights into a store built from the config; names, shapes and values are checked.
    public static func loadWeights(into store: ParameterStore, from path: String) throws {
        try store.load(from: SafeTensors(contentsOf: path + "/" + weightsFile))
    }

    /// Contents of an optional file in the directory.
    public static func file(_ name: String, in path: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path + "/" + name) else {
            throw RNNError.invalidFile(path, "missing \(name)")
        }
        return try readFile(path + "/" + name)
    }

    private static func readFile(_ path: String) throws -> Data {
        do {
            return try FileContents.read(URL(fileURLWithPath: path))
        } catch {
            throw RNNError.invalidFile(path, "cannot read (\(error.localizedDescription))")
        }
    }
}

/// A short reason from a decoding error: which key or value was wrong.
func decodingReason(_ error: Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    func pathString(_ path: [CodingKey]) -> String { path.map(\.stringValue).joined(separator: ".") }
    switch error {
    case .keyNotFound(let key, let context): return "missing key '\(pathString(context.codingPath + [key]))'"
    case .typeMismatch(_, let context): return "wrong type at '\(pathString(context.codingPath))'"
    case .valueNotFound(_, let context): return "missing value at '\(pathString(context.codingPath))'"
    case .dataCorrupted(let context):
        return context.codingPath.isEmpty ? "not valid JSON" : "invalid value at '\(pathString(context.codingPath))'"
    @unknown default: return "\(error)"
    }
}
