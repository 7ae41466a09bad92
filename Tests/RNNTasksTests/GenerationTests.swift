import Foundation
import RNN
import RNNCore
import XCTest
@testable import RNNTasks

/// A predictor from a fixed table: the distribution of the next token depends on the last one.
final class TablePredictor: NextTokenPredictor {
    let table: [Int32: [Float]]
    private var last: [Int32] = []
    init(_ table: [Int32: [Double]]) { self.table = table.mapValues { $0.map { Float(log($0)) } } }
    var vocabularySize: Int { table.first!.value.count }
    func start(context: [Int32]) throws -> [Float] {
        last = [context.last!]
        return table[context.last!]!
    }
    func feed(_ tokens: [Int32]) throws -> [Float] {
        last = tokens
        return tokens.flatMap { table[$0]! }
    }
    func keep(rows: [Int]) { last = rows.map { last[$0] } }
}

/// Tokens: 0 end, 1 a, 2 b, 3 x, 4 y, 5 z. From the start: a 0.6, b 0.4; after a: x or y (0.5 each);
/// after b: z 0.99; after x, y, z: the end. Greedy takes a (0.6) and ends with P = 0.3; the most
/// probable continuation is b z <eos> with P = 0.396.
let constructedCase: [Int32: [Double]] = {
    let tiny = 1e-9
    return [
        0: [tiny, 0.6, 0.4, tiny, tiny, tiny],
        1: [tiny, tiny, tiny, 0.5, 0.5, tiny],
        2: [tiny, tiny, tiny, 0.01, tiny, 0.99],
        3: [1, tiny, tiny, tiny, tiny, tiny], 4: [1, tiny, tiny, tiny, tiny, tiny], 5: [1, tiny, tiny, tiny, tiny, tiny],
    ]
}()

final class GenerationTests: XCTestCase {
    let table = constructedCase

    func testBeamSearchFindsTheMostProbableContinuationWhereGreedyDoesNot() throws {
        var greedyOptions = GenerationOptions()
        greedyOptions.topK = 1
        let greedy = try sample(TablePredictor(table), context: [0], endId: 0, options: greedyOptions)
        XCTAssertEqual(greedy[0].ids, [1, 3, 0])

        let beams = try beamSearch(TablePredictor(table), context: [0], endId: 0, width: 2, maxTokens: 10, results: 2)
        XCTAssertEqual(beams[0].ids, [2, 5, 0])
        XCTAssertEqual(beams[0].stopped, .endToken)
        XCTAssertEqual(beams[0].logProbability, log(0.4 * 0.99), accuracy: 1e-5)

        // Brute force over every 3-token continuation agrees.
        var best = (ids: [Int32](), logP: -Double.infinity)
        for first in 0..<6 { for second in 0..<6 { for third in 0..<6 {
            let ids: [Int32] = [Int32(first), Int32(second), Int32(third)]
            let logP = log(table[0]![first]) + log(table[Int32(first)]![second]) + log(table[Int32(second)]![third])
            if logP > best.logP { best = (ids, logP) }
        } } }
        XCTAssertEqual(best.ids, beams[0].ids)
    }

    func testSamplingCandidatesFollowTemperatureTopKAndTopP() {
        let logP = [0.5, 0.3, 0.15, 0.05].map { Float(log($0)) }[...]
        let all = samplingCandidates(logP, temperature: 1, topK: nil, topP: nil)
        XCTAssertEqual(all.map(\.id), [0, 1, 2, 3])
        for (candidate, p) in zip(all, [0.5, 0.3, 0.15, 0.05]) { XCTAssertEqual(candidate.probability, p, accuracy: 1e-6) }

        let top2 = samplingCandidates(logP, temperature: 1, topK: 2, topP: nil)
        XCTAssertEqual(top2.map(\.id), [0, 1])
        XCTAssertEqual(top2[0].probability, 0.5 / 0.8, accuracy: 1e-6)

        XCTAssertEqual(samplingCandidates(logP, temperature: 1, topK: nil, topP: 0.7).map(\.id), [0, 1])
        XCTAssertEqual(samplingCandidates(logP, temperature: 1, topK: nil, topP: 0.45).map(\.id), [0])
        XCTAssertEqual(samplingCandidates(logP, temperature: 1, topK: nil, topP: 0.9).map(\.id), [0, 1, 2])
        XCTAssertEqual(samplingCandidates(logP, temperature: 1, topK: nil, topP: 1).count, 4)

        // Temperature 1/2 squares the probabilities before renormalising; a high one flattens them.
        let sharp = samplingCandidates(logP, temperature: 0.5, topK: nil, topP: nil)
        let squares = [0.25, 0.09, 0.0225, 0.0025], total = squares.reduce(0, +)
        for (candidate, p) in zip(sharp, squares) { XCTAssertEqual(candidate.probability, p / total, accuracy: 1e-6) }
        for candidate in samplingCandidates(logP, temperature: 1e4, topK: nil, topP: nil) {
            XCTAssertEqual(candidate.probability, 0.25, accuracy: 1e-3)
        }
    }

    func testSampledFrequenciesMatchTheProbabilitiesAndSeedsAreReproducible() {
        let logP = [0.5, 0.3, 0.15, 0.05].map { Float(log($0)) }[...]
        var options = GenerationOptions()
        options.topK = 3
        var generator = SeededGenerator(seed: 7)
        var counts = [0, 0, 0, 0]
        let draws = 20_000
        for _ in 0..<draws { counts[sampleToken(logP, options: options, generator: &generator)] += 1 }
        XCTAssertEqual(counts[3], 0, "top-k 3 never draws the fourth token")
        for (count, p) in zip(counts, [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95]) {
            XCTAssertEqual(Double(count) / Double(draws), p, accuracy: 0.015)
        }
    }

    func testTopK1IsGreedyForEverySeedAndSamplingIsReproducible() throws {
        var options = GenerationOptions()
        options.topK = 1
        options.samples = 3
        for seed: UInt64 in [1, 2, 99] {
            options.seed = seed
            XCTAssertEqual(try sample(TablePredictor(table), context: [0], endId: 0, options: options).map(\.ids), Array(repeating: [1, 3, 0], count: 3))
        }
        var random = GenerationOptions()
        random.samples = 8
        random.seed = 5
        let first = try sample(TablePredictor(table), context: [0], endId: 0, options: random).map(\.ids)
        let again = try sample(TablePredictor(table), context: [0], endId: 0, options: random).map(\.ids)
        XCTAssertEqual(first, again)
        XCTAssertGreaterThan(Set(first.map { $0.map(String.init).joined(separator: " ") }).count, 1, "8 samples at temperature 1 are not all alike")
    }
}

final class KneserNeyBigramTests: XCTestCase {
    // Pairs (0,1) ×2, (0,2), (1,2); V = 4. By hand: D = n₁/(n₁+2n₂) = 2/4; continuation counts
    // N₁₊(•1) = 1, N₁₊(•2) = 2, so D₁ = 1/3; N₁₊(••) = 3; P_cont = (1/18, 5/18, 11/18, 1/18);
    // P(1 | 0) = (2 − ½)/3 + ½·2/3·5/18 = 32/54.
    func bigram() throws -> KneserNeyBigram {
        try KneserNeyBigram(pairs: [(0, 1), (0, 1), (0, 2), (1, 2)] as [(Int32, Int32)], vocabularySize: 4)
    }

    func testProbabilitiesMatchTheHandComputedValues() throws {
        let model = try bigram()
        XCTAssertEqual(model.config.discount, 0.5, accuracy: 1e-12)
        XCTAssertEqual(model.config.unigramDiscount, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(model.probability(of: 1, after: 0), 32.0 / 54, accuracy: 1e-12)
        // Unseen context 3: the continuation distribution.
        XCTAssertEqual(model.probabilities(after: 3), [1.0 / 18, 5.0 / 18, 11.0 / 18, 1.0 / 18].map { $0 }, accuracy: 1e-12)
    }

    func testEveryConditionalDistributionSumsToOne() throws {
        let words: [Int32] = (0..<500).map { Int32(($0 * 7 + $0 / 3) % 23) }
        let model = try KneserNeyBigram(pairs: zip(words, words.dropFirst()).map { ($0, $1) }, vocabularySize: 30)
        for context in [0, 5, 17, 22, 29] {  // 29 never occurs
            let probabilities = model.probabilities(after: context)
            XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-9, "context \(context)")
            XCTAssertTrue(probabilities.allSatisfy { $0 > 0 })
            for next in [0, 3, 29] { XCTAssertEqual(model.probability(of: next, after: context), probabilities[next], accuracy: 1e-12) }
        }
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}

final class GenerationDetailsTests: XCTestCase {
    func testBannedTokensAreNeverGenerated() throws {
        let table = constructedCase
        var greedy = GenerationOptions()
        greedy.topK = 1
        // Without token 1 (a), greedy decoding must take b, then z.
        let predictor = BannedTokensPredictor(TablePredictor(table), banned: [1])
        XCTAssertEqual(try sample(predictor, context: [0], endId: 0, options: greedy)[0].ids, [2, 5, 0])
        var many = GenerationOptions()
        many.samples = 50
        many.temperature = 3
        let samples = try sample(BannedTokensPredictor(TablePredictor(table), banned: [1, 3]), context: [0], endId: 0, options: many)
        XCTAssertFalse(samples.contains { $0.ids.contains(1) || $0.ids.contains(3) })
    }

    func testWordLevelDecodingCleanup() {
        XCTAssertEqual(cleanUpTokenizationSpaces("what ' s a dog ' s favorite food ? i don ' t know , bones !"),
                       "what's a dog's favorite food? i don't know, bones!")
    }
}

/// The one-token stepper used for generation computes what the full forward path computes.
final class LanguageModelStepperTests: XCTestCase {
    func testStepperMatchesTheFullForwardPassForEveryCell() throws {
        for mode in [EmbeddingFold.Mode.off, .always] {
            try checkStepperMatchesTheFullForwardPass(foldMode: mode)
        }
    }

    /// `foldMode` `.always`: both paths look layer 0's input projection up in the folded table.
    private func checkStepperMatchesTheFullForwardPass(foldMode: EmbeddingFold.Mode) throws {
        for (cell, layers, tied) in [(CellType.lstm, 2, false), (.gru, 1, true), (.rnn, 2, false)] {
            var generator = SeededGenerator(seed: 11)
            let H = 20, E = tied ? 20 : 12, V = 37
            let recurrent = RecurrentConfig(cell: cell, inputSize: E, hiddenSize: H, layers: layers)
            let model = try LanguageModel(LanguageModelConfig(vocabularySize: V, embeddingDimension: E, recurrent: recurrent,
                                                              tieEmbeddings: tied), generator: &generator)
            model.embeddingFold.mode = foldMode
            let tokens: [Int32] = [3, 17, 0, 36, 5, 5, 22]
            let (full, _) = try model.logits(tokens: tokens, steps: tokens.count, batch: 1, training: false, generator: &generator)
            let stepper = try LanguageModelStepper(model: model)
            var history = stepper.emptyHistory()
            var logits = [Float](repeating: 0, count: V)
            for (t, token) in tokens.enumerated() {
                logits.withUnsafeMutableBufferPointer { stepper.step(token, history: &history, logits: $0.baseAddress!) }
                for v in 0..<V { XCTAssertEqual(logits[v], full.scalars[t * V + v], accuracy: 1e-4, "\(cell) \(foldMode) step \(t) token \(v)") }
            }
            XCTAssertEqual(model.embeddingFold.tableBytes > 0, foldMode == .always, "\(cell) \(foldMode)")
        }
    }
}
