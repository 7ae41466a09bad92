import Foundation
import RNN
import RNNCore
import RNNTasks
import RNNText

/// A classifier's answer for one text.
struct ClassPrediction: Codable, Sendable, Equatable {
    var label: String
    var probability: Double
    var probabilities: [String: Double]
}

/// What `/v1/models` and the web page's model cards show of a loaded model.
struct ModelCard: Encodable, Sendable {
    var name: String
    var task: String
    var path: String
    var parameters: Int
    /// `config.json`'s `model` section, as written.
    var config: JSONValue
    var training: [String: String]
    var metrics: [String: Double]
    /// Class labels (classify), tags (tag), condition labels (lm).
    var labels: [String]?

    enum CodingKeys: String, CodingKey { case name, task, path, parameters, config, training, metrics, labels }
}

/// A classifier being served: texts are tokenized by the caller (on the request's own task,
/// outside the model's thread: the tokenizer is immutable and `Sendable`), and only the forward
/// passes run on `queue`, one at a time, batched.
final class ClassifierEngine: Sendable {
    let queue: BatchQueue<[Int32], ClassPrediction>
    private let classifier: UncheckedBox<TrainedClassifier>

    init(_ classifier: TrainedClassifier, name: String, limits: ServeLimits) {
        let box = UncheckedBox(classifier)
        self.classifier = box
        let labels = classifier.labels, maxBatch = max(limits.maxBatchTexts, 1)
        queue = BatchQueue(name: "classify-\(name)", limits: limits) { sequences in
            let model = box.value.model
            var predictions: [ClassPrediction] = []
            predictions.reserveCapacity(sequences.count)
            for start in stride(from: 0, to: sequences.count, by: maxBatch) {
                let part = sequences[start..<min(start + maxBatch, sequences.count)]
                let batch = try TokenBatch(sequences: Array(part), padding: Int32(model.config.paddingId))
                for probabilities in try model.probabilities(batch) {
                    let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
                    predictions.append(ClassPrediction(label: labels[best], probability: Double(probabilities[best]),
                                                       probabilities: Dictionary(uniqueKeysWithValues: zip(labels, probabilities.map(Double.init)))))
                }
            }
            return predictions
        }
    }

    /// Token ids of each text, as the classifier was trained (truncation included). Reads only
    /// the classifier's immutable tokenizer and settings: safe from any thread.
    func tokenize(_ texts: [String]) -> [[Int32]] { texts.map(classifier.value.encode) }
}

/// A language model shared by concurrent generations. Safe because `generateStreaming` makes a
/// fresh predictor (its own recurrent state and buffers) per call and only reads the weights, and
/// the tokenizer's one mutable part (the BPE word cache) is locked.
final class SharedLanguageModel: @unchecked Sendable {
    let model: TrainedLanguageModel
    init(_ model: TrainedLanguageModel) { self.model = model }
}

/// One loaded model, ready to answer: what it is, and the engine that runs it.
public final class ServedModel: Sendable {
    /// How requests reach the model. Classifiers, taggers and translators keep per-pass buffers,
    /// so their passes run one at a time on their own `BatchQueue` thread, batched; a language
    /// model runs each generation on a thread of its own (see `SharedLanguageModel`).
    enum Engine: Sendable {
        case classifier(ClassifierEngine)
        case languageModel(SharedLanguageModel)
        case tagger(BatchQueue<[String], [String]>)
        case translator(BatchQueue<String, String>)
    }

    public let name: String
    public var task: String { card.task }
    let card: ModelCard
    let engine: Engine

    init(card: ModelCard, engine: Engine) {
        self.name = card.name
        self.card = card
        self.engine = engine
    }

    /// A translation model from any implementation: `translate` maps source sentences to target
    /// sentences, one each, and is only ever called from one thread at a time (batched).
    /// This is where the seq2seq models plug in (see `ModelRegistry.standardLoaders`).
    public static func translator(name: String, path: String, limits: ServeLimits,
                                  translate: @escaping ([String]) throws -> [String]) throws -> ServedModel {
        ServedModel(card: try ModelCard.read(name: name, path: path),
                    engine: .translator(BatchQueue(name: "translate-\(name)", limits: limits, process: translate)))
    }

    /// Lets queued requests finish, then stops the model's thread.
    func close() {
        switch engine {
        case .classifier(let classifier): classifier.queue.close()
        case .tagger(let queue): queue.close()
        case .translator(let queue): queue.close()
        case .languageModel: break
        }
    }
}

/// Loads a model directory for serving: path, the name it is served under, the limits.
public typealias ModelLoader = @Sendable (_ path: String, _ name: String, _ limits: ServeLimits) throws -> ServedModel

/// The loaded models by name, and which loader serves which task (`config.json`'s `task`).
public final class ModelRegistry: Sendable {
    public let models: [ServedModel]

    /// classify, lm, tag and translate; another model kind plugs in by adding a loader for its task.
    public static let standardLoaders: [String: ModelLoader] = [
        "classify": { path, name, limits in
            let classifier = try TrainedClassifier.load(from: path)
            var card = try ModelCard.read(name: name, path: path)
            card.labels = classifier.labels
            return ServedModel(card: card, engine: .classifier(ClassifierEngine(classifier, name: name, limits: limits)))
        },
        "lm": { path, name, _ in
            let model = try TrainedLanguageModel.load(from: path)
            var card = try ModelCard.read(name: name, path: path)
            card.labels = model.conditions.isEmpty ? nil : model.conditions
            return ServedModel(card: card, engine: .languageModel(SharedLanguageModel(model)))
        },
        "tag": { path, name, limits in
            let tagger = try TrainedTagger.load(from: path)
            var card = try ModelCard.read(name: name, path: path)
            card.labels = tagger.tags
            let box = UncheckedBox(tagger)
            let queue = BatchQueue<[String], [String]>(name: "tag-\(name)", limits: limits) { sentences in
                try box.value.tag(sentences, batchSize: limits.maxBatchTexts)
            }
            return ServedModel(card: card, engine: .tagger(queue))
        },
        "translate": { path, name, limits in
            let translator = try TrainedTranslator.load(from: path)
            let box = UncheckedBox(translator)
            // Beam 5 with length normalisation, as `rnn translate` decodes by default.
            return try .translator(name: name, path: path, limits: limits) { sentences in
                try box.value.translate(sentences, options: BeamSearchOptions(beamSize: 5, batchSize: limits.maxBatchTexts)).map(\.text)
            }
        },
    ]

    public init(models: [ServedModel]) throws {
        var seen = Set<String>()
        for model in models where !seen.insert(model.name).inserted {
            throw RNNError("two models are named '\(model.name)'; serve them as NAME=DIR with different names")
        }
        self.models = models
    }

    /// Loads `NAME=DIR` or `DIR` (named after its last path component) specifications.
    public static func load(_ specifications: [String], limits: ServeLimits,
                            loaders: [String: ModelLoader] = standardLoaders) throws -> ModelRegistry {
        guard !specifications.isEmpty else { throw RNNError("no models: pass --model DIR at least once") }
        return try ModelRegistry(models: specifications.map { specification in
            let (name, path) = parse(specification)
            let header = try ModelDirectory.header(at: path)
            guard let loader = loaders[header.task] else {
                throw RNNError.invalidFile(path, "is a '\(header.task)' model; this server serves \(loaders.keys.sorted().joined(separator: ", ")) models")
            }
            return try loader(path, name, limits)
        })
    }

    static func parse(_ specification: String) -> (name: String, path: String) {
        if let equals = specification.firstIndex(of: "="), !specification[..<equals].contains("/") {
            return (String(specification[..<equals]), String(specification[specification.index(after: equals)...]))
        }
        var path = specification
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return (URL(fileURLWithPath: path).lastPathComponent, specification)
    }

    /// The model of `task` named `name`, or the only one of that task when `name` is nil.
    func model(named name: String?, task: String) throws -> ServedModel {
        let candidates = models.filter { $0.task == task }
        if let name {
            guard let model = models.first(where: { $0.name == name }) else {
                throw APIError.notFound("no model named '\(name)'" + Self.listing(candidates, task: task))
            }
            guard model.task == task else {
                throw APIError.badRequest("model '\(name)' is a '\(model.task)' model, not a '\(task)' model" + Self.listing(candidates, task: task))
            }
            return model
        }
        guard let only = candidates.first else { throw APIError.notFound("no \(Self.taskNames[task] ?? task) model loaded") }
        guard candidates.count == 1 else {
            throw APIError.badRequest("several \(task) models are loaded; name one in \"model\"" + Self.listing(candidates, task: task))
        }
        return only
    }

    private static let taskNames = ["classify": "classification", "lm": "language", "tag": "tagging", "translate": "translation"]

    private static func listing(_ models: [ServedModel], task: String) -> String {
        models.isEmpty ? "" : " (\(task) models: \(models.map(\.name).joined(separator: ", ")))"
    }

    /// Lets every model finish its queued requests, then stops their threads.
    public func close() {
        for model in models { model.close() }
    }
}

extension ModelCard {
    /// The card of a model directory: config.json's sections and the weights' scalar count.
    static func read(name: String, path: String) throws -> ModelCard {
        let data = try ModelDirectory.file(ModelDirectory.configFile, in: path)
        let json = try JSONValue.parse(Array(data), context: path + "/" + ModelDirectory.configFile)
        let weights = try SafeTensors(contentsOf: path + "/" + ModelDirectory.weightsFile)
        let parameters = weights.entries.values.reduce(0) { $0 + $1.shape.reduce(1, *) }
        var training: [String: String] = [:], metrics: [String: Double] = [:]
        for (key, value) in json["training"]?.objectValue ?? [] { training[key] = value.stringValue }
        for (key, value) in json["metrics"]?.objectValue ?? [] { metrics[key] = value.doubleValue }
        return ModelCard(name: name, task: json["task"]?.stringValue ?? "", path: path, parameters: parameters,
                         config: json["model"] ?? .null, training: training, metrics: metrics.filter { $0.value.isFinite }, labels: nil)
    }
}

/// A non-Sendable model handed to the one thread that will use it.
final class UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension JSONValue: Encodable {
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .int(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .double(let value):
            var container = encoder.singleValueContainer()
            if value.isFinite { try container.encode(value) } else { try container.encodeNil() }
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .array(let values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        case .object(let members):
            var container = encoder.container(keyedBy: MemberKey.self)
            for (key, value) in members { try container.encode(value, forKey: MemberKey(stringValue: key)) }
        }
    }

    private struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
