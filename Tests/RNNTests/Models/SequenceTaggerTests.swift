import RNN
import RNNCore
import XCTest

final class SequenceTaggerTests: XCTestCase {
    /// Three sentences of 3, 1 and 2 words; words of 1 to 4 characters.
    private func batch() throws -> TaggerBatch {
        try TaggerBatch(words: [[2, 3, 1], [4], [5, 2]],
                        characters: [[[1, 2, 3], [4], [2, 5, 6, 3]], [[3, 3]], [[6, 1], [2, 5]]])
    }

    private func config(layers: Int, dropout: Float) -> TaggerConfig {
        TaggerConfig(wordVocabularySize: 6, wordEmbeddingDimension: 3, characterVocabularySize: 7, characterEmbeddingDimension: 2,
                     characterHiddenSize: 2, hiddenSize: 3, layers: layers, dropout: dropout, tags: ["A", "B", "C", "D"])
    }

    func testBatchLaysOutWordsAndCharactersTimeMajor() throws {
        let batch = try batch()
        XCTAssertEqual(batch.words.tokens, [2, 4, 5, 3, 0, 2, 1, 0, 0])
        XCTAssertEqual(batch.wordPositions, [0, 1, 2, 3, 5, 6], "time-major order of the real positions")
        XCTAssertEqual(batch.characterLengths, [3, 2, 2, 1, 2, 4])
        XCTAssertEqual(batch.characterSteps, 4)
        // Character step 0 of the six words, then step 1, ...
        XCTAssertEqual(Array(batch.characters[0..<6]), [1, 3, 6, 4, 2, 2])
        XCTAssertEqual(Array(batch.characters[18..<24]), [0, 0, 0, 0, 0, 3])
        XCTAssertEqual(try SequenceTagger.targets([[0, 1, 2], [3], [1, 1]], for: batch),
                       [0, 3, 1, 1, -100, 1, 2, -100, -100])
        XCTAssertThrowsError(try TaggerBatch(words: [[1]], characters: [[[]]])) { error in
            XCTAssertTrue("\(error)".contains("has no characters"))
        }
    }

    /// Every parameter (both embeddings, the character BiLSTM, the sentence BiLSTM, the output
    /// layer) against central differences of the real training loss: softmax cross-entropy over
    /// real tokens with padding ignored, two stacked layers, dropout active with a fixed mask.
    func testWholeModelGradientsMatchFiniteDifferences() throws {
        for (layers, dropout) in [(2, Float(0.2))] {
            var generator = SeededGenerator(seed: 11)
            let model = try SequenceTagger(config(layers: layers, dropout: dropout), generator: &generator)
            let batch = try batch()
            let targets = try SequenceTagger.targets([[0, 1, 2], [3], [1, 1]], for: batch)
            func loss() throws -> Double {
                var dropoutGenerator = SeededGenerator(seed: 5)
                let logits = try model.logits(batch, training: true, generator: &dropoutGenerator)
                return Double(try SoftmaxCrossEntropy.compute(logits: logits.reshaped([9, 4]), targets: targets).loss)
            }
            model.store.zeroGradients()
            var stepGenerator = SeededGenerator(seed: 5)
            let step = try model.trainStep(batch, targets: targets, generator: &stepGenerator)
            XCTAssertEqual(step.count, 6, "six real tokens")
            XCTAssertEqual(step.loss, try loss(), accuracy: 1e-6)
            XCTAssertEqual(model.store.parameters.map(\.name).filter { !$0.contains("_l") },
                           ["word_embedding.weight", "char_embedding.weight", "fc.weight", "fc.bias"])
            for parameter in model.store.parameters {
                XCTAssertTrue(["word_embedding.", "char_embedding.", "char_rnn.", "rnn.", "fc."].contains { parameter.name.hasPrefix($0) })
                let analytic = model.store.gradientTensor(parameter).scalars
                try checkGradient("layers \(layers) \(parameter.name)", values: model.store.values(of: parameter),
                                  count: parameter.count, analytic: analytic, loss: loss)
            }
        }
    }

    /// The character vector of a word does not depend on its neighbours in the batch, nor on its
    /// word id: padding and batch composition must not leak into it.
    func testPredictionsDoNotDependOnBatchComposition() throws {
        var generator = SeededGenerator(seed: 3)
        let model = try SequenceTagger(config(layers: 1, dropout: 0.3), generator: &generator)
        let alone = try TaggerBatch(words: [[5, 2]], characters: [[[6, 1], [2, 5]]])
        var evaluation = SeededGenerator(seed: 0)
        let single = try model.logits(alone, training: false, generator: &evaluation)
        let together = try model.logits(batch(), training: false, generator: &evaluation)
        for t in 0..<2 {
            for k in 0..<4 {
                XCTAssertEqual(single.scalars[t * 4 + k], together.scalars[(t * 3 + 2) * 4 + k], accuracy: 1e-5)
            }
        }
        XCTAssertEqual(try model.predict(batch()).map(\.count), [3, 1, 2])
    }

    func testSummaryCountsEveryParameterAndBadConfigsAreClearErrors() throws {
        var generator = SeededGenerator(seed: 1)
        let config = TaggerConfig(wordVocabularySize: 100, wordEmbeddingDimension: 8, characterVocabularySize: 20,
                                  characterEmbeddingDimension: 4, characterHiddenSize: 5, hiddenSize: 6, tags: ["N", "V"])
        let model = try SequenceTagger(config, generator: &generator)
        // PyTorch: Embedding(100, 8) + Embedding(20, 4) + LSTM(4, 5, bidi) + LSTM(18, 6, bidi) + Linear(12, 2)
        let characterLSTM = 2 * (4 * 5 * 4 + 4 * 5 * 5 + 2 * 4 * 5)
        let sentenceLSTM = 2 * (4 * 6 * 18 + 4 * 6 * 6 + 2 * 4 * 6)
        XCTAssertEqual(model.store.scalarCount, 800 + 80 + characterLSTM + sentenceLSTM + 26)
        XCTAssertEqual(model.summary().rows.map(\.parameterCount).reduce(0, +), model.store.scalarCount)

        var noTags = config
        noTags.tags = []
        XCTAssertThrowsError(try SequenceTagger(noTags, generator: &generator)) { XCTAssertTrue("\($0)".contains("tag set is empty")) }
        var mismatched = config
        mismatched.recurrent.inputSize = 7
        XCTAssertThrowsError(try SequenceTagger(mismatched, generator: &generator)) { XCTAssertTrue("\($0)".contains("must equal the word features 18")) }
    }
}
