import Foundation
import RNN
import RNNCore
import XCTest
@testable import RNNTasks

/// A scratch directory removed after the test.
func makeScratchDirectory(_ testCase: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "rnn-lm-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// Options for a small, fast model.
func tinyOptions() -> LanguageModelTrainingOptions {
    var options = LanguageModelTrainingOptions()
    options.hiddenSize = 24
    options.embeddingDimension = 24  // tied to the hidden size, as by default
    options.dropout = 0
    options.minFrequency = 1
    options.batchSize = 8
    options.validationSplit = 0.2
    options.training.epochs = 40
    options.training.learningRate = 0.02
    options.training.patience = nil
    return options
}

final class LanguageModellingTests: XCTestCase {
    /// Two sentences, each 20 times: "the cat sat" / "the dog ran". A model that has learnt them
    /// is sure of every token but the second (cat or dog, 1/2 each), so the best possible
    /// cross-entropy is ln 2 / 4 per token (perplexity 1.19); uniform guessing over the vocabulary is ≥ 9.
    func testPipelineLearnsASyntheticCorpusAndGenerationStopsAtTheEndToken() throws {
        let directory = try makeScratchDirectory(self)
        let data = directory + "/corpus.txt"
        try Array(repeating: "the cat sat\nthe dog ran", count: 20).joined(separator: "\n").write(toFile: data, atomically: true, encoding: .utf8)
        let result = try LanguageModelTraining.train(source: TextSource(path: data), options: tinyOptions(),
                                                     output: directory + "/model", writtenBy: "test")
        let validation = try XCTUnwrap(result.validation)
        XCTAssertLessThan(validation.perplexity, 1.5, "validation perplexity \(validation.perplexity)")
        XCTAssertEqual(validation.tokens, 8 * 4)  // 8 validation documents of 3 tokens + <eos>
        let bigram = try XCTUnwrap(result.bigramValidation)
        XCTAssertLessThan(bigram.perplexity, 2, "the bigram can learn this corpus too")

        let model = try TrainedLanguageModel.load(from: directory + "/model")
        var options = GenerationOptions()
        options.topK = 1
        let greedy = try model.generate(prompt: "the cat", options: options)
        XCTAssertEqual(greedy.map(\.text), ["the cat sat"])
        XCTAssertEqual(greedy[0].tokens, ["sat", "<eos>"])
        XCTAssertEqual(greedy[0].stopped, .endToken)

        options.maxTokens = 1
        let cut = try model.generate(prompt: "the dog", options: options)
        XCTAssertEqual(cut[0].tokens, ["ran"])
        XCTAssertEqual(cut[0].stopped, .maxTokens)

        // An unknown prompt word is [UNK], not a crash.
        options.maxTokens = 5
        let unknown = try model.generate(prompt: "the zebra", options: options)
        XCTAssertTrue(unknown[0].text.hasPrefix("the [UNK]"), unknown[0].text)
    }

    /// Corpus mode (char level, truncated BPTT over a stream, the last 10% for validation), then a
    /// save/load round trip: the reloaded model scores the held-out tail exactly as training did.
    func testCorpusModeAndSaveLoadRoundTrip() throws {
        let directory = try makeScratchDirectory(self)
        let text = String(repeating: "abcabd", count: 100)
        try text.write(toFile: directory + "/corpus.txt", atomically: true, encoding: .utf8)
        var options = tinyOptions()
        options.corpus = true
        options.tokenizer = .character
        options.bptt = 12
        options.batchSize = 4
        options.validationSplit = 0.1
        options.training.epochs = 15
        let result = try LanguageModelTraining.train(source: TextSource(path: directory + "/corpus.txt"), options: options,
                                                     output: directory + "/model", writtenBy: "test")
        let validation = try XCTUnwrap(result.validation)
        // a, b determined after the previous character; c or d equally likely: best ln 2 / 3 per character.
        XCTAssertLessThan(validation.crossEntropy, 0.5, "validation \(validation.crossEntropy) nats/char")

        let tail = String(text.suffix(60))
        try tail.write(toFile: directory + "/tail.txt", atomically: true, encoding: .utf8)
        let model = try TrainedLanguageModel.load(from: directory + "/model")
        let reloaded = try model.evaluate(source: TextSource(path: directory + "/tail.txt"), batchSize: 4)
        XCTAssertEqual(reloaded.tokens, validation.tokens)
        XCTAssertEqual(reloaded.crossEntropy, validation.crossEntropy, accuracy: 1e-5)
    }

    func testBigramModelSavesLoadsAndEvaluatesLikeTheInMemoryModel() throws {
        let directory = try makeScratchDirectory(self)
        let data = try XCTUnwrap(Bundle.module.path(forResource: "tiny-jokes", ofType: "csv", inDirectory: "Fixtures"))
        var options = tinyOptions()
        options.model = .bigram
        options.validationSplit = 0
        let source = TextSource(path: data, textColumn: "Joke")
        let result = try LanguageModelTraining.train(source: source, options: options, output: directory + "/bigram", writtenBy: "test")
        XCTAssertNil(result.validation)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/bigram/config.json"))) as? [String: Any]
        XCTAssertEqual(config?["task"] as? String, "lm")
        XCTAssertEqual((config?["model"] as? [String: Any])?["model"] as? String, "bigram")
        let tensors = try SafeTensors(contentsOf: directory + "/bigram/model.safetensors")
        // Every training target is one counted pair.
        XCTAssertEqual(Int(try tensors.tensor("bigram.count").scalars.reduce(0, +)), result.trainingTokens)
        XCTAssertTrue(tensors.names.contains("bigram.context") && tensors.names.contains("bigram.next"))

        let model = try TrainedLanguageModel.load(from: directory + "/bigram")
        let documents = try source.documents().map { model.encode($0) }
        let inMemory = try KneserNeyBigram(pairs: documentPairs(documents, endToken: model.endId), vocabularySize: model.tokenizer.vocabSize)
        let expected = inMemory.crossEntropySum(pairs: documentPairs(documents, endToken: model.endId))
        let evaluation = try model.evaluate(source: source)
        XCTAssertEqual(evaluation.tokens, expected.count)
        XCTAssertEqual(evaluation.crossEntropy, expected.nats / Double(expected.count), accuracy: 1e-9)

        // Greedy generation (top-k 1) follows the arg-max of P(· | last token) at every step.
        var options1 = GenerationOptions()
        options1.topK = 1
        options1.maxTokens = 6
        let generated = try model.generate(prompt: "why did the", options: options1)[0]
        var last = model.encode("why did the").last!
        for id in generated.ids {
            let probabilities = inMemory.probabilities(after: Int(last))
            XCTAssertEqual(id, probabilities.indices.max { probabilities[$0] < probabilities[$1] })
            last = Int32(id)
        }
    }

    /// `rnn lm train --resume`: two epochs then resumed to four, and a run stopped inside an epoch
    /// (Ctrl-C) then resumed, both end with the weights of four epochs in one go, bit for bit.
    func testResumeAfterAnEpochOrInsideOneReachesTheSameWeights() throws {
        let directory = try makeScratchDirectory(self)
        let data = try XCTUnwrap(Bundle.module.path(forResource: "tiny-jokes", ofType: "csv", inDirectory: "Fixtures"))
        let source = TextSource(path: data, textColumn: "Joke")
        var options = tinyOptions()
        options.dropout = 0.2
        options.batchSize = 2
        options.training.epochs = 4
        _ = try LanguageModelTraining.train(source: source, options: options, output: directory + "/whole", writtenBy: "test")
        let whole = try Data(contentsOf: URL(fileURLWithPath: directory + "/whole/model.safetensors"))

        options.training.epochs = 2
        _ = try LanguageModelTraining.train(source: source, options: options, output: directory + "/epochs", writtenBy: "test")
        options.training.epochs = 4
        options.resume = true
        _ = try LanguageModelTraining.train(source: source, options: options, output: directory + "/epochs", writtenBy: "test")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: directory + "/epochs/model.safetensors")), whole)

        options.resume = false
        var steps = 0
        XCTAssertThrowsError(try LanguageModelTraining.train(source: source, options: options, output: directory + "/inside",
                                                             writtenBy: "test", stopRequested: { steps += 1; return steps == 5 })) { error in
            XCTAssertNotNil((error as? TrainingInterrupted)?.state.partialEpoch)
        }
        options.resume = true
        _ = try LanguageModelTraining.train(source: source, options: options, output: directory + "/inside", writtenBy: "test")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: directory + "/inside/model.safetensors")), whole)

        // A checkpoint of other options is refused in one line.
        options.hiddenSize = 32
        options.embeddingDimension = 32
        XCTAssertThrowsError(try LanguageModelTraining.train(source: source, options: options, output: directory + "/inside",
                                                             writtenBy: "test")) { error in
            XCTAssertTrue("\(error)".contains("the checkpoint was made with other data or model options"), "\(error)")
        }
    }

    func testBadInputGivesClearErrors() throws {
        let directory = try makeScratchDirectory(self)
        try "".write(toFile: directory + "/empty.txt", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LanguageModelTraining.train(source: TextSource(path: directory + "/empty.txt"), options: tinyOptions(),
                                                             output: directory + "/m", writtenBy: "test")) { error in
            XCTAssertTrue(error is RNNError, "\(error)")
        }
        var options = GenerationOptions()
        for topP in [0.0, -0.1, 1.5] {
            options.topP = topP
            XCTAssertThrowsError(try options.validate()) { XCTAssertTrue(($0 as? RNNError)?.message.contains("--top-p") == true) }
        }
        options.topP = 1
        XCTAssertNoThrow(try options.validate())
        for temperature in [0.0, -1] {
            options.temperature = temperature
            XCTAssertThrowsError(try options.validate()) { XCTAssertTrue(($0 as? RNNError)?.message.contains("--temperature") == true) }
        }

        // A tokenizer that does not belong to the model, and a prompt longer than the model allows.
        let data = try XCTUnwrap(Bundle.module.path(forResource: "tiny-jokes", ofType: "csv", inDirectory: "Fixtures"))
        var training = tinyOptions()
        training.model = .bigram
        training.maxLength = 4
        training.validationSplit = 0
        _ = try LanguageModelTraining.train(source: TextSource(path: data, textColumn: "Joke"), options: training,
                                            output: directory + "/words", writtenBy: "test")
        var generation = GenerationOptions()
        generation.maxTokens = 3
        XCTAssertThrowsError(try TrainedLanguageModel.load(from: directory + "/words").generate(prompt: "one two three four five", options: generation)) {
            XCTAssertTrue(($0 as? RNNError)?.message.contains("prompt") == true, "\($0)")
        }
        training.tokenizer = .character
        _ = try LanguageModelTraining.train(source: TextSource(path: data, textColumn: "Joke"), options: training,
                                            output: directory + "/chars", writtenBy: "test")
        try FileManager.default.removeItem(atPath: directory + "/words/tokenizer.json")
        try FileManager.default.copyItem(atPath: directory + "/chars/tokenizer.json", toPath: directory + "/words/tokenizer.json")
        XCTAssertThrowsError(try TrainedLanguageModel.load(from: directory + "/words")) {
            XCTAssertTrue(($0 as? RNNError)?.message.contains("do not belong together") == true, "\($0)")
        }
    }
}
