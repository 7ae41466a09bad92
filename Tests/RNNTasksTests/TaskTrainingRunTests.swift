import Foundation
import RNN
import RNNCore
import XCTest
@testable import RNNTasks

/// Where the trainer stands, seen through `onEvent`, so a test can ask to stop at a given step.
private final class StepWatch {
    var epoch = 0, batch = 0
    func record(_ event: TrainingEvent) {
        if case .batch(let epoch, let batch, _, _, _, _, _) = event { (self.epoch, self.batch) = (epoch, batch) }
    }
}

/// One training call of a task: `output`, `epochs`, `resume`, `stopRequested`, `onEvent`.
private typealias TrainCall = (String, Int, Bool, @escaping () -> Bool, (TrainingEvent) -> Void) throws -> Void

/// `--resume` through the shared `TaskTrainingRun` for the tasks that had no checkpoints before
/// (tag, forecast, multi-step and masked language models) and for translation: three epochs in
/// one go, two epochs then resumed to three, and a run stopped (Ctrl-C) after step 2 of epoch 2
/// then resumed, all end with the same `model.safetensors`, bit for bit. Dropout is on, so the
/// generator's state must come back too, and the best epoch is not restored, so the last epoch
/// decides the saved weights.
final class TaskTrainingRunTests: XCTestCase {
    private func assertResumeIsBitIdentical(_ train: TrainCall, file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = try makeScratchDirectory(self)
        func weights(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name + "/model.safetensors")) }
        try train(directory + "/whole", 3, false, { false }, { _ in })

        try train(directory + "/epochs", 2, false, { false }, { _ in })
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/epochs/checkpoint/trainer.json"), file: file, line: line)
        try train(directory + "/epochs", 3, true, { false }, { _ in })
        XCTAssertEqual(try weights("epochs"), try weights("whole"), "resumed after an epoch", file: file, line: line)

        let watch = StepWatch()
        XCTAssertThrowsError(try train(directory + "/inside", 3, false, { watch.epoch == 2 && watch.batch == 2 }, watch.record),
                             file: file, line: line) { error in
            let interrupted = error as? TrainingInterrupted
            XCTAssertEqual(interrupted?.state.partialEpoch?.epoch, 2, "\(error)", file: file, line: line)
            XCTAssertEqual(interrupted?.state.partialEpoch?.batchesDone, 2, file: file, line: line)
            XCTAssertEqual(interrupted?.message, "interrupted in epoch 2 after step 2; saved the checkpoint \(directory)/inside/checkpoint. "
                           + "Continue with the same command and --resume", file: file, line: line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/inside/model.safetensors"), file: file, line: line)
        try train(directory + "/inside", 3, true, { false }, { _ in })
        XCTAssertEqual(try weights("inside"), try weights("whole"), "resumed inside an epoch", file: file, line: line)
    }

    private func writeLines(_ lines: [String], to path: String) throws {
        try lines.joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    func testTaggerResumesBitIdentical() throws {
        let fixture = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("tiny-tagging.conllu").path
        try assertResumeIsBitIdentical { output, epochs, resume, stop, onEvent in
            var options = TaggerTrainingOptions()
            options.hiddenSize = 8
            options.wordEmbeddingDimension = 8
            options.characterEmbeddingDimension = 4
            options.characterHiddenSize = 4
            options.dropout = 0.2
            options.wordDropout = 0.5
            options.batchSize = 16
            options.training.epochs = epochs
            options.training.restoreBest = false  // the last epoch's weights, so every epoch counts
            options.resume = resume
            _ = try TaggingTraining.train(data: fixture, options: options, output: output, onEvent: onEvent, writtenBy: "test",
                                          stopRequested: stop)
        }
    }

    func testForecasterResumesBitIdentical() throws {
        var generator = SeededGenerator(seed: 5)
        let values = (0..<150).map { t in Foundation.sin(Double(t) / 3) + 0.1 * generator.nextNormal() }
        let table = TimeSeriesTable(path: "synthetic", names: ["value"], columns: [values])
        try assertResumeIsBitIdentical { output, epochs, resume, stop, onEvent in
            var options = ForecasterTrainingOptions()
            options.window = 8
            options.hiddenSize = 8
            options.layers = 2
            options.dropout = 0.2
            options.batchSize = 16
            options.training.epochs = epochs
            options.training.restoreBest = false  // the last epoch's weights, so every epoch counts
            options.training.patience = nil
            options.resume = resume
            _ = try ForecasterTraining.train(table: table, options: options, output: output, onEvent: onEvent, writtenBy: "test",
                                             stopRequested: stop)
        }
    }

    func testMultiStepLanguageModelResumesBitIdentical() throws {
        let directory = try makeScratchDirectory(self)
        let data = directory + "/lines.txt"
        try writeLines(Array(repeating: ["the cat sat on the mat", "a dog ran in the park", "the bird sang a song"], count: 8).flatMap { $0 },
                       to: data)
        try assertLanguageModelResumeIsBitIdentical(data: data) { $0.predictAhead = 2 }
    }

    func testMaskedLanguageModelResumesBitIdentical() throws {
        let directory = try makeScratchDirectory(self)
        let data = directory + "/pairs.txt"
        try writeLines(Array(repeating: ["red apple", "yellow banana", "green grass", "blue sky"], count: 8).flatMap { $0 }, to: data)
        try assertLanguageModelResumeIsBitIdentical(data: data) { options in
            options.objective = .masked
            options.cell = .gru
            options.hiddenSize = 8
            options.embeddingDimension = 8
        }
    }

    /// `assertResumeIsBitIdentical` for a small untied language model with dropout on `data`,
    /// which `configure` turns into the variant under test.
    private func assertLanguageModelResumeIsBitIdentical(data: String, configure: (inout LanguageModelTrainingOptions) -> Void,
                                                         file: StaticString = #filePath, line: UInt = #line) throws {
        try assertResumeIsBitIdentical({ output, epochs, resume, stop, onEvent in
            var options = tinyOptions()
            options.tieEmbeddings = false
            options.dropout = 0.2
            options.batchSize = 4
            configure(&options)
            options.training.epochs = epochs
            options.training.restoreBest = false  // the last epoch's weights, so every epoch counts
            options.resume = resume
            _ = try LanguageModelTraining.train(source: TextSource(path: data), options: options, output: output, onEvent: onEvent,
                                                writtenBy: "test", stopRequested: stop)
        }, file: file, line: line)
    }

    func testTranslationResumesBitIdentical() throws {
        let directory = try makeScratchDirectory(self)
        let de = directory + "/t.de", en = directory + "/t.en"
        try writeLines(["ein Hund läuft", "zwei Katzen", "ein Hund", "zwei Hunde laufen", "eine Katze läuft", "eine Katze", "zwei Hunde"], to: de)
        try writeLines(["a dog runs", "two cats", "a dog", "two dogs run", "a cat runs", "a cat", "two dogs"], to: en)
        try assertResumeIsBitIdentical { output, epochs, resume, stop, onEvent in
            var options = TranslationTrainingOptions()
            options.hiddenSize = 8
            options.embeddingDimension = 6
            options.minFrequency = 1
            options.maxLength = 6
            options.validationSplit = 0
            options.validationSource = de
            options.validationTarget = en
            options.dropout = 0.2
            options.scheduledSampling = 0.2
            options.batchSize = 2
            options.beam = BeamSearchOptions(beamSize: 2, maxLength: 6)
            options.training.epochs = epochs
            options.training.restoreBest = false  // the last epoch's weights, so every epoch counts
            options.resume = resume
            _ = try TranslationTraining.train(corpus: ParallelCorpus(source: de, target: en), options: options, output: output,
                                              onEvent: onEvent, writtenBy: "test", stopRequested: stop)
        }
        var options = TranslationTrainingOptions()
        options.minFrequency = 1
        options.validationSplit = 0
        options.resume = true
        XCTAssertThrowsError(try TranslationTraining.train(corpus: ParallelCorpus(source: de, target: en), options: options,
                                                           output: directory + "/none", writtenBy: "test")) { error in
            XCTAssertEqual((error as? RNNError)?.message, "\(directory)/none: no checkpoint to resume from (expected checkpoint/trainer.json)")
        }
    }

    /// A checkpoint of other options is refused in one line, before any training.
    func testCheckpointOfOtherOptionsIsRefused() throws {
        let directory = try makeScratchDirectory(self)
        let fixture = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("tiny-tagging.conllu").path
        var options = TaggerTrainingOptions()
        options.hiddenSize = 8
        options.wordEmbeddingDimension = 8
        options.characterEmbeddingDimension = 4
        options.characterHiddenSize = 4
        options.training.epochs = 1
        _ = try TaggingTraining.train(data: fixture, options: options, output: directory + "/m", writtenBy: "test")
        options.hiddenSize = 10
        options.resume = true
        XCTAssertThrowsError(try TaggingTraining.train(data: fixture, options: options, output: directory + "/m", writtenBy: "test")) { error in
            XCTAssertEqual((error as? RNNError)?.message,
                           "\(directory)/m: the checkpoint was made with other data or model options; resume with those of the interrupted run")
        }
        XCTAssertThrowsError(try TaggingTraining.train(data: fixture, options: options, output: directory + "/none", writtenBy: "test")) { error in
            XCTAssertTrue(((error as? RNNError)?.message ?? "").contains("no checkpoint to resume from"), "\(error)")
        }
    }
}
