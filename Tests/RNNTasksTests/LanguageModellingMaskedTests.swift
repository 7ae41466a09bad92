import Foundation
import RNN
import RNNCore
import XCTest
@testable import RNNTasks

/// Options for a small, fast masked model.
private func maskedOptions() -> LanguageModelTrainingOptions {
    var options = tinyOptions()
    options.objective = .masked
    options.cell = .gru
    options.hiddenSize = 16
    options.embeddingDimension = 16
    options.tieEmbeddings = false
    options.maxLength = 400
    options.training.epochs = 30
    return options
}

final class LanguageModellingMaskedTests: XCTestCase {
    /// Six two-word documents ("red apple", "yellow banana", ...), each 40 times. The first word
    /// is determined only by the word after it, so predicting it when masked needs the right-hand
    /// context: a unidirectional model could do no better than 1 in 6 there. The masked model
    /// must get nearly every masked token right, and its directory must load and evaluate alike.
    func testMaskedModelLearnsFromBothSidesAndSavesLoadsEvaluates() throws {
        let directory = try makeScratchDirectory(self)
        let data = directory + "/pairs.txt"
        let pairs = ["red apple", "yellow banana", "green grass", "blue sky", "white snow", "black night"]
        try Array(repeating: pairs.joined(separator: "\n"), count: 40).joined(separator: "\n")
            .write(toFile: data, atomically: true, encoding: .utf8)
        let result = try LanguageModelTraining.train(source: TextSource(path: data), options: maskedOptions(),
                                                     output: directory + "/model", writtenBy: "test")
        let validation = try XCTUnwrap(result.masked)
        XCTAssertGreaterThan(validation.tokens, 40)
        XCTAssertGreaterThanOrEqual(validation.accuracy, 0.95, "every masked word follows from its neighbour")
        XCTAssertLessThan(validation.crossEntropy, 0.3)

        XCTAssertEqual(try LanguageModelObjective.of(modelAt: directory + "/model"), .masked)
        let loaded = try TrainedMaskedLanguageModel.load(from: directory + "/model")
        XCTAssertEqual(loaded.model.store.parameters.map(\.name).prefix(1), ["embedding.weight"])
        XCTAssertNotNil(loaded.tokenizer.tokenToId("[MASK]"))
        let evaluation = try loaded.evaluate(source: TextSource(path: data), maskSeed: 3)
        XCTAssertEqual(evaluation.tokens, try loaded.evaluate(source: TextSource(path: data), maskSeed: 3).tokens, "same seed, same positions")
        XCTAssertGreaterThanOrEqual(evaluation.accuracy, 0.95)
        let config = try String(contentsOfFile: directory + "/model/config.json", encoding: .utf8)
        XCTAssertTrue(config.contains("\"task\" : \"lm\"") && config.contains("\"objective\" : \"masked\""))

        // A next-token command on it is a clear error, not a decoding failure.
        XCTAssertThrowsError(try TrainedLanguageModel.load(from: directory + "/model")) { error in
            XCTAssertTrue("\(error)".contains("masked language model"), "\(error)")
        }
    }

    func testMaskedObjectiveRejectsOptionsItCannotUse() throws {
        let directory = try makeScratchDirectory(self)
        let data = directory + "/pairs.txt"
        try "red apple\nblue sky\nred apple\nblue sky\nred apple".write(toFile: data, atomically: true, encoding: .utf8)
        var corpus = maskedOptions()
        corpus.corpus = true
        var heads = maskedOptions()
        heads.predictAhead = 2
        var bigram = maskedOptions()
        bigram.model = .bigram
        for (options, word) in [(corpus, "--corpus"), (heads, "--predict-ahead"), (bigram, "bigram")] {
            XCTAssertThrowsError(try LanguageModelTraining.train(source: TextSource(path: data), options: options,
                                                                 output: directory + "/model", writtenBy: "test")) { error in
                XCTAssertTrue("\(error)".contains(word), "\(error)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/model"), "no partial model")
    }
}

/// `rnn classify train --init-encoder`: a masked model's embedding and encoder start a classifier.
final class ClassifierInitEncoderTests: XCTestCase {
    private var fixture: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("tiny-sentiment.csv").path
    }

    private func pretrain(into directory: String) throws {
        var options = maskedOptions()
        options.training.epochs = 2
        _ = try LanguageModelTraining.train(source: TextSource(path: fixture, textColumn: "review"), options: options,
                                            output: directory, writtenBy: "test")
    }

    private func classifierOptions(encoder: String) -> ClassifierTrainingOptions {
        var options = ClassifierTrainingOptions()
        options.hiddenSize = 16
        options.embeddingDimension = 16
        options.batchSize = 16
        options.validationSplit = 0.25
        options.dropout = 0
        options.training.epochs = 4
        options.training.learningRate = 0.01
        options.initEncoder = encoder
        return options
    }

    /// The copied tensors equal the encoder's exactly; the classifier's own head keeps its start.
    func testEncoderTensorsAreCopiedByName() throws {
        let directory = try makeScratchDirectory(self)
        try pretrain(into: directory + "/encoder")
        let encoder = try TrainedMaskedLanguageModel.load(from: directory + "/encoder")
        let recurrent = encoder.model.config.recurrent
        var generator = SeededGenerator(seed: 1)
        let classifier = try TextClassifier(ClassifierConfig(vocabularySize: encoder.tokenizer.vocabSize, embeddingDimension: 16,
                                                             recurrent: recurrent, pooling: .mean, labels: ["neg", "pos"]),
                                            generator: &generator)
        let headBefore = classifier.store.tensor(classifier.head.weight)
        let copied = try ClassificationTraining.initializeEncoder(of: classifier, from: encoder.model, path: directory + "/encoder")
        XCTAssertEqual(copied, 1 + 8, "embedding + 4 GRU tensors per direction")
        for parameter in encoder.model.store.parameters where !parameter.name.hasPrefix("fc.") {
            let target = try XCTUnwrap(classifier.store.parameter(named: parameter.name))
            XCTAssertEqual(classifier.store.tensor(target), encoder.model.store.tensor(parameter), parameter.name)
        }
        XCTAssertEqual(classifier.store.tensor(classifier.head.weight), headBefore)
    }

    /// End to end: the classifier trains from the encoder with the encoder's tokenizer, and
    /// mismatched shapes, --glove together with --init-encoder, and a next-token model are clear errors.
    func testTrainingFromAnEncoderAndItsErrors() throws {
        let directory = try makeScratchDirectory(self)
        try pretrain(into: directory + "/encoder")
        let source = TextSource(path: fixture, textColumn: "review", labelColumn: "sentiment")
        let result = try ClassificationTraining.train(source: source, options: classifierOptions(encoder: directory + "/encoder"),
                                                      output: directory + "/classifier", writtenBy: "test")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(result.validation).accuracy, 0.9)
        let classifier = try TrainedClassifier.load(from: directory + "/classifier")
        let encoder = try TrainedMaskedLanguageModel.load(from: directory + "/encoder")
        XCTAssertEqual(vocabularyFingerprint(of: classifier.tokenizer), vocabularyFingerprint(of: encoder.tokenizer))
        XCTAssertEqual(classifier.configFile.training["init_encoder"], directory + "/encoder")

        var wrongShape = classifierOptions(encoder: directory + "/encoder")
        wrongShape.hiddenSize = 8
        XCTAssertThrowsError(try ClassificationTraining.train(source: source, options: wrongShape, output: directory + "/bad",
                                                              writtenBy: "test")) { error in
            XCTAssertTrue("\(error)".contains("--hidden"), "\(error)")
        }
        var withVectors = classifierOptions(encoder: directory + "/encoder")
        withVectors.wordVectors = directory + "/vectors.txt"
        XCTAssertThrowsError(try ClassificationTraining.train(source: source, options: withVectors, output: directory + "/bad",
                                                              writtenBy: "test")) { error in
            XCTAssertTrue("\(error)".contains("--glove"), "\(error)")
        }
        var nextToken = tinyOptions()
        nextToken.training.epochs = 1
        _ = try LanguageModelTraining.train(source: TextSource(path: fixture, textColumn: "review"), options: nextToken,
                                            output: directory + "/next", writtenBy: "test")
        XCTAssertThrowsError(try ClassificationTraining.train(source: source, options: classifierOptions(encoder: directory + "/next"),
                                                              output: directory + "/bad", writtenBy: "test")) { error in
            XCTAssertTrue("\(error)".contains("not a masked one"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/bad"), "no partial model")
    }
}
