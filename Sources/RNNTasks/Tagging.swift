import Foundation
import RNN
import RNNCore
import RNNText

/// Everything `rnn tag train` takes besides the data: model shape, vocabulary handling, training.
public struct TaggerTrainingOptions: Sendable {
    /// Hidden units per direction of the sentence BiLSTM.
    public var hiddenSize = 128
    public var layers = 1
    public var wordEmbeddingDimension = 100
    public var characterEmbeddingDimension = 32
    /// Hidden units per direction of the character BiLSTM (each word gets 2× this many features).
    public var characterHiddenSize = 64
    /// Dropout on the word features, between stacked layers and before the output layer.
    public var dropout: Float = 0.5
    /// Probability that a word seen once in training is replaced by `[UNK]` in a training batch
    /// (word dropout), so the model learns to tag unknown words from their characters.
    public var wordDropout = 0.5
    /// Longer words keep their first and last `maxWordCharacters / 2` characters.
    public var maxWordCharacters = 20
    public var batchSize = 16
    public var validationSplit = 0.1
    public var seed: UInt64 = 1
    /// Continue from `OUT/checkpoint` (written after every epoch, and on Ctrl-C) instead of starting
    /// afresh; the data, seed and options must be those of the interrupted run (`--epochs` may be larger).
    public var resume = false
    public var training = TrainingOptions()

    public init() {
        training.epochs = 20
        training.learningRate = 2e-3
        training.clipNorm = 5
    }

    func validate() throws {
        try training.validate()
        guard batchSize >= 1 else { throw RNNError("--batch-size must be at least 1, got \(batchSize)") }
        guard hiddenSize >= 1, characterHiddenSize >= 1 else { throw RNNError("--hidden and --char-hidden must be positive") }
        guard layers >= 1 else { throw RNNError("--layers must be at least 1, got \(layers)") }
        guard wordDropout >= 0, wordDropout <= 1 else { throw RNNError("--word-dropout must be in [0, 1], got \(wordDropout)") }
        guard maxWordCharacters >= 2 else { throw RNNError("--max-word-chars must be at least 2, got \(maxWordCharacters)") }
    }
}

/// The word and character vocabularies of a tagger, saved as `vocab.json` beside `config.json`:
///
///     {"words": ["[PAD]", "[UNK]", "the", ...], "characters": ["[PAD]", "[UNK]", "e", ...], "max_word_characters": 20}
///
/// Ids are array positions; id 0 is padding, id 1 the unknown word / character. Words are
/// lowercased before lookup; characters (grapheme clusters) keep their case, which carries
/// proper-noun and sentence-start information.
public struct TaggerVocabulary: Codable, Sendable, Equatable {
    public static let padding = "[PAD]", unknown = "[UNK]"
    public let words: [String]
    public let characters: [String]
    public let maxWordCharacters: Int
    private let wordIds: Vocabulary
    private let characterIds: Vocabulary

    enum CodingKeys: String, CodingKey { case words, characters, maxWordCharacters = "max_word_characters" }

    /// Every lowercased word and every character of `sentences`, most frequent first (ties by text).
    public init(sentences: [[String]], maxWordCharacters: Int) {
        var wordCounts: [String: Int] = [:], characterCounts: [String: Int] = [:]
        for word in sentences.joined() {
            wordCounts[word.lowercased(), default: 0] += 1
            for character in word { characterCounts[String(character), default: 0] += 1 }
        }
        func ordered(_ counts: [String: Int]) -> [String] {
            counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key)
        }
        self.init(words: [Self.padding, Self.unknown] + ordered(wordCounts),
                  characters: [Self.padding, Self.unknown] + ordered(characterCounts), maxWordCharacters: maxWordCharacters)
    }

    init(words: [String], characters: [String], maxWordCharacters: Int) {
        self.words = words
        self.characters = characters
        self.maxWordCharacters = maxWordCharacters
        wordIds = Vocabulary(words)
        characterIds = Vocabulary(characters)
    }

    public init(from decoder: any Swift.Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(words: try container.decode([String].self, forKey: .words),
                  characters: try container.decode([String].self, forKey: .characters),
                  maxWordCharacters: try container.decode(Int.self, forKey: .maxWordCharacters))
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(words, forKey: .words)
        try container.encode(characters, forKey: .characters)
        try container.encode(maxWordCharacters, forKey: .maxWordCharacters)
    }

    /// Word id of the lowercased word, 1 (`[UNK]`) when unknown.
    public func wordId(_ word: String) -> Int32 { Int32(wordIds[word.lowercased()] ?? 1) }

    /// Character ids (unknown: 1), at most `maxWordCharacters` (first half and last half kept);
    /// never empty (an empty word is one `[UNK]`).
    public func characterIds(_ word: String) -> [Int32] {
        var characters = Array(word)
        if characters.count > maxWordCharacters {
            characters = Array(characters.prefix(maxWordCharacters / 2) + characters.suffix(maxWordCharacters - maxWordCharacters / 2))
        }
        let ids = characters.map { Int32(characterIds[String($0)] ?? 1) }
        return ids.isEmpty ? [1] : ids
    }

    /// The batch of `sentences` (each non-empty).
    public func batch(_ sentences: [[String]]) throws -> TaggerBatch {
        try TaggerBatch(words: sentences.map { $0.map(wordId) }, characters: sentences.map { $0.map(characterIds) })
    }
}

/// Token accuracy and per-tag precision, recall and F1 of a tagged evaluation.
public struct TaggingReport: Sendable {
    /// The model's tags, then gold tags it does not know (never predicted, so always errors).
    public var tags: [String]
    /// Truth × prediction over `tags`.
    public var confusion: ConfusionMatrix
    /// Mean cross-entropy per token over tokens whose gold tag the model knows.
    public var loss: Double

    public var accuracy: Double { confusion.accuracy }
    public var tokens: Int { confusion.total }

    /// One row per tag that occurs as truth or prediction: precision, recall, F1 and support (gold count).
    public var perTag: [(tag: String, precision: Double, recall: Double, f1: Double, support: Int)] {
        confusion.presentClasses.map { id in
            (tags[id], confusion.precision(of: id), confusion.recall(of: id), confusion.f1(of: id),
             confusion.truePositives(id) + confusion.falseNegatives(id))
        }
    }
}

/// A trained tagger with its vocabularies: what a model directory holds, ready to use.
public final class TrainedTagger {
    public static let vocabularyFile = "vocab.json"
    public let model: SequenceTagger
    public let vocabulary: TaggerVocabulary
    public let configFile: ModelConfigFile<TaggerConfig>

    init(model: SequenceTagger, vocabulary: TaggerVocabulary, configFile: ModelConfigFile<TaggerConfig>) {
        self.model = model
        self.vocabulary = vocabulary
        self.configFile = configFile
    }

    public var tags: [String] { model.config.tags }

    /// Loads a tagger model directory (`config.json`, `model.safetensors`, `vocab.json`).
    public static func load(from path: String) throws -> TrainedTagger {
        let file = try ModelDirectory.config(at: path, task: "tag", as: TaggerConfig.self)
        let vocabulary: TaggerVocabulary
        do {
            vocabulary = try JSONDecoder().decode(TaggerVocabulary.self, from: ModelDirectory.file(vocabularyFile, in: path))
        } catch let error as RNNError {
            throw error
        } catch {
            throw RNNError.invalidFile(path + "/" + vocabularyFile, "not a tagger vocabulary (\(error.localizedDescription))")
        }
        guard vocabulary.words.count == file.model.wordVocabularySize, vocabulary.characters.count == file.model.characterVocabularySize else {
            throw RNNError.invalidFile(path, "vocab.json has \(vocabulary.words.count) words and \(vocabulary.characters.count) characters, "
                + "the model \(file.model.wordVocabularySize) and \(file.model.characterVocabularySize): they do not belong together")
        }
        var generator = SeededGenerator(seed: 0)
        let model = try SequenceTagger(file.model, generator: &generator)
        try ModelDirectory.loadWeights(into: model.store, from: path)
        return TrainedTagger(model: model, vocabulary: vocabulary, configFile: file)
    }

    /// The tag of every word of every sentence (an empty sentence gets no tags).
    public func tag(_ sentences: [[String]], batchSize: Int = 64) throws -> [[String]] {
        var result = [[String]](repeating: [], count: sentences.count)
        let nonEmpty = sentences.indices.filter { !sentences[$0].isEmpty }
        for start in stride(from: 0, to: nonEmpty.count, by: batchSize) {
            let indices = Array(nonEmpty[start..<min(start + batchSize, nonEmpty.count)])
            let predictions = try model.predict(vocabulary.batch(indices.map { sentences[$0] }))
            for (index, tagIds) in zip(indices, predictions) { result[index] = tagIds.map { tags[$0] } }
        }
        return result
    }

    /// Token accuracy and per-tag metrics on gold-tagged sentences.
    public func evaluate(_ sentences: [TaggedSentence], batchSize: Int = 64) throws -> TaggingReport {
        try evaluate(prepareEvaluation(sentences, batchSize: batchSize))
    }

    /// Gold-tagged sentences encoded and batched once (by length), for repeated evaluation.
    struct PreparedEvaluation {
        /// The model's tags, then unknown gold tags (ids ≥ K).
        var tagNames: [String]
        var batches: [(batch: TaggerBatch, targets: [Int])]
    }

    func prepareEvaluation(_ sentences: [TaggedSentence], batchSize: Int = 64) throws -> PreparedEvaluation {
        let tagged = sentences.filter { !$0.words.isEmpty }
        guard !tagged.isEmpty else { throw RNNError("evaluation: no tagged sentences") }
        var names = tags
        var ids = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        let goldIds = tagged.map { sentence in
            sentence.tags.map { tag -> Int in
                if let id = ids[tag] { return id }
                ids[tag] = names.count
                names.append(tag)
                return names.count - 1
            }
        }
        var generator = SeededGenerator(seed: 0)
        let order = makeBatches(lengths: tagged.map(\.words.count), batchSize: batchSize, shuffle: false, bucketing: true,
                                generator: &generator)
        let batches = try order.map { indices in
            let batch = try vocabulary.batch(indices.map { tagged[$0].words })
            return (batch, try SequenceTagger.targets(indices.map { goldIds[$0] }, for: batch))
        }
        return PreparedEvaluation(tagNames: names, batches: batches)
    }

    func evaluate(_ prepared: PreparedEvaluation) throws -> TaggingReport {
        let (loss, confusion) = try model.evaluate(prepared.batches, classCount: prepared.tagNames.count)
        return TaggingReport(tags: prepared.tagNames, confusion: confusion, loss: loss)
    }
}

/// What training produced, besides the saved directory.
public struct TaggerTrainingResult {
    public var tagger: TrainedTagger
    public var history: [EpochRecord]
    public var validation: TaggingReport?
    public var trainingSentences: Int
    public var validationSentences: Int
    public var seconds: Double
    public var summary: ModelSummary
}

/// What a tagger checkpoint must match to be resumed: the model and both vocabularies.
struct TaggerCheckpointConfig: Codable, Equatable {
    var model: TaggerConfig
    var vocabulary: TaggerVocabulary
}

/// `rnn tag train`: read CoNLL-U, split, build vocabularies, train, validate, save.
public enum TaggingTraining {
    public static func train(data: String, options: TaggerTrainingOptions, output: String,
                             log: (String) -> Void = { _ in }, onEvent: (TrainingEvent) -> Void = { _ in },
                             writtenBy: String, collective: any Collective = SingleProcessCollective(),
                             stopRequested: @escaping () -> Bool = { false }) throws -> TaggerTrainingResult {
        let log = collective.isLeader ? log : { _ in }, onEvent = collective.isLeader ? onEvent : { _ in }
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        try options.validate()
        if collective.isLeader { try ModelDirectory.checkWritable(output) }  // rank 0 alone writes the model
        let sentences = try CoNLLUReader(path: data).read()
        guard sentences.count >= 2 else {
            throw RNNError.invalidFile(data, "holds \(sentences.count) sentence(s); training needs at least two")
        }
        var generator = SeededGenerator(seed: options.seed)
        let split = try validationSplit(count: sentences.count, fraction: options.validationSplit, generator: &generator)
        let trainingSentences = split.training.map { sentences[$0] }
        let vocabulary = TaggerVocabulary(sentences: trainingSentences.map(\.words), maxWordCharacters: options.maxWordCharacters)
        let tags = Set(trainingSentences.flatMap(\.tags)).sorted()
        let tokenCount = trainingSentences.reduce(0) { $0 + $1.words.count }
        var fingerprint = Fingerprint()
        fingerprint.add(String(describing: options))
        for sentence in sentences { fingerprint.add(sentence.words.joined(separator: " ") + "\t" + sentence.tags.joined(separator: " ")) }
        try collective.checkStart(fingerprint: fingerprint.value, items: split.training.count, itemName: "training sentences")
        log("read \(sentences.count) sentences from \(data); \(split.training.count) (\(tokenCount) tokens) for training, "
            + "\(split.validation.count) for validation; \(vocabulary.words.count - 2) words, \(vocabulary.characters.count - 2) characters, "
            + "\(tags.count) tags")

        let config = TaggerConfig(wordVocabularySize: vocabulary.words.count, wordEmbeddingDimension: options.wordEmbeddingDimension,
                                  characterVocabularySize: vocabulary.characters.count,
                                  characterEmbeddingDimension: options.characterEmbeddingDimension,
                                  characterHiddenSize: options.characterHiddenSize, hiddenSize: options.hiddenSize,
                                  layers: options.layers, dropout: options.dropout, tags: tags)
        let model = try SequenceTagger(config, generator: &generator)

        // Encoded once; word dropout swaps ids of words seen once for [UNK] per training batch.
        let tagIds = Dictionary(uniqueKeysWithValues: tags.enumerated().map { ($1, $0) })
        let words = trainingSentences.map { $0.words.map(vocabulary.wordId) }
        let characters = trainingSentences.map { $0.words.map(vocabulary.characterIds) }
        let targets = trainingSentences.map { $0.tags.map { tagIds[$0]! } }
        var counts = [Int](repeating: 0, count: vocabulary.words.count)
        for id in words.joined() { counts[Int(id)] += 1 }
        let trainingBatches = { (generator: inout SeededGenerator) throws -> [(batch: TaggerBatch, targets: [Int])?] in
            let order = makeBatches(lengths: words.map(\.count), batchSize: options.batchSize, shuffle: true, bucketing: true,
                                    generator: &generator)
            return try order.map { indices in
                let dropped = indices.map { index in
                    words[index].map { id in counts[Int(id)] == 1 && generator.nextUnitDouble() < options.wordDropout ? 1 : id }
                }
                // Distributed: word dropout is drawn for the whole global batch (the shuffling generator
                // stays in step on every rank), then this rank keeps its rows.
                let rows = collective.isDistributed ? collective.shardRows(count: indices.count) : Array(indices.indices)
                guard !rows.isEmpty else { return nil }
                let mine = rows.map { indices[$0] }
                let batch = try TaggerBatch(words: rows.map { dropped[$0] }, characters: mine.map { characters[$0] }, indices: mine)
                return (batch, try SequenceTagger.targets(mine.map { targets[$0] }, for: batch))
            }
        }

        let trained = TrainedTagger(model: model, vocabulary: vocabulary,
                                    configFile: ModelConfigFile(task: "tag", model: config, writtenBy: writtenBy))
        let validation = split.validation.isEmpty ? nil : try trained.prepareEvaluation(split.validation.map { sentences[$0] })
        // Distributed: each rank scores every N-th validation sentence; loss and accuracy are
        // summed weighted by tokens (the loss's own count leaves out gold tags the model does not
        // know, so the reduced loss can differ from one process's in the last digits).
        let mySentences = collective.shardRows(count: split.validation.count).map { sentences[split.validation[$0]] }
        let validationShard = collective.isDistributed && !mySentences.isEmpty ? try trained.prepareEvaluation(mySentences) : nil
        let validate: (() throws -> ValidationResult)? = validation.map { prepared in
            {
                guard collective.isDistributed else {
                    let report = try trained.evaluate(prepared)
                    return ValidationResult(loss: report.loss, metrics: ["accuracy": report.accuracy])
                }
                let report = try validationShard.map { try trained.evaluate($0) }
                let tokens = Double(report?.tokens ?? 0)
                let totals = try collective.sum([(report?.loss ?? 0) * tokens, (report?.accuracy ?? 0) * tokens, tokens])
                return ValidationResult(loss: totals[0] / max(totals[2], 1), metrics: ["accuracy": totals[1] / max(totals[2], 1)])
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let run = try TaskTrainingRun(store: model.store, options: options.training, generator: generator, seed: options.seed,
                                      output: output, config: TaggerCheckpointConfig(model: config, vocabulary: vocabulary),
                                      configFile: "tagger.json", resume: options.resume,
                                      collective: collective, stopRequested: stopRequested, log: log)
        let trainer = run.trainer
        let history = try run.fit(
            batches: trainingBatches,
            step: { item, generator in try model.trainStep(item.batch, targets: item.targets, generator: &generator) },
            validate: validate, monitor: "accuracy", higherIsBetter: true, onEvent: onEvent)
        let report = collective.isLeader ? try validation.map { try trained.evaluate($0) } : nil
        let seconds = elapsed()

        let trainingRecord: [String: String] = [
            "data": data, "batch_size": "\(options.batchSize)", "epochs": "\(options.training.epochs)",
            "optimizer": options.training.optimizer.rawValue, "learning_rate": "\(options.training.learningRate)",
            "validation_split": "\(options.validationSplit)", "seed": "\(options.seed)", "word_dropout": "\(options.wordDropout)",
            "clip_norm": options.training.clipNorm.map { "\($0)" } ?? "none",
            "training_sentences": "\(split.training.count)", "validation_sentences": "\(split.validation.count)",
            "best_epoch": trainer.best.map { "\($0.epoch)" } ?? "last",
        ]
        var metrics: [String: Double] = ["training_seconds": seconds]
        if let report {
            metrics["validation_accuracy"] = report.accuracy
            metrics["validation_loss"] = report.loss
            metrics["validation_tokens"] = Double(report.tokens)
        }
        let file = ModelConfigFile(task: "tag", model: config, training: trainingRecord, metrics: metrics, writtenBy: writtenBy)
        try run.saveModel(file, store: model.store, history: history, files: [TrainedTagger.vocabularyFile: try encoder.encode(vocabulary)])
        return TaggerTrainingResult(tagger: TrainedTagger(model: model, vocabulary: vocabulary, configFile: file), history: history,
                                    validation: report, trainingSentences: split.training.count,
                                    validationSentences: split.validation.count, seconds: seconds, summary: model.summary())
    }
}
