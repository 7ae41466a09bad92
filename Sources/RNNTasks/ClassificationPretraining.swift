import Foundation
import RNN
import RNNCore
import RNNText

/// `rnn classify train --pretrain-epochs N`: before the classifier sees a label, its embedding and
/// recurrent encoder learn the language of the training texts themselves with the masked-token
/// objective (BERT-style; the idea of Dai & Le 2015, "Semi-supervised sequence learning", of
/// pretraining the recurrent network on the same texts without labels). Labels are never read,
/// so this works for any data set; the validation texts are not used.
///
/// The masked model (`MaskedLanguageModel`, equations in its doc comment) has exactly the
/// classifier's embedding and encoder shape; after `epochs` passes over freshly masked training
/// texts, its `embedding.*` and `rnn.*` tensors are copied into the classifier (as
/// `--init-encoder` does from a separate masked model) and its output layer is dropped.
enum ClassificationPretraining {
    /// `--pretrain-epochs auto`: pretrain for this many epochs when the rule fires.
    static let automaticEpochs = 1
    /// `--pretrain-epochs auto` fires when the training texts average at least this many tokens
    /// after tokenization and truncation. Measured (README, "Masked pretraining ... on IMDB"): on
    /// IMDB reviews (mean 236 word tokens) one masked epoch lifted validation accuracy from 0.8875
    /// to 0.904 (means of 4 seeds); on single sentences (the short-text proxies, mean 23.0 and
    /// 25.3 tokens) it gave 0.756 and 0.704 against 0.756 and 0.725 without. 64 sits 2.5× above
    /// the sentences and 3.7× below the reviews.
    static let automaticMinimumMeanTokens = 64.0

    /// Settings of the masked stage (the rest comes from the classifier's options).
    struct Settings: Sendable {
        var epochs: Int
        var learningRate: Float
        var maskProbability: Float = 0.15
        /// Dropout of the masked model (`--pretrain-dropout`, default 0.1, as for the separate
        /// `rnn lm train --objective masked` runs; 0 makes N ranks match one process).
        var dropout: Float = 0.1
    }

    /// Special tokens the classifier's tokenizer needs for pretraining: `[MASK]`, unless the
    /// tokenizer brings its own (WordPiece, a tokenizer file) or there is no pretraining.
    /// `auto` asks for none up front: its tokenizer is first trained as without pretraining, and
    /// only when the rule fires is it trained again with `[MASK]` (in `ClassificationTraining.train`).
    static func extraTokens(for options: ClassifierTrainingOptions) -> [String] {
        extraTokens(forEpochs: options.pretrainEpochs.fixedEpochs ?? 0, options: options)
    }

    /// The extra tokens of the first tokenizer a run trains. `auto`, when nothing but the length
    /// rule could stop it, trains it as pretraining would (`[MASK]` included), so the long texts,
    /// where time counts, train one tokenizer; when the rule then says no, the run trains a second
    /// without it (short texts: cheap). The rule's statistic is read from the first tokenizer's
    /// sequences (the word tokenizer: one token per word either way).
    static func firstTokenizerExtraTokens(for options: ClassifierTrainingOptions) -> [String] {
        guard options.pretrainEpochs.fixedEpochs == nil else { return extraTokens(for: options) }
        let couldFire = options.initEncoder == nil && options.wordVectors == nil && options.bidirectional
        return extraTokens(forEpochs: couldFire ? automaticEpochs : 0, options: options)
    }

    static func extraTokens(forEpochs epochs: Int, options: ClassifierTrainingOptions) -> [String] {
        if epochs == 0 || options.initEncoder != nil { return [] }
        switch options.tokenizer {
        case .wordPiece, .file: return []
        case .word, .character, .bytePairEncoding: return ["[MASK]"]
        }
    }

    /// The dropout masks of a distributed run's pretraining come from a per-rank generator derived
    /// from (seed + this offset, rank, epoch), apart from the classifier epochs' (seed, rank, epoch).
    static let distributedDropoutSeedOffset: UInt64 = 0x7072_6574   // "pret"

    /// Trains a masked model on `sequences` (token ids of the training texts, encoded as the
    /// classifier encodes them) and copies its encoder into `classifier`; returns the record of
    /// each pretraining epoch (training loss only: masked cross-entropy in nats).
    ///
    /// Data-parallel under a distributed `collective`, as the classifier's epochs and
    /// `rnn lm train --objective masked` are: every rank draws the same global masked batches
    /// (order and corruption) from `generator`, trains on its rows r, r+N, … of each (with the
    /// targets in them; `MaskedBatch.selecting(rows:)`), and the `Trainer` sums the gradients,
    /// weighted by each rank's masked-token count, in one all-reduce per step. A rank with no rows
    /// or no masked token in a global batch takes part in the collective calls with an empty
    /// step. Dropout masks then come from a per-rank generator, so `generator` advances alike on
    /// every rank (by the batches only). One process: `generator` draws batches and dropout masks
    /// as before, and the results are unchanged bit for bit.
    ///
    /// Checkpoints (`TaskTrainingRun`, as the classifier's epochs): after every epoch and on Ctrl-C
    /// rank 0 saves the masked model, its optimizer and the generators in
    /// `checkpointDirectory(in: output)` with `checkpointFiles` (the tokenizer and the recorded
    /// decision, which a resumed run reads from there); `resume` continues from it, so an
    /// interrupted stage ends with the weights of an uninterrupted one, bit for bit, and leaves
    /// `generator` where the uninterrupted stage would.
    static func pretrain(_ classifier: TextClassifier, sequences: [[Int32]], tokenizer: Tokenizer, settings: Settings,
                         options: ClassifierTrainingOptions, generator: inout SeededGenerator,
                         output: String, resume: Bool = false, checkpointFiles: [String: Data] = [:],
                         collective: any Collective = SingleProcessCollective(),
                         stopRequested: @escaping () -> Bool = { false },
                         log: (String) -> Void) throws -> [EpochRecord] {
        guard settings.epochs >= 1 else { return [] }
        // On by default, so a shape it cannot serve is skipped with a note rather than refused.
        guard let maskId = tokenizer.tokenToId("[MASK]") else {
            log("pretraining skipped: tokenizer \(options.tokenizer) has no [MASK] token")
            return []
        }
        guard classifier.config.recurrent.bidirectional else {
            log("pretraining skipped: the masked objective needs a bidirectional encoder (masked tokens are predicted from both sides)")
            return []
        }
        let specialIds = maskedModelSpecialTokens.compactMap { tokenizer.tokenToId($0) }.sorted()
        let network = MaskedLanguageModelConfig(vocabularySize: classifier.config.vocabularySize,
                                                embeddingDimension: classifier.config.embeddingDimension,
                                                paddingId: classifier.config.paddingId, maskId: maskId, specialIds: specialIds,
                                                recurrent: classifier.config.recurrent, dropout: settings.dropout,
                                                maskProbability: settings.maskProbability)
        let model = try MaskedLanguageModel(network, generator: &generator)
        var training = TrainingOptions()
        training.epochs = settings.epochs
        training.learningRate = settings.learningRate
        training.clipNorm = options.training.clipNorm
        let run = try TaskTrainingRun(store: model.store, options: training, generator: generator,
                                      seed: options.seed &+ distributedDropoutSeedOffset, output: checkpointDirectory(in: output),
                                      config: network, configFile: "masked.json", files: checkpointFiles, resume: resume,
                                      collective: collective, stopRequested: stopRequested, log: log)
        let tokens = sequences.reduce(0) { $0 + $1.count }
        let split = collective.isDistributed ? ", split over \(collective.size) ranks" : ""
        log("pretraining: masked tokens on the \(sequences.count) training texts (\(tokens) tokens, labels unused), \(settings.epochs) epoch(s)\(split)")
        // Every rank draws the same global batches (order and corruption) from the run's
        // generator; dropout masks come from it in one process, from a per-rank generator
        // (seed + offset, rank, epoch) under MPI. A rank's rows may hold no masked target.
        let history = try run.fit(
            batches: { generator in try maskedBatches(sequences, config: network, batchSize: options.batchSize, shuffle: true, generator: &generator) },
            rows: \.size, select: { $0.selecting(rows: $1) },
            step: { batch, generator in batch.positions.isEmpty ? .empty : try model.trainStep(batch, generator: &generator) },
            validate: nil, monitor: "loss", higherIsBetter: false,
            onEvent: { event in
                switch event {
                case .batch(let epoch, let batch, let batches, let runningLoss, _, let tokensPerSecond, _)
                    where batch % max(batches / 10, 1) == 0 && batch < batches:
                    log(String(format: "pretraining epoch %d/%d batch %d/%d: masked cross-entropy %.3f, %.0f tokens/s",
                               epoch, settings.epochs, batch, batches, runningLoss, tokensPerSecond))
                case .epoch(let record):
                    // CPU seconds of this process (rank 0's), a better measure than seconds on a busy machine.
                    let details = [record.cpuSeconds.map { String(format: "%.1f CPU-s", $0) },
                                   record.allReduceSeconds.map { String(format: "all-reduce %.1f s", $0) }].compactMap { $0 }
                    log(String(format: "pretraining epoch %d/%d: masked cross-entropy %.3f nats, %.0f s, %.0f tokens/s",
                               record.epoch, settings.epochs, record.trainLoss, record.seconds, record.tokensPerSecond)
                        + (details.isEmpty ? "" : " (" + details.joined(separator: ", ") + ")"))
                default: break
                }
            })
        generator = run.generator
        _ = try ClassificationTraining.initializeEncoder(of: classifier, from: model, path: "the pretraining stage")
        return history
    }

    /// Where the stage keeps its checkpoint: in the classifier's output directory, beside the
    /// classifier's own (`OUT/pretraining/checkpoint/`); removed when the training ends.
    static func checkpointDirectory(in output: String) -> String { output + "/pretraining" }

    /// Whether to pretrain and for how many epochs: the fixed number, or the rule of
    /// `--pretrain-epochs auto` on the training texts' token statistics. `trainingSequences` are
    /// the training split's token ids after truncation (validation texts are not looked at).
    static func decide(_ options: ClassifierTrainingOptions, trainingSequences: [[Int32]]) -> PretrainingDecision {
        let tokens = trainingSequences.reduce(0) { $0 + $1.count }
        let meanTokens = Double(tokens) / Double(max(trainingSequences.count, 1))
        let statistic = String(format: "the %d training texts average %.1f tokens after truncation to %d",
                               trainingSequences.count, meanTokens, options.maxLength)
        switch options.pretrainEpochs {
        case .epochs(let epochs):
            let reason = epochs == 0 ? "off: --pretrain-epochs 0" : "\(epochs) epoch(s): --pretrain-epochs \(epochs)"
            return PretrainingDecision(mode: "fixed", epochs: epochs, meanTokens: meanTokens, reason: reason + " (\(statistic))")
        case .automatic:
            let threshold = String(format: "%.0f", automaticMinimumMeanTokens)
            if options.initEncoder != nil {
                return PretrainingDecision(mode: "auto", epochs: 0, meanTokens: meanTokens,
                                           reason: "off: --init-encoder already gives a pretrained encoder")
            }
            if options.wordVectors != nil {
                return PretrainingDecision(mode: "auto", epochs: 0, meanTokens: meanTokens,
                                           reason: "off: --glove already initialises the embedding (pretraining would replace it)")
            }
            if !options.bidirectional {
                return PretrainingDecision(mode: "auto", epochs: 0, meanTokens: meanTokens,
                                           reason: "off: the masked objective needs a bidirectional encoder")
            }
            if meanTokens >= automaticMinimumMeanTokens {
                return PretrainingDecision(mode: "auto", epochs: automaticEpochs, meanTokens: meanTokens,
                                           reason: "\(automaticEpochs) epoch(s): \(statistic), at least \(threshold): "
                                               + "long enough for masked pretraining to pay (--pretrain-epochs 0 turns it off)")
            }
            return PretrainingDecision(mode: "auto", epochs: 0, meanTokens: meanTokens,
                                       reason: "off: \(statistic), fewer than \(threshold): on short texts masked pretraining "
                                           + "did not pay (--pretrain-epochs 1 forces it)")
        }
    }
}

/// `--pretrain-epochs auto|N`: masked-token pretraining decided by a rule, or a fixed number of epochs.
public enum PretrainingChoice: Sendable, Equatable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// Pretrain for `ClassificationPretraining.automaticEpochs` epoch(s) when the training texts
    /// average at least `ClassificationPretraining.automaticMinimumMeanTokens` tokens, else not.
    case automatic
    /// Exactly this many epochs (0: none).
    case epochs(Int)

    public init(integerLiteral value: Int) { self = .epochs(value) }

    /// `auto` or a whole number; anything else is a one-line error.
    public init(_ text: String) throws {
        if text.lowercased() == "auto" {
            self = .automatic
        } else if let epochs = Int(text), epochs >= 0 {
            self = .epochs(epochs)
        } else {
            throw RNNError("--pretrain-epochs must be auto or a whole number 0 or more, got '\(text)'")
        }
    }

    public var description: String {
        switch self {
        case .automatic: "auto"
        case .epochs(let epochs): "\(epochs)"
        }
    }

    /// The number given, or nil for `auto`.
    public var fixedEpochs: Int? {
        if case .epochs(let epochs) = self { return epochs }
        return nil
    }
}

/// What `classify train` decided about pretraining and why; printed, saved in `config.json`
/// (`training.pretrain_epochs`, `training.pretraining`) and in the checkpoint, so that `--resume`
/// reports the decision of the run it continues rather than deciding again.
struct PretrainingDecision: Codable, Equatable, Sendable {
    /// `auto` (the rule decided) or `fixed` (`--pretrain-epochs N`).
    var mode: String
    var epochs: Int
    /// Mean tokens per training text after truncation, the rule's statistic.
    var meanTokens: Double
    var reason: String

    static let checkpointFile = "pretraining.json"

    var logLine: String { "pretraining (\(mode == "auto" ? "--pretrain-epochs auto" : "--pretrain-epochs \(epochs)")): \(reason)" }
}
