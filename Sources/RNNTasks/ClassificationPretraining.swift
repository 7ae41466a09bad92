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
    /// Settings of the masked stage (the rest comes from the classifier's options).
    struct Settings: Sendable {
        var epochs: Int
        var learningRate: Float
        var maskProbability: Float = 0.15
        /// Dropout of the masked model (0.1, as for the separate `rnn lm train --objective masked` runs).
        var dropout: Float = 0.1
    }

    /// Special tokens the classifier's tokenizer needs for pretraining: `[MASK]`, unless the
    /// tokenizer brings its own (WordPiece, a tokenizer file) or there is no pretraining.
    static func extraTokens(for options: ClassifierTrainingOptions) -> [String] {
        if options.pretrainEpochs == 0 || options.initEncoder != nil { return [] }
        switch options.tokenizer {
        case .wordPiece, .file: return []
        case .word, .character, .bytePairEncoding: return ["[MASK]"]
        }
    }

    /// Trains a masked model on `sequences` (token ids of the training texts, encoded as the
    /// classifier encodes them) and copies its encoder into `classifier`; returns the record of
    /// each pretraining epoch (training loss only: masked cross-entropy in nats).
    static func pretrain(_ classifier: TextClassifier, sequences: [[Int32]], tokenizer: Tokenizer, settings: Settings,
                         options: ClassifierTrainingOptions, generator: inout SeededGenerator,
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
        let trainer = try Trainer(store: model.store, options: training)
        let tokens = sequences.reduce(0) { $0 + $1.count }
        log("pretraining: masked tokens on the \(sequences.count) training texts (\(tokens) tokens, labels unused), \(settings.epochs) epoch(s)")
        let history = try trainer.fit(
            batches: { _ in
                try maskedBatches(sequences, config: network, batchSize: options.batchSize, shuffle: true, generator: &generator)
            },
            step: { try model.trainStep($0, generator: &generator) },
            validate: nil,
            onEvent: { event in
                switch event {
                case .batch(let epoch, let batch, let batches, let runningLoss, _, let tokensPerSecond, _)
                    where batch % max(batches / 10, 1) == 0 && batch < batches:
                    log(String(format: "pretraining epoch %d/%d batch %d/%d: masked cross-entropy %.3f, %.0f tokens/s",
                               epoch, settings.epochs, batch, batches, runningLoss, tokensPerSecond))
                case .epoch(let record):
                    log(String(format: "pretraining epoch %d/%d: masked cross-entropy %.3f nats, %.0f s, %.0f tokens/s",
                               record.epoch, settings.epochs, record.trainLoss, record.seconds, record.tokensPerSecond))
                default: break
                }
            })
        _ = try ClassificationTraining.initializeEncoder(of: classifier, from: model, path: "the pretraining stage")
        return history
    }
}
