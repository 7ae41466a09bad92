import Foundation
import RNN
import RNNCore
import RNNText
@testable import RNNTasks
import XCTest

/// `classify train --pretrain-epochs auto|N`: the rule, the masked stage on the training texts, then fine-tuning.
final class ClassificationPretrainingTests: XCTestCase {
    private var fixture: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("tiny-sentiment.csv").path
    }

    private func options(pretrainEpochs: Int) -> ClassifierTrainingOptions {
        var options = tinySentimentClassifierOptions(epochs: 4)
        options.pretrainEpochs = .epochs(pretrainEpochs)
        options.pretrainLearningRate = 0.01
        return options
    }

    /// A classifier, its tokenizer (with [MASK]) and the encoded fixture texts.
    private func setUpClassifier(bidirectional: Bool) throws -> (TextClassifier, Tokenizer, [[Int32]]) {
        let (texts, _, _) = try TextSource(path: fixture, textColumn: "review", labelColumn: "sentiment").labelledExamples()
        let options = options(pretrainEpochs: 3)
        let tokenizer = try options.tokenizer.make(texts: texts, vocabularySize: 500, minFrequency: 1,
                                                   extraSpecialTokens: ClassificationPretraining.extraTokens(for: options))
        var generator = SeededGenerator(seed: 3)
        let recurrent = RecurrentConfig(cell: .gru, inputSize: 16, hiddenSize: 16, bidirectional: bidirectional)
        let classifier = try TextClassifier(ClassifierConfig(vocabularySize: tokenizer.vocabSize, embeddingDimension: 16,
                                                             paddingId: tokenizer.paddingId, recurrent: recurrent, pooling: .mean,
                                                             labels: ["neg", "pos"]), generator: &generator)
        let sequences = try ClassificationTraining.encodeAll(texts, tokenizer: tokenizer, maxLength: 64, truncation: .tail)
        return (classifier, tokenizer, sequences)
    }

    /// The masked loss falls over the epochs, the encoder moves, the head keeps its start.
    func testPretrainingLowersMaskedLossAndChangesOnlyTheEncoder() throws {
        let (classifier, tokenizer, sequences) = try setUpClassifier(bidirectional: true)
        XCTAssertNotNil(tokenizer.tokenToId("[MASK]"))
        let encoderBefore = classifier.store.tensor(try XCTUnwrap(classifier.store.parameter(named: "rnn.weight_ih_l0")))
        let headBefore = classifier.store.tensor(classifier.head.weight)
        var generator = SeededGenerator(seed: 9)
        var lines: [String] = []
        let history = try ClassificationPretraining.pretrain(classifier, sequences: sequences, tokenizer: tokenizer,
                                                             settings: .init(epochs: 3, learningRate: 0.01),
                                                             options: options(pretrainEpochs: 3), generator: &generator,
                                                             output: try makeScratchDirectory(self), log: { lines.append($0) })
        XCTAssertEqual(history.count, 3)
        XCTAssertLessThan(history[2].trainLoss, history[0].trainLoss, "masked cross-entropy: \(history.map(\.trainLoss))")
        XCTAssertLessThan(history[0].trainLoss, log(Double(tokenizer.vocabSize)) + 0.5, "starts near uniform over the vocabulary")
        XCTAssertNotEqual(classifier.store.tensor(try XCTUnwrap(classifier.store.parameter(named: "rnn.weight_ih_l0"))), encoderBefore)
        XCTAssertEqual(classifier.store.tensor(classifier.head.weight), headBefore)
        XCTAssertEqual(lines.filter { $0.hasPrefix("pretraining epoch") && $0.contains(" nats") }.count, 3)
    }

    /// Ctrl-C inside the masked stage (epoch 2 of 2, after its second step): the stage saves its
    /// own checkpoint (`OUT/pretraining/checkpoint`, with the tokenizer), and `resume` continues
    /// the stage, then fine-tunes, and ends with the uninterrupted run's weights, bit for bit
    /// (masking, shuffling and dropout draw from the restored generators); the stage's checkpoint
    /// is removed once the model is saved.
    func testInterruptedInsidePretrainingResumesToTheSameWeights() throws {
        let directory = try makeScratchDirectory(self)
        let source = TextSource(path: fixture, textColumn: "review", labelColumn: "sentiment")
        var options = options(pretrainEpochs: 2)
        options.dropout = 0.2
        _ = try ClassificationTraining.train(source: source, options: options, output: directory + "/whole", writtenBy: "test")
        var steps = 0
        let stepsPerEpoch = 12  // 180 training texts in batches of 16
        XCTAssertThrowsError(try ClassificationTraining.train(source: source, options: options, output: directory + "/parts", writtenBy: "test",
                                                             stopRequested: { steps += 1; return steps == stepsPerEpoch + 2 })) { error in
            let interrupted = error as? TrainingInterrupted
            XCTAssertEqual(interrupted?.state.partialEpoch?.epoch, 2)
            XCTAssertEqual(interrupted?.state.partialEpoch?.batchesDone, 2)
            XCTAssertEqual(interrupted?.message.hasSuffix("saved the checkpoint \(directory)/parts/pretraining/checkpoint. Continue with the same command and --resume"),
                           true, "\(String(describing: interrupted?.message))")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/parts/pretraining/checkpoint/tokenizer.json"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/parts/checkpoint"), "no classifier checkpoint yet")
        options.resume = true
        var lines: [String] = []
        _ = try ClassificationTraining.train(source: source, options: options, output: directory + "/parts", log: { lines.append($0) },
                                             writtenBy: "test")
        XCTAssertTrue(lines.contains { $0.hasPrefix("resuming epoch 2 of 2 after step 2") }, "\(lines)")
        XCTAssertEqual(lines.filter { $0.hasPrefix("pretraining epoch") && $0.contains(" nats") }.count, 1, "only the stage's last epoch again")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: directory + "/whole/model.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: directory + "/parts/model.safetensors")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/parts/pretraining"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/whole/pretraining"))
    }

    /// A unidirectional classifier cannot use the masked objective: skipped with a note, untouched.
    func testUnidirectionalClassifierSkipsPretraining() throws {
        let (classifier, tokenizer, sequences) = try setUpClassifier(bidirectional: false)
        let before = classifier.store.tensor(try XCTUnwrap(classifier.store.parameter(named: "rnn.weight_ih_l0")))
        var generator = SeededGenerator(seed: 9)
        var lines: [String] = []
        let history = try ClassificationPretraining.pretrain(classifier, sequences: sequences, tokenizer: tokenizer,
                                                             settings: .init(epochs: 2, learningRate: 0.01),
                                                             options: options(pretrainEpochs: 2), generator: &generator,
                                                             output: try makeScratchDirectory(self), log: { lines.append($0) })
        XCTAssertTrue(history.isEmpty)
        XCTAssertTrue(lines.contains { $0.contains("pretraining skipped") && $0.contains("bidirectional") }, "\(lines)")
        XCTAssertEqual(classifier.store.tensor(try XCTUnwrap(classifier.store.parameter(named: "rnn.weight_ih_l0"))), before)
    }

    /// End to end: trains, saves a tokenizer with [MASK], records the stage, and still learns the task.
    func testTrainWithPretrainingSavesAWorkingModel() throws {
        let directory = try makeScratchDirectory(self) + "/model"
        let source = TextSource(path: fixture, textColumn: "review", labelColumn: "sentiment")
        var lines: [String] = []
        let result = try ClassificationTraining.train(source: source, options: options(pretrainEpochs: 2), output: directory,
                                                      log: { lines.append($0) }, writtenBy: "test")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(result.validation).accuracy, 0.9)
        XCTAssertEqual(lines.filter { $0.hasPrefix("pretraining epoch") && $0.contains(" nats") }.count, 2, "\(lines)")
        let classifier = try TrainedClassifier.load(from: directory)
        XCTAssertNotNil(classifier.tokenizer.tokenToId("[MASK]"))
        XCTAssertEqual(classifier.configFile.training["pretrain_epochs"], "2")
        XCTAssertThrowsError(try ClassificationTraining.train(source: source, options: options(pretrainEpochs: -1),
                                                             output: directory + "-bad", writtenBy: "test")) { error in
            XCTAssertEqual("\(error)", "--pretrain-epochs must be auto or 0 or more, got -1")
        }
        var badDropout = options(pretrainEpochs: 1)
        badDropout.pretrainDropout = 1
        XCTAssertThrowsError(try ClassificationTraining.train(source: source, options: badDropout, output: directory + "-bad",
                                                             writtenBy: "test")) { error in
            XCTAssertEqual("\(error)", "--pretrain-dropout must be in [0, 1), got 1.0")
        }
    }

    // MARK: --pretrain-epochs auto

    /// The fixture's texts, each repeated until it has at least 70 words: long enough for the rule.
    private func writeLongTexts() throws -> TextSource {
        let (texts, labels, classNames) = try TextSource(path: fixture, textColumn: "review", labelColumn: "sentiment").labelledExamples()
        var csv = "review,sentiment\n"
        for (text, label) in zip(texts, labels) {
            var long = text
            while long.split(separator: " ").count < 70 { long += " " + text }
            csv += "\(long),\(classNames[label])\n"
        }
        let path = try makeScratchDirectory(self) + "/long.csv"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        return TextSource(path: path, textColumn: "review", labelColumn: "sentiment")
    }

    private func autoOptions() -> ClassifierTrainingOptions {
        var options = options(pretrainEpochs: 0)
        options.pretrainEpochs = .automatic
        options.training.epochs = 2
        return options
    }

    func testChoiceParsesAutoAndWholeNumbers() throws {
        XCTAssertEqual(try PretrainingChoice("auto"), .automatic)
        XCTAssertEqual(try PretrainingChoice("AUTO"), .automatic)
        XCTAssertEqual(try PretrainingChoice("0"), .epochs(0))
        XCTAssertEqual(try PretrainingChoice("3"), .epochs(3))
        XCTAssertEqual(ClassifierTrainingOptions().pretrainEpochs, .automatic, "the default")
        for bad in ["-1", "one", "1.5", ""] {
            XCTAssertThrowsError(try PretrainingChoice(bad)) { error in
                XCTAssertEqual("\(error)", "--pretrain-epochs must be auto or a whole number 0 or more, got '\(bad)'")
            }
        }
    }

    /// The rule on the mean tokens per training text: 64 and more pretrains one epoch, less does
    /// not; a fixed number is obeyed whatever the texts; no bidirectional encoder, an
    /// `--init-encoder` or `--glove` vectors: off.
    func testRuleFiresAtTheThresholdOnly() {
        func sequences(meanTokens: Int) -> [[Int32]] {
            // Two texts of meanTokens - 1 and meanTokens + 1 tokens: the mean is exact.
            [Array(repeating: 5, count: meanTokens - 1), Array(repeating: 6, count: meanTokens + 1)]
        }
        var options = autoOptions()
        let short = ClassificationPretraining.decide(options, trainingSequences: sequences(meanTokens: 63))
        XCTAssertEqual(short.epochs, 0)
        XCTAssertEqual(short.mode, "auto")
        XCTAssertEqual(short.meanTokens, 63)
        XCTAssertTrue(short.reason.hasPrefix("off: the 2 training texts average 63.0 tokens after truncation to 400, fewer than 64"), short.reason)
        let long = ClassificationPretraining.decide(options, trainingSequences: sequences(meanTokens: 64))
        XCTAssertEqual(long.epochs, 1)
        XCTAssertTrue(long.reason.hasPrefix("1 epoch(s): the 2 training texts average 64.0 tokens after truncation to 400, at least 64"), long.reason)
        XCTAssertTrue(long.logLine.hasPrefix("pretraining (--pretrain-epochs auto): 1 epoch(s)"), long.logLine)

        options.bidirectional = false
        XCTAssertEqual(ClassificationPretraining.decide(options, trainingSequences: sequences(meanTokens: 200)).epochs, 0)
        options.bidirectional = true
        options.initEncoder = "some-masked-model"
        XCTAssertEqual(ClassificationPretraining.decide(options, trainingSequences: sequences(meanTokens: 200)).epochs, 0)
        options.initEncoder = nil
        options.wordVectors = "vectors.txt"
        XCTAssertTrue(ClassificationPretraining.decide(options, trainingSequences: sequences(meanTokens: 200)).reason.contains("--glove"))
        options.wordVectors = nil
        options.pretrainEpochs = .epochs(0)
        let forcedOff = ClassificationPretraining.decide(options, trainingSequences: sequences(meanTokens: 200))
        XCTAssertEqual(forcedOff.epochs, 0)
        XCTAssertEqual(forcedOff.mode, "fixed")
        options.pretrainEpochs = .epochs(2)
        XCTAssertEqual(ClassificationPretraining.decide(options, trainingSequences: sequences(meanTokens: 10)).epochs, 2)
    }

    /// On the short fixture texts auto does not fire and the model is bit for bit the one of
    /// `--pretrain-epochs 0`; on long texts it fires and the model is bit for bit that of
    /// `--pretrain-epochs 1` (the same tokenizer with [MASK], the same generator draws).
    func testAutoEqualsZeroOnShortTextsAndOneOnLongTexts() throws {
        let directory = try makeScratchDirectory(self)
        let short = TextSource(path: fixture, textColumn: "review", labelColumn: "sentiment")
        let long = try writeLongTexts()
        var fixed = autoOptions()
        func model(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path + "/model.safetensors")) }

        var lines: [String] = []
        _ = try ClassificationTraining.train(source: short, options: autoOptions(), output: directory + "/short-auto",
                                             log: { lines.append($0) }, writtenBy: "test")
        XCTAssertTrue(lines.contains { $0.hasPrefix("pretraining (--pretrain-epochs auto): off: the 180 training texts average") }, "\(lines)")
        XCTAssertFalse(lines.contains { $0.hasPrefix("pretraining epoch") })
        fixed.pretrainEpochs = .epochs(0)
        _ = try ClassificationTraining.train(source: short, options: fixed, output: directory + "/short-0", writtenBy: "test")
        XCTAssertEqual(try model(directory + "/short-auto"), try model(directory + "/short-0"))
        let shortConfig = try TrainedClassifier.load(from: directory + "/short-auto").configFile.training
        XCTAssertEqual(shortConfig["pretrain_epochs"], "0")
        XCTAssertTrue(shortConfig["pretraining"]?.hasPrefix("auto: off: ") == true, "\(shortConfig)")

        lines = []
        _ = try ClassificationTraining.train(source: long, options: autoOptions(), output: directory + "/long-auto",
                                             log: { lines.append($0) }, writtenBy: "test")
        XCTAssertTrue(lines.contains { $0.hasPrefix("pretraining (--pretrain-epochs auto): 1 epoch(s): the 180 training texts average") }, "\(lines)")
        XCTAssertEqual(lines.filter { $0.hasPrefix("pretraining epoch") && $0.contains(" nats") }.count, 1, "\(lines)")
        fixed.pretrainEpochs = .epochs(1)
        _ = try ClassificationTraining.train(source: long, options: fixed, output: directory + "/long-1", writtenBy: "test")
        XCTAssertEqual(try model(directory + "/long-auto"), try model(directory + "/long-1"))
        let longModel = try TrainedClassifier.load(from: directory + "/long-auto")
        XCTAssertNotNil(longModel.tokenizer.tokenToId("[MASK]"))
        XCTAssertEqual(longModel.configFile.training["pretrain_epochs"], "1")
        XCTAssertTrue(longModel.configFile.training["pretraining"]?.hasPrefix("auto: 1 epoch(s): ") == true)
    }

    /// Interrupted in fine-tuning epoch 2 after auto pretrained (12 masked steps, then 12 per
    /// fine-tuning epoch: the stop is asked for at step 12 + 12 + 2), `resume` reports the recorded
    /// decision, does not pretrain again, and ends with the uninterrupted run's weights.
    func testResumedAutoRunKeepsTheDecisionAndReachesTheSameWeights() throws {
        let directory = try makeScratchDirectory(self)
        let long = try writeLongTexts()
        var options = autoOptions()
        options.dropout = 0.2
        _ = try ClassificationTraining.train(source: long, options: options, output: directory + "/whole", writtenBy: "test")
        var steps = 0
        XCTAssertThrowsError(try ClassificationTraining.train(source: long, options: options, output: directory + "/parts",
                                                             writtenBy: "test", stopRequested: { steps += 1; return steps == 12 + 12 + 2 }))
        options.resume = true
        var lines: [String] = []
        _ = try ClassificationTraining.train(source: long, options: options, output: directory + "/parts", log: { lines.append($0) },
                                             writtenBy: "test")
        XCTAssertTrue(lines.contains { $0.hasPrefix("pretraining (--pretrain-epochs auto): 1 epoch(s)") && $0.hasSuffix("(as recorded in the checkpoint)") },
                      "\(lines)")
        XCTAssertFalse(lines.contains { $0.hasPrefix("pretraining epoch") }, "no second masked stage")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: directory + "/whole/model.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: directory + "/parts/model.safetensors")))
        XCTAssertEqual(try TrainedClassifier.load(from: directory + "/whole").configFile.training["pretraining"],
                       try TrainedClassifier.load(from: directory + "/parts").configFile.training["pretraining"])
    }
}
