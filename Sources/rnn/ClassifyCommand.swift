import ArgumentParser
import Foundation
import RNN
import RNNCore
import RNNTasks

/// `rnn classify`: train, evaluate and use text classifiers.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Sentiment and other document classification with a recurrent network.",
        subcommands: [ClassifyTrain.self, ClassifyEval.self, ClassifyPredict.self]
    )
}

/// Options shared by commands that read labelled text.
struct DataOptions: ParsableArguments {
    @Option(help: "A folder of class folders (aclImdb/train), a .csv/.tsv file or a .jsonl file.")
    var data: String
    @Option(help: "CSV/TSV column or JSON field with the text (default: text).")
    var textColumn: String?
    @Option(help: "CSV/TSV column or JSON field with the label (default: label).")
    var labelColumn: String?
    @Option(help: "Read at most this many examples (per class for folders).")
    var limit: Int?

    var source: TextSource { TextSource(path: data, textColumn: textColumn, labelColumn: labelColumn, limit: limit) }
}

struct ClassifyTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a classifier and save it as a model directory.",
        discussion: "--pool last is architecture 1 of the lecture notes (the last hidden state), --pool mean architecture 2 (the average over time)."
    )

    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Model directory to write (config.json, model.safetensors, tokenizer.json, history).")
    var out: String
    @Option(help: "rnn, lstm or gru.") var cell: CellType = .gru
    @Option(help: "Stacked recurrent layers.") var layers = 1
    @Option(help: "Hidden units per direction.") var hidden = 128
    @Flag(inversion: .prefixedNo, help: "Bidirectional recurrent layers.") var bidirectional = true
    @Option(help: "last, mean, max or mean-max ([mean; max] concatenated) pooling over time.") var pool: PoolingMode = .mean
    @Option(help: "Embedding dimension.") var embeddingDim = 128
    @Option(help: "GloVe or word2vec text file to initialise the embedding.") var glove: String?
    @Flag(help: "Keep the embedding fixed.") var freezeEmbeddings = false
    @Option(help: "Masked language model directory (rnn lm train --objective masked) whose embedding and encoder start the classifier; its tokenizer is used.")
    var initEncoder: String?
    @Option(help: "Epochs of masked-token pretraining of the embedding and encoder on the training texts (labels unused) before training the classifier; 0: none; auto: 1 when the training texts average at least 64 tokens, else none.")
    var pretrainEpochs = "auto"
    @Option(help: "Learning rate of the pretraining stage.") var pretrainLr: Float = 3e-3
    @Option(help: "Dropout of the masked model in the pretraining stage.") var pretrainDropout: Float = 0.1
    @Option(help: "word, char, wordpiece, bpe, or a tokenizer.json file.") var tokenizer = "word"
    @Option(help: "Largest vocabulary to train.") var vocabSize = 20_000
    @Option(help: "Keep at most this many tokens per text.") var maxLength = 400
    @Option(help: "Which end of a long text to keep: head or tail.") var truncate: TruncationSide = .tail
    @Option(help: "Dropout on embeddings, between layers and before the output.") var dropout: Float = 0.3
    @Option(help: "sgd, adam, adamw, rmsprop or adagrad.") var optimizer: OptimizerKind = .adam
    @Option(help: "Learning rate.") var lr: Float = 2e-3
    @Option(help: "Weight decay.") var weightDecay: Float = 0
    @Option(help: "Clip gradients to this global norm (0: off).") var clipNorm: Float = 5
    @Option(help: "constant, cosine or plateau learning-rate schedule.") var schedule: ScheduleKind = .constant
    @Option(help: "Examples per batch.") var batchSize = 64
    @Option(help: "Training epochs.") var epochs = 3
    @Option(help: "Stop after this many epochs without a better validation accuracy.") var patience: Int?
    @Option(help: "Fraction of the data held out for validation (stratified).") var validationSplit = 0.1
    @OptionGroup var runOptions: TrainingRunOptions

    func run() throws {
        try runOptions.run { collective in
            var options = ClassifierTrainingOptions()
            options.resume = runOptions.resume
            options.cell = cell
            options.layers = layers
            options.hiddenSize = hidden
            options.bidirectional = bidirectional
            options.pooling = pool
            options.embeddingDimension = embeddingDim
            options.wordVectors = glove
            options.freezeEmbeddings = freezeEmbeddings
            options.initEncoder = initEncoder
            options.pretrainEpochs = try PretrainingChoice(pretrainEpochs)
            options.pretrainLearningRate = pretrainLr
            options.pretrainDropout = pretrainDropout
            options.tokenizer = try TokenizerChoice(tokenizer)
            options.vocabularySize = vocabSize
            options.maxLength = maxLength
            options.truncation = truncate
            options.dropout = dropout
            options.batchSize = batchSize
            options.validationSplit = validationSplit
            options.seed = runOptions.seed
            options.training.optimizer = optimizer
            options.training.learningRate = lr
            options.training.weightDecay = weightDecay
            options.training.clipNorm = clipNorm > 0 ? clipNorm : nil
            options.training.schedule = schedule
            options.training.epochs = epochs
            options.training.patience = patience
            let progress = ProgressReporter(totalEpochs: epochs)
            InterruptSignal.install()
            let result = try ClassificationTraining.train(source: dataOptions.source, options: options, output: out,
                                                          log: progress.log, onEvent: progress.handle, writtenBy: swiftRNNVersion,
                                                          collective: collective, stopRequested: { InterruptSignal.isRequested })
            guard collective.isLeader else { return }
            if runOptions.json {
                var object: [String: Any] = ["model": out, "seconds": result.seconds, "training_examples": result.trainingExamples,
                                             "validation_examples": result.validationExamples,
                                             "parameters": result.summary.totalParameters]
                if let validation = result.validation {
                    object["validation"] = validation.metrics
                }
                try printJSON(object)
            } else {
                print(result.summary.render())
                if let validation = result.validation {
                    print(String(format: "validation: accuracy %.4f, precision %.4f, recall %.4f, F1 %.4f on %d examples",
                                 validation.accuracy, validation.precision, validation.recall, validation.f1, validation.examples))
                }
                print(String(format: "saved %@ (%.0f s)", out, result.seconds))
            }
        }
    }
}

struct ClassifyEval: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Accuracy, precision, recall, F1 and confusion matrix on labelled data.")

    @Option(help: "Model directory.") var model: String
    @OptionGroup var dataOptions: DataOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            let classifier = try TrainedClassifier.load(from: model)
            let (texts, labels, classNames) = try dataOptions.source.labelledExamples()
            let report = try classifier.evaluate(texts: texts, labelNames: labels.map { classNames[$0] })
            let matrix = (0..<report.labels.count).map { truth in
                (0..<report.labels.count).map { report.confusion.count(truth: truth, prediction: $0) }
            }
            if json {
                try printJSON(["accuracy": report.accuracy, "precision": report.precision, "recall": report.recall, "f1": report.f1,
                               "loss": report.loss, "examples": report.examples, "labels": report.labels, "confusion_matrix": matrix])
            } else {
                print(String(format: "accuracy %.4f  precision %.4f  recall %.4f  F1 %.4f  loss %.4f  (%d examples)",
                             report.accuracy, report.precision, report.recall, report.f1, report.loss, report.examples))
                print("confusion matrix (rows: truth, columns: prediction):")
                let width = max(report.labels.map(\.count).max() ?? 0, 6)
                print(String(repeating: " ", count: width + 2) + report.labels.map { $0.padding(toLength: width, withPad: " ", startingAt: 0) }.joined(separator: " "))
                for (truth, row) in matrix.enumerated() {
                    print(report.labels[truth].padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                          + row.map { String($0).padding(toLength: width, withPad: " ", startingAt: 0) }.joined(separator: " "))
                }
            }
        }
    }
}

struct ClassifyPredict: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Label and probability for each text (arguments, or lines of standard input).")

    @Option(help: "Model directory.") var model: String
    @Argument(help: "Texts to classify; none: read one per line from standard input.") var texts: [String] = []
    @Flag(help: "One JSON object per text.") var json = false

    func run() throws {
        try reportingErrors {
            let classifier = try TrainedClassifier.load(from: model)
            var inputs = texts
            if inputs.isEmpty {
                while let line = readLine() { inputs.append(line) }
            }
            guard !inputs.isEmpty else { throw RNNError("no texts: pass them as arguments or one per line on standard input") }
            for (text, prediction) in zip(inputs, try classifier.predict(inputs)) {
                if json {
                    try printJSON(["text": text, "label": prediction.label, "probability": prediction.probability,
                                   "probabilities": Dictionary(uniqueKeysWithValues: zip(classifier.labels, prediction.probabilities))])
                } else {
                    print(String(format: "%@\t%.3f\t%@", prediction.label, prediction.probability, text))
                }
            }
        }
    }
}

extension PoolingMode: ExpressibleByArgument {}
extension TruncationSide: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension ScheduleKind: ExpressibleByArgument {}
