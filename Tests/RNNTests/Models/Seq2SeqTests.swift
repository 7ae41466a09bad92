import RNN
import RNNCore
import XCTest

final class Seq2SeqTests: XCTestCase {
    private func config(cell: CellType, attention: AttentionKind, layers: Int, bidirectional: Bool, dropout: Float) -> Seq2SeqConfig {
        Seq2SeqConfig(sourceVocabularySize: 7, targetVocabularySize: 8, embeddingDimension: 3, cell: cell, encoderHiddenSize: 3,
                      encoderLayers: layers, bidirectional: bidirectional, decoderHiddenSize: 4, decoderLayers: layers,
                      attention: attention, attentionSize: 3, dropout: dropout, startId: 2, endId: 3)
    }

    private func batch(_ config: Seq2SeqConfig) throws -> Seq2SeqBatch {
        try Seq2SeqBatch(sources: [[4, 5, 6], [5], [6, 4]], targets: [[4, 5], [7, 6, 5], []], config: config)
    }

    func testBatchShiftsTargetsForTeacherForcing() throws {
        let config = config(cell: .gru, attention: .luong, layers: 1, bidirectional: true, dropout: 0)
        let batch = try batch(config)
        XCTAssertEqual(batch.targetLengths, [3, 4, 1])
        XCTAssertEqual(batch.targetInput, [2, 2, 2, 4, 7, 0, 5, 6, 0, 0, 5, 0])
        XCTAssertEqual(batch.targetOutput, [4, 7, 3, 5, 6, -100, 3, 5, -100, -100, 3, -100])
    }

    /// Every parameter of the whole model against central differences of the training loss
    /// (per-token cross-entropy, padding ignored, dropout with a fixed mask), for GRU and LSTM,
    /// each attention and none, stacked and bidirectional.
    func testWholeModelGradientsMatchFiniteDifferences() throws {
        let cases: [(CellType, AttentionKind, Int, Bool, Float)] = [
            (.gru, .bahdanau, 1, true, 0.2), (.lstm, .luong, 2, true, 0), (.gru, .none, 2, false, 0), (.lstm, .bahdanau, 1, false, 0),
        ]
        for (cell, attention, layers, bidirectional, dropout) in cases {
            let what = "\(cell) \(attention) layers \(layers) bi \(bidirectional)"
            var generator = SeededGenerator(seed: 11)
            let config = config(cell: cell, attention: attention, layers: layers, bidirectional: bidirectional, dropout: dropout)
            let model = try Seq2Seq(config, generator: &generator)
            let batch = try batch(config)
            func loss() throws -> Double {
                var dropoutGenerator = SeededGenerator(seed: 5)
                let logits = try model.logits(batch, training: true, generator: &dropoutGenerator)
                return Double(try SoftmaxCrossEntropy.compute(logits: logits, targets: batch.targetOutput).loss)
            }
            model.store.zeroGradients()
            var stepGenerator = SeededGenerator(seed: 5)
            let step = try model.trainStep(batch, generator: &stepGenerator)
            XCTAssertEqual(step.count, 8, "eight target tokens, end tokens included")
            XCTAssertEqual(step.loss, try loss(), accuracy: 1e-6)
            for parameter in model.store.parameters {
                try checkGradient("\(what) \(parameter.name)", values: model.store.values(of: parameter), count: parameter.count,
                                  analytic: model.store.gradientTensor(parameter).scalars, loss: loss)
            }
        }
    }

    /// Greedy decoding (beam 1) must pick, step by step, the arg-max of the teacher-forced logits
    /// fed its own outputs; and a wider beam never finds a worse-scoring hypothesis.
    func testGreedyDecodingMatchesTeacherForcedArgMaxAndBeamScoresAtLeastAsWell() throws {
        for attention in [AttentionKind.bahdanau, .none] {
            var generator = SeededGenerator(seed: 3)
            let config = config(cell: .gru, attention: attention, layers: 2, bidirectional: true, dropout: 0)
            let model = try Seq2Seq(config, generator: &generator)
            let sources: [[Int32]] = [[4, 5, 6], [5], [6, 4, 4, 5]]
            let greedy = try model.decode(sources, options: BeamSearchOptions(beamSize: 1, maxLength: 6))
            for (source, decoded) in zip(sources, greedy) {
                // Re-run teacher-forced with the greedy output as target: every step's arg-max must match.
                let batch = try Seq2SeqBatch(sources: [source], targets: [decoded.tokens], config: config)
                let evaluation = try model.evaluate(batch)
                let expected = decoded.tokens + (decoded.tokens.count < 6 ? [Int32(config.endId)] : [])
                XCTAssertEqual(Array(evaluation.predictions.prefix(expected.count)), expected, "\(attention)")
                // Its log-probability is the sum of the teacher-forced log-softmax at the chosen tokens.
                var unused = SeededGenerator(seed: 0)
                let logits = try model.logits(batch, training: false, generator: &unused)
                var logProbability = 0.0
                for (t, token) in expected.enumerated() {
                    let row = logits.scalars[(t * config.targetVocabularySize)..<((t + 1) * config.targetVocabularySize)].map(Double.init)
                    let maximum = row.max()!
                    logProbability += row[Int(token)] - maximum - log(row.map { exp($0 - maximum) }.reduce(0, +))
                }
                XCTAssertEqual(decoded.logProbability, logProbability, accuracy: 1e-3 * max(1, abs(logProbability)))
            }
            let beam = try model.decode(sources, options: BeamSearchOptions(beamSize: 4, lengthPenalty: 0, maxLength: 6))
            let greedyRaw = try model.decode(sources, options: BeamSearchOptions(beamSize: 1, lengthPenalty: 0, maxLength: 6))
            for (wide, narrow) in zip(beam, greedyRaw) { XCTAssertGreaterThanOrEqual(wide.score, narrow.score - 1e-4) }
            // Decoding a sentence alone or in a batch gives the same result.
            let alone = try model.decode([sources[2]], options: BeamSearchOptions(beamSize: 4, maxLength: 6))
            let together = try model.decode(sources, options: BeamSearchOptions(beamSize: 4, maxLength: 6))
            XCTAssertEqual(alone[0].tokens, together[2].tokens)
        }
    }

    func testParameterNamesAndBadConfigs() throws {
        var generator = SeededGenerator(seed: 1)
        let model = try Seq2Seq(config(cell: .lstm, attention: .bahdanau, layers: 1, bidirectional: true, dropout: 0), generator: &generator)
        let prefixes = Set(model.store.parameters.map { String($0.name.prefix { $0 != "." }) })
        XCTAssertEqual(prefixes, ["encoder_embedding", "encoder", "bridge", "decoder_embedding", "decoder", "attention", "linear_out", "generator"])
        XCTAssertNotNil(model.store.parameter(named: "encoder.weight_ih_l0_reverse"))
        XCTAssertNotNil(model.store.parameter(named: "decoder.weight_hh_l0"))
        XCTAssertEqual(model.summary().rows.map(\.parameterCount).reduce(0, +), model.store.scalarCount)
        var bad = config(cell: .gru, attention: .luong, layers: 1, bidirectional: true, dropout: 0)
        bad.endId = 8
        XCTAssertThrowsError(try Seq2Seq(bad, generator: &generator)) { XCTAssertTrue("\($0)".contains("end id 8 outside")) }
        let limited = try Seq2Seq(Seq2SeqConfig(sourceVocabularySize: 7, targetVocabularySize: 8, embeddingDimension: 3, encoderHiddenSize: 3,
                                                decoderHiddenSize: 3, startId: 2, endId: 3, maxSourceLength: 2), generator: &generator)
        XCTAssertThrowsError(try limited.decode([[4, 5, 6]])) { XCTAssertTrue("\($0)".contains("longer than the model's limit of 2")) }
    }
}
