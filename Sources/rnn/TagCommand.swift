import ArgumentParser
import Foundation
import RNN
import RNNCore
import RNNTasks
import RNNText

/// `rnn tag`: train, evaluate and use part-of-speech taggers.
struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Part-of-speech tagging with a bidirectional LSTM over words and characters (CoNLL-U data).",
        subcommands: [TagTrain.self, TagEval.self, TagPredict.self]
    )
}

struct TagTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a tagger on a CoNLL-U file (UPOS column) and save it as a model directory.",
        discussion: "The directory holds config.json (model and tag list), model.safetensors, vocab.json (word and character vocabularies) and the training history."
    )

    @Option(help: "CoNLL-U file with gold UPOS tags.") var data: String
    @Option(help: "Model directory to write.") var out: String
    @Option(help: "Hidden units per direction of the sentence BiLSTM.") var hidden = 128
    @Option(help: "Stacked sentence BiLSTM layers.") var layers = 1
    @Option(help: "Word embedding dimension.") var embeddingDim = 100
    @Option(help: "Character embedding dimension.") var charDim = 32
    @Option(help: "Hidden units per direction of the character BiLSTM.") var charHidden = 64
    @Option(help: "Dropout on word features, between layers and before the output.") var dropout: Float = 0.5
    @Option(help: "Probability of replacing a word seen once by [UNK] in training.") var wordDropout = 0.5
    @Option(help: "Longer words keep their first and last half of this many characters.") var maxWordChars = 20
    @Option(help: "Training epochs.") var epochs = 20
    @Option(help: "Sentences per batch.") var batchSize = 16
    @Option(help: "Learning rate (Adam).") var lr: Float = 2e-3
    @Option(help: "Clip gradients to this global norm (0: off).") var clipNorm: Float = 5
    @Option(help: "Stop after this many epochs without a better validation accuracy.") var patience: Int?
    @Option(help: "Fraction of the sentences held out for validation.") var validationSplit = 0.1
    @OptionGroup var runOptions: TrainingRunOptions

    func run() throws {
        try runOptions.run { collective in
            var options = TaggerTrainingOptions()
            options.resume = runOptions.resume
            options.hiddenSize = hidden
            options.layers = layers
            options.wordEmbeddingDimension = embeddingDim
            options.characterEmbeddingDimension = charDim
            options.characterHiddenSize = charHidden
            options.dropout = dropout
            options.wordDropout = wordDropout
            options.maxWordCharacters = maxWordChars
            options.batchSize = batchSize
            options.validationSplit = validationSplit
            options.seed = runOptions.seed
            options.training.learningRate = lr
            options.training.clipNorm = clipNorm > 0 ? clipNorm : nil
            options.training.epochs = epochs
            options.training.patience = patience
            let progress = ProgressReporter(totalEpochs: epochs)
            InterruptSignal.install()
            let result = try TaggingTraining.train(data: data, options: options, output: out, log: progress.log,
                                                   onEvent: progress.handle, writtenBy: swiftRNNVersion,
                                                   collective: collective, stopRequested: { InterruptSignal.isRequested })
            guard collective.isLeader else { return }
            if runOptions.json {
                var object: [String: Any] = ["model": out, "seconds": result.seconds, "training_sentences": result.trainingSentences,
                                             "validation_sentences": result.validationSentences,
                                             "parameters": result.summary.totalParameters]
                if let validation = result.validation {
                    object["validation"] = ["accuracy": validation.accuracy, "tokens": validation.tokens, "loss": validation.loss]
                }
                try printJSON(object)
            } else {
                print(result.summary.render())
                if let validation = result.validation {
                    print(String(format: "validation: token accuracy %.4f on %d tokens", validation.accuracy, validation.tokens))
                }
                print(String(format: "saved %@ (%.0f s)", out, result.seconds))
            }
        }
    }
}

struct TagEval: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Token accuracy and per-tag precision, recall and F1 on a CoNLL-U file.")

    @Option(help: "Model directory.") var model: String
    @Option(help: "CoNLL-U file with gold UPOS tags.") var data: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            let tagger = try TrainedTagger.load(from: model)
            let report = try tagger.evaluate(CoNLLUReader(path: data).read())
            if json {
                let perTag = report.perTag.map { row -> [String: Any] in
                    ["tag": row.tag, "precision": row.precision, "recall": row.recall, "f1": row.f1, "support": row.support]
                }
                try printJSON(["accuracy": report.accuracy, "tokens": report.tokens, "loss": report.loss, "tags": perTag])
            } else {
                print(String(format: "accuracy %.4f on %d tokens  (loss %.4f)", report.accuracy, report.tokens, report.loss))
                print("tag     precision  recall     F1  support")
                for row in report.perTag {
                    print(row.tag.padding(toLength: 6, withPad: " ", startingAt: 0)
                          + String(format: " %10.4f %7.4f %6.4f %8d", row.precision, row.recall, row.f1, row.support))
                }
            }
        }
    }
}

struct TagPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Tag sentences read from standard input, one per line, words separated by whitespace."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case slash, conllu
    }

    @Option(help: "Model directory.") var model: String
    @Option(help: "slash (word/TAG ...) or conllu.") var format: Format = .slash

    func run() throws {
        try reportingErrors {
            let tagger = try TrainedTagger.load(from: model)
            var sentences: [[String]] = []
            while let line = readLine() {
                sentences.append(line.split(whereSeparator: \.isWhitespace).map(String.init))
            }
            guard sentences.contains(where: { !$0.isEmpty }) else {
                throw RNNError("no sentences on standard input: give one per line, words separated by spaces")
            }
            for (words, tags) in zip(sentences, try tagger.tag(sentences)) {
                switch format {
                case .slash:
                    print(zip(words, tags).map { "\($0)/\($1)" }.joined(separator: " "))
                case .conllu:
                    guard !words.isEmpty else { continue }
                    print("# text = " + words.joined(separator: " "))
                    for (index, (word, tag)) in zip(words, tags).enumerated() {
                        print("\(index + 1)\t\(word)\t_\t\(tag)\t_\t_\t_\t_\t_\t_")
                    }
                    print("")
                }
            }
        }
    }
}
