import Foundation
import RNN
import RNNCore
import RNNTasks
import XCTest

/// End to end on a tiny fixture: read a CSV by column names, train, save, load, predict, evaluate.
final class ClassificationTests: XCTestCase {
    private var directory: String!
    private var fixture: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("tiny-sentiment.csv").path
    }

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "classification-tests-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func options() -> ClassifierTrainingOptions { tinySentimentClassifierOptions(epochs: 8) }

    func testTrainSaveLoadPredictEvaluate() throws {
        let source = TextSource(path: fixture, textColumn: "review", labelColumn: "sentiment")
        let result = try ClassificationTraining.train(source: source, options: options(), output: directory, writtenBy: "test")
        XCTAssertEqual(result.trainingExamples + result.validationExamples, 240)
        XCTAssertEqual(result.validationExamples, 60)
        let validation = try XCTUnwrap(result.validation)
        XCTAssertGreaterThanOrEqual(validation.accuracy, 0.95, "sentiment words decide the label in this fixture")
        for file in ["config.json", "model.safetensors", "tokenizer.json", "history.json", "history.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/" + file), file)
        }

        let classifier = try TrainedClassifier.load(from: directory)
        XCTAssertEqual(classifier.labels, ["neg", "pos"])
        let predictions = try classifier.predict(["the movie was wonderful and superb.", "a boring and awful film.", ""])
        XCTAssertEqual(predictions[0].label, "pos")
        XCTAssertEqual(predictions[1].label, "neg")
        XCTAssertEqual(predictions[2].probabilities.reduce(0, +), 1, accuracy: 1e-5, "an empty text still gets a distribution")
        let report = try classifier.evaluate(texts: ["i loved it.", "i hated it."], labelNames: ["pos", "neg"])
        XCTAssertEqual(report.examples, 2)
        XCTAssertThrowsError(try classifier.evaluate(texts: ["x"], labelNames: ["maybe"])) { error in
            XCTAssertTrue("\(error)".contains("label 'maybe' is not one the model knows"))
        }
    }

    func testSameSeedGivesTheSameModel() throws {
        let source = TextSource(path: fixture, textColumn: "review", labelColumn: "sentiment")
        var quick = options()
        quick.training.epochs = 1
        _ = try ClassificationTraining.train(source: source, options: quick, output: directory + "/a", writtenBy: "test")
        _ = try ClassificationTraining.train(source: source, options: quick, output: directory + "/b", writtenBy: "test")
        let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/a/model.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: directory + "/b/model.safetensors"))
        XCTAssertEqual(a, b)
    }

    /// Two epochs, then `resume` to four, gives the same weights as four epochs in one go:
    /// weights, optimizer moments, best weights and the random generator all come back.
    func testResumeFromCheckpointReachesTheSameWeights() throws {
        let source = TextSource(path: fixture, textColumn: "review", labelColumn: "sentiment")
        var options = options()
        options.dropout = 0.2
        options.training.epochs = 4
        _ = try ClassificationTraining.train(source: source, options: options, output: directory + "/whole", writtenBy: "test")
        options.training.epochs = 2
        _ = try ClassificationTraining.train(source: source, options: options, output: directory + "/parts", writtenBy: "test")
        options.training.epochs = 4
        options.resume = true
        let resumed = try ClassificationTraining.train(source: source, options: options, output: directory + "/parts", writtenBy: "test")
        XCTAssertEqual(resumed.history.map(\.epoch), [1, 2, 3, 4])
        let whole = try Data(contentsOf: URL(fileURLWithPath: directory + "/whole/model.safetensors"))
        let parts = try Data(contentsOf: URL(fileURLWithPath: directory + "/parts/model.safetensors"))
        XCTAssertEqual(whole, parts)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/parts/checkpoint/trainer.json"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/parts/checkpoint.tmp"))
    }

    /// Ctrl-C in the middle of epoch 2 (`stopRequested` after its second step): the step finishes,
    /// a checkpoint with the partial epoch is saved, and `resume` ends with the weights of an
    /// uninterrupted run, bit for bit (dropout and shuffling draw from the restored generator).
    func testInterruptedInsideAnEpochResumesToTheSameWeights() throws {
        let source = TextSource(path: fixture, textColumn: "review", labelColumn: "sentiment")
        var options = options()
        options.dropout = 0.2
        options.training.epochs = 3
        let uninterrupted = try ClassificationTraining.train(source: source, options: options, output: directory + "/whole", writtenBy: "test")
        var steps = 0
        let stepsPerEpoch = 12  // 180 training examples in batches of 16
        XCTAssertThrowsError(try ClassificationTraining.train(
            source: source, options: options, output: directory + "/parts", writtenBy: "test",
            stopRequested: { steps += 1; return steps == stepsPerEpoch + 2 })) { error in
            let interrupted = error as? TrainingInterrupted
            XCTAssertEqual(interrupted?.state.partialEpoch?.epoch, 2)
            XCTAssertEqual(interrupted?.state.partialEpoch?.batchesDone, 2)
            XCTAssertEqual(interrupted?.message, "interrupted in epoch 2 after step 2; saved the checkpoint \(directory!)/parts/checkpoint. Continue with the same command and --resume")
        }
        options.resume = true
        let resumed = try ClassificationTraining.train(source: source, options: options, output: directory + "/parts", writtenBy: "test")
        XCTAssertEqual(resumed.history.map(\.epoch), [1, 2, 3])
        // The interrupted epoch's record continues its running sums.
        XCTAssertEqual(resumed.history.map(\.trainLoss), uninterrupted.history.map(\.trainLoss))
        XCTAssertEqual(resumed.history.map(\.maxGradientNorm), uninterrupted.history.map(\.maxGradientNorm))
        let whole = try Data(contentsOf: URL(fileURLWithPath: directory + "/whole/model.safetensors"))
        let parts = try Data(contentsOf: URL(fileURLWithPath: directory + "/parts/model.safetensors"))
        XCTAssertEqual(whole, parts)
    }

    func testBadInputIsAClearError() throws {
        func message(_ source: TextSource) -> String {
            do {
                _ = try ClassificationTraining.train(source: source, options: options(), output: directory, writtenBy: "test")
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(message(TextSource(path: "/nonexistent/data")).hasSuffix("no such file or folder"))
        XCTAssertTrue(message(TextSource(path: fixture, textColumn: "text", labelColumn: "sentiment")).contains("text"))
        XCTAssertTrue(message(TextSource(path: fixture, textColumn: "review", labelColumn: "sentiment", limit: 1)).contains("at least two classes"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory), "no partial model directory is left behind")
        XCTAssertThrowsError(try TrainedClassifier.load(from: directory))
    }
}

/// The small classifier the classification test cases train on `tiny-sentiment.csv`.
func tinySentimentClassifierOptions(epochs: Int) -> ClassifierTrainingOptions {
    var options = ClassifierTrainingOptions()
    options.hiddenSize = 16
    options.embeddingDimension = 16
    options.batchSize = 16
    options.validationSplit = 0.25
    options.minFrequency = 1
    options.dropout = 0
    options.training.epochs = epochs
    options.training.learningRate = 0.01
    return options
}
