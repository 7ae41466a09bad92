import ArgumentParser
import Foundation
import RNNCore
import RNNTasks
import RNNText

/// `rnn glove`: train GloVe word vectors on a corpus and look at their nearest neighbours.
struct GloVeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glove",
        abstract: "Train GloVe word vectors (Pennington et al. 2014) and query nearest neighbours.",
        subcommands: [GloVeTrain.self, GloVeNeighbors.self]
    )
}

struct GloVeTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Count co-occurrences in a corpus, fit GloVe vectors and save them in the GloVe text format.",
        discussion: """
        Words come from the word-level tokenizer's pipeline (lowercase, <br /> removed, punctuation \
        split off). Co-occurrences within --window words on each side weigh 1/distance; the fit is \
        the weighted least squares of the paper (x_max 100, alpha 0.75) with AdaGrad; the saved \
        vector of a word is w + w̃. Progress goes to standard error.

          rnn glove train --data imdb-unsup.txt --dim 100 --out vectors.txt
          rnn glove neighbors --vectors vectors.txt good bad
        """
    )

    @Option(help: "A text file with one document per line, a folder of class folders, or a .csv/.tsv/.jsonl file.")
    var data: String
    @Option(help: "CSV/TSV column or JSON field with the text (default: text).") var textColumn: String?
    @Option(help: "Read at most this many documents (per class for folders).") var limit: Int?
    @Option(help: "Vector dimension.") var dim = 100
    @Option(help: "Context words on each side of a word.") var window = 10
    @Option(help: "Passes over the non-zero co-occurrences.") var epochs = 15
    @Option(help: "Keep words seen at least this many times.") var minCount = 5
    @Option(help: "Keep at most this many words (the most frequent).") var maxVocab: Int?
    @Option(help: "AdaGrad learning rate.") var learningRate: Float = 0.05
    @Option(help: "Random seed: the same seed gives the same vectors.") var seed: UInt64 = 1
    @Option(help: "The vectors file to write (GloVe text format).") var out: String

    func run() throws {
        try reportingErrors {
            guard dim > 0, epochs > 0, window > 0, learningRate > 0 else {
                throw RNNError("--dim, --epochs, --window and --learning-rate must be positive")
            }
            try OutputFile.checkWritable(out)
            let log = ProgressReporter(totalEpochs: epochs)
            let start = Date()
            func elapsed() -> String { clock(Date().timeIntervalSince(start)) }

            let texts = try TextSource(path: data, textColumn: textColumn, limit: limit).documents()
            log.log("read \(texts.count) documents from \(data) [\(elapsed())]")
            let corpus = try GloVeCorpus(texts: texts, minCount: minCount, maxVocabulary: maxVocab) { done in
                log.log("splitting into words: \(done)/\(texts.count) documents [\(elapsed())]")
            }
            log.log(String(format: "vocabulary: %d of %d distinct words (min count %d); %d of %d words kept (%.1f%%) [%@]",
                           corpus.vocabulary.count, corpus.distinctWords, minCount, corpus.keptWords, corpus.totalWords,
                           100 * Double(corpus.keptWords) / Double(max(corpus.totalWords, 1)), elapsed()))
            let counts = try corpus.cooccurrences(window: window) { done in
                log.log("counting co-occurrences (window \(window)): \(done)/\(corpus.documents.count) documents [\(elapsed())]")
            }
            log.log("\(counts.nonZeroCount) non-zero co-occurrence pairs; training \(epochs) epochs of \(dim)-d vectors [\(elapsed())]")

            var trainer = GloVeTrainer(dimension: dim, epochs: epochs, seed: seed)
            trainer.learningRate = learningRate
            let result = try trainWithHeartbeat(trainer, counts: counts, vocabulary: corpus.vocabulary) { seconds in
                log.log("training... \(clock(seconds)) so far [\(elapsed())]")
            }
            for (epoch, loss) in result.lossPerEpoch.enumerated() {
                log.log(String(format: "epoch %d/%d: cost %.5f", epoch + 1, epochs, loss))
            }
            try result.vectors.save(to: out)
            print(String(format: "saved %@: %d words x %d dimensions, %d co-occurrence pairs, final cost %.5f, %.0f s",
                         out, result.vectors.count, dim, counts.nonZeroCount, result.lossPerEpoch.last ?? 0,
                         Date().timeIntervalSince(start)))
        }
    }

    /// Runs `GloVeTrainer.train` on a worker thread and calls `heartbeat` with the seconds spent
    /// every 30 s until it is done: the trainer reports nothing until it finishes, and a long
    /// silence would look like a hang.
    private func trainWithHeartbeat(_ trainer: GloVeTrainer, counts: CooccurrenceCounts, vocabulary: [String],
                                    heartbeat: (Double) -> Void) throws -> GloVeTrainer.Result {
        final class Outcome: @unchecked Sendable {
            var value: Result<GloVeTrainer.Result, any Error>?
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            outcome.value = Result { try trainer.train(counts, vocabulary: vocabulary) }
            done.signal()
        }
        thread.stackSize = 8 << 20
        let start = Date()
        thread.start()
        var nextBeat = 30.0
        while done.wait(timeout: .now() + max(nextBeat - Date().timeIntervalSince(start), 0.05)) == .timedOut {
            let seconds = Date().timeIntervalSince(start)
            guard seconds >= nextBeat else { continue }  // woke early: wait out the rest
            heartbeat(seconds)
            nextBeat += 30
        }
        guard let value = outcome.value else { throw RNNError("GloVe training ended without a result") }
        return try value.get()
    }
}

struct GloVeNeighbors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbors",
        abstract: "The words closest to each given word by cosine similarity.",
        discussion: "  rnn glove neighbors --vectors vectors.txt good bad --count 5"
    )

    @Option(help: "A GloVe or word2vec text file.") var vectors: String
    @Argument(help: "Words to look up (as written in the vectors file; trained vectors are lowercase).") var words: [String]
    @Option(help: "Neighbours per word.") var count = 10
    @Flag(help: "One JSON object per word: {\"word\", \"neighbors\": [{\"word\", \"similarity\"}]}.") var json = false

    func run() throws {
        try reportingErrors {
            guard !words.isEmpty else { throw RNNError("give at least one word, e.g. rnn glove neighbors --vectors vectors.txt good") }
            guard count > 0 else { throw RNNError("--count must be positive, got \(count)") }
            let table = try WordVectorsReader(path: vectors).read()
            // Look every word up before printing anything, so a typo is the only output.
            let answers = try words.map { word in (word, try table.nearestNeighbours(of: word, count: count)) }
            for (word, neighbours) in answers {
                if json {
                    try printJSON(["word": word, "neighbors": neighbours.map {
                        ["word": $0.word, "similarity": (Double($0.similarity) * 1e4).rounded() / 1e4] as [String: Any]
                    }])
                } else {
                    print("\(word): " + neighbours.map { String(format: "%@ %.3f", $0.word, $0.similarity) }.joined(separator: ", "))
                }
            }
        }
    }
}
