import Foundation
import RNN
import RNNCore
import RNNTasks
import XCTest

final class TranslationTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "rnn-translate-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func file(_ name: String, _ lines: [String]) throws -> String {
        let path = directory + "/" + name
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func errorMessage(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testParallelFilesAndTSVReadTheSamePairs() throws {
        let parallel = try ParallelCorpus(source: file("a.de", ["Ein Hund.", "Zwei Katzen."]), target: file("a.en", ["A dog.", "Two cats."]))
        let tsv = try ParallelCorpus(source: file("a.tsv", ["Ein Hund.\tA dog.", "Zwei Katzen.\tTwo cats."]), target: nil)
        XCTAssertEqual(parallel.sources, tsv.sources)
        XCTAssertEqual(parallel.targets, tsv.targets)
        XCTAssertEqual(tsv.targets, ["A dog.", "Two cats."])
    }

    func testBadInputIsOneClearErrorNamingFileAndLine() throws {
        let de = try file("b.de", ["Ein Hund.", "Zwei Katzen.", "Drei."])
        let en = try file("b.en", ["A dog.", "Two cats."])
        XCTAssertEqual(errorMessage { _ = try ParallelCorpus(source: de, target: en) },
                       "\(de) has 3 lines but \(en) has 2; parallel files need one target line per source line")
        let empty = try file("c.en", ["A dog.", "  ", "Three."])
        XCTAssertEqual(errorMessage { _ = try ParallelCorpus(source: de, target: empty) }, "\(empty) line 2: empty target sentence")
        let tsv = try file("c.tsv", ["Ein Hund.\tA dog.", "Zwei Katzen."])
        XCTAssertTrue(errorMessage { _ = try ParallelCorpus(source: tsv, target: nil) }
            .hasPrefix("\(tsv) line 2: expected two tab-separated columns (source, target), found 1"))

        // A sentence longer than --max-length.
        let long = try file("d.de", ["Ein Hund.", "Zwei Katzen laufen über die große grüne Wiese ."])
        let short = try file("d.en", ["A dog.", "Two cats."])
        var options = TranslationTrainingOptions()
        options.maxLength = 5
        options.hiddenSize = 4
        options.embeddingDimension = 4
        options.validationSplit = 0
        options.minFrequency = 1
        options.training.epochs = 1
        XCTAssertEqual(errorMessage {
            _ = try TranslationTraining.train(corpus: ParallelCorpus(source: long, target: short), options: options,
                                              output: directory + "/m", writtenBy: "test")
        }, "\(long) line 2: the sentence has 9 tokens, more than the model's limit of 5")

        // A model directory of another task.
        let classifier = directory + "/classifier"
        try FileManager.default.createDirectory(atPath: classifier, withIntermediateDirectories: true)
        try Data(#"{"format": "swift-rnn", "formatVersion": 1, "task": "classify", "writtenBy": "0.1.0", "model": {}}"#.utf8)
            .write(to: URL(fileURLWithPath: classifier + "/config.json"))
        try Data().write(to: URL(fileURLWithPath: classifier + "/model.safetensors"))
        let message = errorMessage { _ = try TrainedTranslator.load(from: classifier) }
        XCTAssertTrue(message.contains("is a 'classify' model, not a 'translate' model"), message)
    }

    /// Train a tiny model, save, reload: the same translations and scores; the input limit and
    /// empty inputs are clear errors naming the input line.
    func testSavedModelTranslatesLikeTheTrainedOne() throws {
        let de = try file("e.de", ["ein Hund läuft", "zwei Katzen", "ein Hund", "zwei Hunde laufen", "eine Katze läuft"])
        let en = try file("e.en", ["a dog runs", "two cats", "a dog", "two dogs run", "a cat runs"])
        for shared in [false, true] {
            var options = TranslationTrainingOptions()
            options.hiddenSize = 8
            options.embeddingDimension = 6
            options.minFrequency = 1
            options.maxLength = 6
            options.validationSplit = 0
            options.sharedVocabulary = shared
            options.attention = shared ? .luong : .bahdanau
            options.training.epochs = 3
            options.batchSize = 2
            let output = directory + "/model-\(shared)"
            let result = try TranslationTraining.train(corpus: ParallelCorpus(source: de, target: en), options: options, output: output,
                                                       writtenBy: "test")
            let loaded = try TrainedTranslator.load(from: output)
            XCTAssertEqual(loaded.config, result.translator.config)
            let texts = ["ein Hund", "zwei Katzen laufen"]
            let before = try result.translator.translate(texts, options: BeamSearchOptions(beamSize: 3, maxLength: 5))
            let after = try loaded.translate(texts, options: BeamSearchOptions(beamSize: 3, maxLength: 5))
            XCTAssertEqual(before.map(\.text), after.map(\.text))
            for (a, b) in zip(before, after) { XCTAssertEqual(a.score, b.score, accuracy: 1e-5) }
            XCTAssertEqual(FileManager.default.fileExists(atPath: output + "/tokenizer.json"), shared)
            XCTAssertEqual(FileManager.default.fileExists(atPath: output + "/source_tokenizer.json"), !shared)
            XCTAssertEqual(errorMessage { _ = try loaded.translate(["a b c d e f g"], locations: ["input line 4"]) },
                           "input line 4: the sentence has 7 tokens, more than the model's limit of 6")
            XCTAssertEqual(errorMessage { _ = try loaded.translate([""], locations: ["input line 1"]) },
                           "input line 1: empty sentence; nothing to translate")
        }
    }

    func testDetokenizerJoinsPunctuationAsWritten() {
        XCTAssertEqual(detokenize(["A", "man", "in", "a", "T", "-", "shirt", ",", "smiling", "."]), "A man in a T-shirt, smiling.")
        XCTAssertEqual(detokenize(["The", "dog", "'", "s", "toy", "(", "red", ")", "!"]), "The dog's toy (red)!")
        XCTAssertEqual(detokenize([]), "")
    }
}
