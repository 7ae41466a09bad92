import Foundation
import RNN
import RNNCore
import RNNTasks
import RNNText
import XCTest

/// End to end on a synthetic language (see the fixture's header): open-class tags follow the
/// suffix, so unknown words can only be tagged from their characters; `bo` is DET before a noun
/// and PRON otherwise, which needs the sentence context.
final class TaggingTests: XCTestCase {
    private var directory: String!
    private var fixture: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("tiny-tagging.conllu").path
    }

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "tagging-tests-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func options(epochs: Int = 8) -> TaggerTrainingOptions {
        var options = TaggerTrainingOptions()
        options.hiddenSize = 12
        options.wordEmbeddingDimension = 8
        options.characterEmbeddingDimension = 8
        options.characterHiddenSize = 8
        options.dropout = 0.1
        options.wordDropout = 0.5
        options.batchSize = 8
        options.validationSplit = 0.2
        options.training.epochs = epochs
        options.training.learningRate = 0.01
        return options
    }

    func testLearnsTheTaskTagsUnknownWordsFromCharactersAndRoundTrips() throws {
        let result = try TaggingTraining.train(data: fixture, options: options(), output: directory, writtenBy: "test")
        XCTAssertEqual(result.trainingSentences + result.validationSentences, 200)
        XCTAssertEqual(result.validationSentences, 40)
        let validation = try XCTUnwrap(result.validation)
        XCTAssertGreaterThanOrEqual(validation.accuracy, 0.97, "suffixes and the next word decide every tag")
        XCTAssertEqual(result.tagger.tags, ["ADJ", "DET", "NOUN", "PRON", "PUNCT", "VERB"])

        // Stems never seen in training: the word embedding is [UNK], only the characters tell.
        let unknown = [["bo", "tatako", "rurumar", "la", "vevix", "."], ["rurumar", "bo", "vevix", "zozo", "."],
                       ["sisix", "bo", "nanumo", "mumar", "."], ["bo", "pipar", "bo", "tutukar", "."]]
        let expected = [["DET", "NOUN", "VERB", "DET", "ADJ", "PUNCT"], ["VERB", "PRON", "ADJ", "NOUN", "PUNCT"],
                        ["ADJ", "DET", "NOUN", "VERB", "PUNCT"], ["PRON", "VERB", "PRON", "VERB", "PUNCT"]]
        for word in unknown.joined() where word.count > 2 {
            XCTAssertEqual(result.tagger.vocabulary.wordId(word), 1, "\(word) must be out of the vocabulary for this test")
        }
        XCTAssertEqual(try result.tagger.tag(unknown), expected)

        // Save / load round trip: the loaded model tags exactly as the trained one.
        for file in ["config.json", "model.safetensors", "vocab.json", "history.json", "history.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/" + file), file)
        }
        let loaded = try TrainedTagger.load(from: directory)
        XCTAssertEqual(loaded.tags, result.tagger.tags)
        XCTAssertEqual(loaded.vocabulary, result.tagger.vocabulary)
        let sentences = try CoNLLUReader(path: fixture).read()
        XCTAssertEqual(try loaded.tag(sentences.map(\.words)), try result.tagger.tag(sentences.map(\.words)))
        XCTAssertEqual(try loaded.tag([[], ["la"]]).first, [], "an empty sentence gets no tags")

        let report = try loaded.evaluate(sentences)
        XCTAssertEqual(report.tokens, sentences.reduce(0) { $0 + $1.words.count })
        XCTAssertEqual(report.perTag.reduce(0) { $0 + $1.support }, report.tokens)
        XCTAssertGreaterThanOrEqual(report.accuracy, 0.97)
        // A gold tag the model never saw is counted, and always wrong.
        let odd = TaggedSentence(words: ["la", "."], tags: ["DET", "SYM"])
        let oddReport = try loaded.evaluate([odd])
        XCTAssertEqual(oddReport.tokens, 2)
        XCTAssertLessThanOrEqual(oddReport.accuracy, 0.5)
        XCTAssertEqual(oddReport.perTag.first { $0.tag == "SYM" }?.recall, 0)
    }

    func testSameSeedGivesTheSameModel() throws {
        _ = try TaggingTraining.train(data: fixture, options: options(epochs: 1), output: directory + "/a", writtenBy: "test")
        _ = try TaggingTraining.train(data: fixture, options: options(epochs: 1), output: directory + "/b", writtenBy: "test")
        let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/a/model.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: directory + "/b/model.safetensors"))
        XCTAssertEqual(a, b)
    }

    func testBadInputIsAClearError() throws {
        func message(_ body: () throws -> Void) -> String {
            do {
                try body()
                return "no error"
            } catch { return "\(error)" }
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let malformed = directory + "/bad.conllu"
        try "1\tla\t_\tDET\t_\t_\t_\t_\t_\t_\n2\tdiso\t_\tNOUN\t_\t_\t_\t_\t_\n".write(toFile: malformed, atomically: true, encoding: .utf8)
        XCTAssertTrue(message { _ = try TaggingTraining.train(data: malformed, options: options(), output: directory + "/m", writtenBy: "test") }
            .hasPrefix(malformed + ":2: expected 10 tab-separated columns, found 9"))
        XCTAssertTrue(message { _ = try TaggingTraining.train(data: directory + "/none.conllu", options: options(), output: directory + "/m",
                                                                writtenBy: "test") }.contains("none.conllu"))
        var bad = options()
        bad.layers = 0
        XCTAssertEqual(message { _ = try TaggingTraining.train(data: fixture, options: bad, output: directory + "/m", writtenBy: "test") },
                       "--layers must be at least 1, got 0")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/m"), "no partial model directory is left behind")

        let classifier = directory + "/classifier"
        try ModelDirectory.save(ModelConfigFile(task: "classify", model: ["labels": 2], writtenBy: "test"), store: ParameterStore(), to: classifier)
        XCTAssertEqual(message { _ = try TrainedTagger.load(from: classifier) }, "\(classifier): is a 'classify' model, not a 'tag' model")
        XCTAssertTrue(message { _ = try TrainedTagger.load(from: directory + "/none") }.hasSuffix("no such model directory"))
    }
}
