import ArgumentParser
import Foundation
import RNN
import RNNCore
import RNNTasks

/// `rnn demo`: the main job on bundled data, in a few minutes on two cores.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train a sentiment classifier on bundled movie reviews and use it.",
        discussion: "Data: Sources/rnn/Resources/demo (2,500 IMDB reviews; see its README for sources and licences)."
    )

    @Option(help: "Where to write the trained models (default: a new temporary folder).")
    var out: String?
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "BLAS threads.") var threads = ProcessInfo.processInfo.activeProcessorCount

    static let exampleReviews = [
        "This movie was wonderful. The acting was superb and I loved every minute of it.",
        "A dull, boring film with terrible acting and a plot that makes no sense.",
        "I was not expecting much, but it turned out to be one of the best films I have seen this year.",
        "What a waste of time. I want my money back.",
    ]

    func run() throws {
        try reportingErrors {
            BLAS.setThreads(threads)
            guard let resources = Bundle.module.url(forResource: "Resources", withExtension: nil) else {
                throw RNNError("demo data not found next to the rnn executable; run it with `swift run -c release rnn demo`")
            }
            let folder = out ?? (NSTemporaryDirectory() + "rnn-demo-\(ProcessInfo.processInfo.processIdentifier)")
            let start = DispatchTime.now().uptimeNanoseconds
            say("== Sentiment classification: bidirectional GRU, mean over time (architecture 2) ==")
            var options = ClassifierTrainingOptions()
            options.hiddenSize = 64
            options.embeddingDimension = 64
            options.vocabularySize = 8000
            options.maxLength = 250
            options.batchSize = 32
            options.validationSplit = 0.2
            options.seed = seed
            options.training.epochs = 6
            options.training.learningRate = 3e-3
            let progress = ProgressReporter(totalEpochs: options.training.epochs)
            let classifierPath = folder + "/sentiment"
            let result = try ClassificationTraining.train(
                source: TextSource(path: resources.appendingPathComponent("demo/imdb-sample.csv").path),
                options: options, output: classifierPath, log: progress.log, onEvent: progress.handle, writtenBy: swiftRNNVersion)
            if let validation = result.validation {
                say(String(format: "validation accuracy %.3f on %d held-out reviews (F1 %.3f), trained in %.0f s",
                             validation.accuracy, validation.examples, validation.f1, result.seconds))
            }
            let classifier = try TrainedClassifier.load(from: classifierPath)
            for (text, prediction) in zip(Self.exampleReviews, try classifier.predict(Self.exampleReviews)) {
                say(String(format: "  %@ %.2f  %@", prediction.label, prediction.probability, text))
            }
            say("model saved in \(classifierPath) (try: rnn classify predict --model \(classifierPath) \"a fine film\")")
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            say(String(format: "demo finished in %.0f s", seconds))
        }
    }
}
