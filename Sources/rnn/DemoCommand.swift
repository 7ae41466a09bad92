import ArgumentParser
import Foundation
import RNN
import RNNCore
import RNNTasks

/// `rnn demo`: the main job on bundled data, in a few minutes on two cores.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train a sentiment classifier on bundled movie reviews and a joke generator on bundled jokes, and use them.",
        discussion: "Data: Sources/rnn/Resources/demo (2,500 IMDB reviews and 1,622 short jokes; see its README for sources and licences)."
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
            options.pretrainEpochs = 0  // the default `auto` would pretrain on reviews; kept fast and comparable
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

            say("")
            say("== Joke generation: LSTM language model, loss at every step, <eos> after each joke ==")
            var lmOptions = LanguageModelTrainingOptions()
            lmOptions.seed = seed
            lmOptions.training.epochs = 12
            let lmProgress = ProgressReporter(totalEpochs: lmOptions.training.epochs)
            let jokesPath = folder + "/jokes"
            let lm = try LanguageModelTraining.train(
                source: TextSource(path: resources.appendingPathComponent("demo/jokes.csv").path, textColumn: "Joke"),
                options: lmOptions, output: jokesPath, log: lmProgress.log, onEvent: lmProgress.handle, writtenBy: swiftRNNVersion)
            if let validation = lm.validation {
                var line = String(format: "validation perplexity %.1f", validation.perplexity)
                if let bigram = lm.bigramValidation { line += String(format: " (bigram baseline %.1f)", bigram.perplexity) }
                say(line + String(format: ", trained in %.0f s", lm.seconds))
            }
            let jokes = try TrainedLanguageModel.load(from: jokesPath)
            var generation = GenerationOptions()
            generation.samples = 5
            generation.temperature = 0.8
            generation.seed = seed
            for prompt in ["what did the", "why did the"] {
                for sample in try jokes.generate(prompt: prompt, options: generation) {
                    say("  \(sample.text)\(sample.stopped == .endToken ? "" : " …")")
                }
            }
            say("model saved in \(jokesPath) (try: rnn lm generate --model \(jokesPath) --prompt \"how do you\")")
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            say(String(format: "demo finished in %.0f s", seconds))
        }
    }
}
