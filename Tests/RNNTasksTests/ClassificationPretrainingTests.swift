import Foundation
import RNN
import RNNCore
import RNNText
@testable import RNNTasks
import XCTest

/// `classify train --pretrain-epochs N`: the masked stage on the training texts, then fine-tuning.
final class ClassificationPretrainingTests: XCTestCase {
    private var fixture: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("tiny-sentiment.csv").path
    }

    private func options(pretrainEpochs: Int) -> ClassifierTrainingOptions {
        var options = ClassifierTrainingOptions()
        options.hiddenSize = 16
        options.embeddingDimension = 16
        options.batchSize = 16
        options.validationSplit = 0.25
        options.minFrequency = 1
        options.dropout = 0
        options.training.epochs = 4
        options.training.learningRate = 0.01
        options.pretrainEpochs = pretrainEpochs
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
                                                             log: { lines.append($0) })
        XCTAssertEqual(history.count, 3)
        XCTAssertLessThan(history[2].trainLoss, history[0].trainLoss, "masked cross-entropy: \(history.map(\.trainLoss))")
        XCTAssertLessThan(history[0].trainLoss, log(Double(tokenizer.vocabSize)) + 0.5, "starts near uniform over the vocabulary")
        XCTAssertNotEqual(classifier.store.tensor(try XCTUnwrap(classifier.store.parameter(named: "rnn.weight_ih_l0"))), encoderBefore)
        XCTAssertEqual(classifier.store.tensor(classifier.head.weight), headBefore)
        XCTAssertEqual(lines.filter { $0.hasPrefix("pretraining epoch") && $0.contains(" nats") }.count, 3)
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
                                                             log: { lines.append($0) })
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
            XCTAssertTrue("\(error)".contains("--pretrain-epochs must be 0 or more"), "\(error)")
        }
    }
}
