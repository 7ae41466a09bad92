import Foundation
import RNN
import RNNCore
import XCTest
@testable import RNNTasks

final class LanguageModellingMultiStepTests: XCTestCase {
    /// Two labels with disjoint vocabularies: colour sentences and animal sentences. Conditioned
    /// on the label alone (empty prompt), greedy and sampled generation stay in that label's words.
    func testConditionedGenerationFollowsTheLabelAndSurvivesARoundTrip() throws {
        let directory = try makeScratchDirectory(self)
        let colours = ["red", "green", "blue", "pink"], animals = ["cat", "dog", "fish", "bird"]
        var generator = SeededGenerator(seed: 3)
        var rows = ["text,kind"]
        for index in 0..<60 {
            let words = index % 2 == 0 ? colours : animals
            let sentence = (0..<3).map { _ in words[Int(generator.nextUnitFloat() * 4) % 4] }.joined(separator: " ")
            rows.append("\(sentence),\(index % 2 == 0 ? "colour" : "animal")")
        }
        try rows.joined(separator: "\n").write(toFile: directory + "/data.csv", atomically: true, encoding: .utf8)
        var options = tinyOptions()
        options.conditionColumn = "kind"
        options.tieEmbeddings = false
        options.training.epochs = 30
        let result = try LanguageModelTraining.train(source: TextSource(path: directory + "/data.csv"), options: options,
                                                     output: directory + "/model", writtenBy: "test")
        let validation = try XCTUnwrap(result.validation)

        let model = try TrainedLanguageModel.load(from: directory + "/model")
        XCTAssertEqual(model.conditions, ["animal", "colour"])
        let reloaded = try model.evaluateHeads(source: TextSource(path: directory + "/data.csv"))
        XCTAssertEqual(reloaded.count, 1)
        XCTAssertLessThan(reloaded[0].crossEntropy, validation.crossEntropy + 0.5, "the whole file scores like validation")
        for (label, words) in [("colour", colours), ("animal", animals)] {
            var generation = GenerationOptions()
            generation.condition = label
            generation.samples = 5
            generation.temperature = 0.7
            for sample in try model.generate(prompt: "", options: generation) {
                let generated = sample.tokens.filter { $0 != "<eos>" }
                XCTAssertFalse(generated.isEmpty)
                XCTAssertTrue(generated.allSatisfy(words.contains), "\(label): \(sample.text)")
            }
        }

        var generation = GenerationOptions()
        generation.condition = "vegetable"
        XCTAssertThrowsError(try model.generate(prompt: "", options: generation)) { error in
            XCTAssertTrue("\(error)".contains("animal, colour"), "\(error)")
        }
        generation.condition = nil
        XCTAssertThrowsError(try model.generate(prompt: "", options: generation)) { error in
            XCTAssertTrue("\(error)".contains("--condition"), "\(error)")
        }
    }

    /// Two fixed documents: after the first word every token is determined, so head 2 (token t+2)
    /// is right nearly everywhere; two tokens per step regenerate a whole document greedily.
    func testPredictAheadHeadsLearnAndEmitSeveralTokensPerStep() throws {
        let directory = try makeScratchDirectory(self)
        try Array(repeating: "a b c d e\nf g h i j", count: 20).joined(separator: "\n")
            .write(toFile: directory + "/corpus.txt", atomically: true, encoding: .utf8)
        var options = tinyOptions()
        options.predictAhead = 3
        options.tieEmbeddings = false
        let result = try LanguageModelTraining.train(source: TextSource(path: directory + "/corpus.txt"), options: options,
                                                     output: directory + "/model", writtenBy: "test")
        XCTAssertEqual(result.heads.map(\.head), [1, 2, 3])
        // Every determined target right: head 1 ≥ 5/6 (only the first word is a coin toss), head 2 ≥ 4/5.
        XCTAssertGreaterThanOrEqual(result.heads[0].accuracy, 5.0 / 6 - 1e-9)
        XCTAssertGreaterThanOrEqual(result.heads[1].accuracy, 0.8 - 1e-9)
        XCTAssertEqual(result.heads[2].tokens, 8 * 4)  // 8 validation documents, 6 targets each, the last two past the end

        let model = try TrainedLanguageModel.load(from: directory + "/model")
        XCTAssertEqual(model.heads, 3)
        let reloaded = try model.evaluateHeads(source: TextSource(path: directory + "/corpus.txt"))
        XCTAssertEqual(reloaded.map(\.head), [1, 2, 3])
        XCTAssertGreaterThanOrEqual(reloaded[1].accuracy, 0.8 - 1e-9)
        var generation = GenerationOptions()
        generation.topK = 1
        generation.tokensPerStep = 2
        let greedy = try model.generate(prompt: "f", options: generation)
        XCTAssertEqual(greedy[0].text, "f g h i j")
        XCTAssertEqual(greedy[0].stopped, .endToken)
        generation.tokensPerStep = 4
        XCTAssertThrowsError(try model.generate(prompt: "f", options: generation)) { error in
            XCTAssertTrue("\(error)".contains("3 heads"), "\(error)")
        }
        generation.tokensPerStep = 1
        generation.condition = "x"
        XCTAssertThrowsError(try model.generate(prompt: "f", options: generation)) { error in
            XCTAssertTrue("\(error)".contains("not conditioned"), "\(error)")
        }
    }

    func testBadMultiStepOptionsAreClearErrors() throws {
        let directory = try makeScratchDirectory(self)
        try "text,kind\na b,x\nc d,y\n".write(toFile: directory + "/data.csv", atomically: true, encoding: .utf8)
        func failure(_ change: (inout LanguageModelTrainingOptions) -> Void) -> String {
            var options = tinyOptions()
            change(&options)
            do {
                _ = try LanguageModelTraining.train(source: TextSource(path: directory + "/data.csv"), options: options,
                                                    output: directory + "/model", writtenBy: "test")
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(failure { $0.predictAhead = 0 }.contains("--predict-ahead"))
        XCTAssertTrue(failure { $0.conditionColumn = "kind"; $0.corpus = true }.contains("--corpus"))
        XCTAssertTrue(failure { $0.conditionColumn = "kind"; $0.model = .bigram }.contains("--model rnn"))
        XCTAssertTrue(failure { $0.conditionColumn = "mood" }.contains("mood"))
    }
}
