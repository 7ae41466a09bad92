import RNN
import RNNCore
import XCTest

final class MaskedLanguageModelTests: XCTestCase {
    private func config(cell: CellType, layers: Int = 1, dropout: Float = 0) -> MaskedLanguageModelConfig {
        MaskedLanguageModelConfig(vocabularySize: 9, embeddingDimension: 3, paddingId: 0, maskId: 2, specialIds: [0, 1, 2],
                                  recurrent: RecurrentConfig(cell: cell, inputSize: 3, hiddenSize: 3, layers: layers,
                                                             bidirectional: true, dropout: layers > 1 ? dropout : 0),
                                  dropout: dropout)
    }

    /// Every parameter (embedding, both directions of one or two layers, output layer) against
    /// central differences of the real training loss: the mean cross-entropy at the masked
    /// positions only, with dropout active (the same mask in every evaluation) and a padded row.
    func testGradientsOfTheMaskedLossMatchFiniteDifferences() throws {
        for (cell, layers) in [(CellType.gru, 1), (.lstm, 2), (.rnn, 1)] {
            var generator = SeededGenerator(seed: 11)
            let model = try MaskedLanguageModel(config(cell: cell, layers: layers, dropout: 0.2), generator: &generator)
            // (T = 4, B = 2); row 1 has length 3. Inputs already corrupted: [MASK] = 2 at two positions.
            let batch = MaskedBatch(inputs: [3, 4, 2, 5, 6, 2, 7, 0], lengths: [4, 3], positions: [2, 5, 6], targets: [6, 8, 7])
            func loss() throws -> Double {
                var dropout = SeededGenerator(seed: 3)
                let logits = try model.logits(batch, training: true, generator: &dropout)
                return Double(try SoftmaxCrossEntropy.compute(logits: logits, targets: batch.targets).loss)
            }
            model.store.zeroGradients()
            var dropout = SeededGenerator(seed: 3)
            let step = try model.trainStep(batch, generator: &dropout)
            XCTAssertEqual(step.loss, try loss(), accuracy: 1e-5)
            XCTAssertEqual(step.count, 3)
            for parameter in model.store.parameters {
                var analytic = model.store.gradientTensor(parameter).scalars
                var count = parameter.count, offset = 0
                if parameter.name == "embedding.weight" {  // the padding row gets no gradient by design
                    XCTAssertEqual(Array(analytic.prefix(3)), [0, 0, 0])
                    offset = 3; count -= 3; analytic.removeFirst(3)
                }
                try checkGradient("\(cell) \(parameter.name)", values: model.store.values(of: parameter) + offset, count: count,
                                  analytic: analytic, epsilon: 3e-2, loss: loss)
            }
        }
    }

    /// Both sides matter: changing a token after a masked position changes its prediction (a
    /// unidirectional model could not see it), and unmasked positions do not enter the loss.
    func testPredictionUsesTheRightContextAndOnlyMaskedPositions() throws {
        var generator = SeededGenerator(seed: 2)
        let model = try MaskedLanguageModel(config(cell: .gru), generator: &generator)
        let before = MaskedBatch(inputs: [3, 2, 4], lengths: [3], positions: [1], targets: [5])
        var after = before
        after.inputs[2] = 7
        let a = try model.logits(before, training: false, generator: &generator)
        let b = try model.logits(after, training: false, generator: &generator)
        XCTAssertEqual(a.shape, [1, 9])
        XCTAssertGreaterThan(zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()!, 1e-4)
        model.store.zeroGradients()
        _ = try model.trainStep(before, generator: &generator)
        // Only the masked position's row gets output-layer input; the embedding of token 3 (left
        // context) still gets gradient through the recurrent layer.
        let embedding = model.store.gradientTensor(model.embedding.weight).scalars
        XCTAssertNotEqual(Array(embedding[9..<12]), [0, 0, 0])
        XCTAssertEqual(Array(embedding[15..<18]), [0, 0, 0])   // token 5 is only a target, never an input
    }

    /// The 80/10/10 corruption: about 15% of ordinary tokens become targets, of those about 80%
    /// read [MASK], 10% a random ordinary token and 10% themselves; special tokens and padding
    /// are never touched; the same seed gives the same batch.
    func testCorruptionFollowsBERTsProportions() throws {
        let V = 50
        let config = MaskedLanguageModelConfig(vocabularySize: V, embeddingDimension: 3, maskId: 2, specialIds: [0, 1, 2],
                                               recurrent: RecurrentConfig(cell: .gru, inputSize: 3, hiddenSize: 2, bidirectional: true))
        var source = SeededGenerator(seed: 9)
        let sequences: [[Int32]] = (0..<200).map { row in
            (0..<(50 + row % 50)).map { _ in Int32(1 + Int(source.next() % UInt64(V - 1))) }   // ids 1…49: [UNK] included
        }
        let batch = try TokenBatch(sequences: sequences, padding: 0)
        var generator = SeededGenerator(seed: 4)
        let masked = MaskedBatch(corrupting: batch, config: config, generator: &generator)
        var again = SeededGenerator(seed: 4)
        XCTAssertEqual(MaskedBatch(corrupting: batch, config: config, generator: &again), masked)

        let ordinary = batch.tokens.filter { $0 > 2 }.count
        let share = Double(masked.targets.count) / Double(ordinary)
        XCTAssertEqual(share, 0.15, accuracy: 0.01)
        var maskCount = 0, keptCount = 0, randomCount = 0
        for (position, target) in zip(masked.positions, masked.targets) {
            XCTAssertEqual(Int(batch.tokens[position]), target)
            XCTAssertGreaterThan(target, 2, "special tokens are never targets")
            let input = Int(masked.inputs[position])
            if input == 2 { maskCount += 1 } else if input == target { keptCount += 1 } else {
                randomCount += 1
                XCTAssertGreaterThan(input, 2, "random replacements are ordinary tokens")
            }
        }
        let n = Double(masked.targets.count)
        XCTAssertEqual(Double(maskCount) / n, 0.8, accuracy: 0.03)
        XCTAssertEqual(Double(randomCount) / n, 0.1, accuracy: 0.03)   // a random draw equal to the target counts as kept
        XCTAssertEqual(Double(keptCount) / n, 0.1, accuracy: 0.03)
        let targets = Set(masked.positions)
        for position in 0..<batch.tokens.count where !targets.contains(position) {
            XCTAssertEqual(masked.inputs[position], batch.tokens[position])
        }
    }

    /// A one-token text still gets a target (otherwise short texts would teach nothing); a text of
    /// only special tokens gets none.
    func testShortSequencesGetAtLeastOneTarget() throws {
        let config = config(cell: .gru)
        let batch = try TokenBatch(sequences: [[5], [1, 1], [3, 4]], padding: 0)
        for seed in 0..<20 as Range<UInt64> {
            var generator = SeededGenerator(seed: seed)
            let masked = MaskedBatch(corrupting: batch, config: config, generator: &generator)
            XCTAssertTrue(masked.positions.contains(0), "the one-token row is always a target")
            XCTAssertFalse(masked.positions.contains { $0 % 3 == 1 }, "row 1 is all [UNK]")
            XCTAssertTrue(masked.positions.contains { $0 % 3 == 2 })
        }
    }

    func testUnidirectionalEncoderAndBadIdsAreClearErrors() {
        var generator = SeededGenerator(seed: 1)
        var unidirectional = config(cell: .gru)
        unidirectional.recurrent.bidirectional = false
        XCTAssertThrowsError(try MaskedLanguageModel(unidirectional, generator: &generator)) { error in
            XCTAssertTrue("\(error)".contains("bidirectional"), "\(error)")
        }
        var badMask = config(cell: .gru)
        badMask.maskId = 9
        XCTAssertThrowsError(try MaskedLanguageModel(badMask, generator: &generator))
        var badShare = config(cell: .gru)
        badShare.randomTokenShare = 0.5
        XCTAssertThrowsError(try MaskedLanguageModel(badShare, generator: &generator))
    }

    func testParameterNamesAreTheClassifiersForTheEncoder() throws {
        var generator = SeededGenerator(seed: 1)
        let model = try MaskedLanguageModel(config(cell: .gru), generator: &generator)
        let names = model.store.parameters.map(\.name)
        XCTAssertEqual(names.first, "embedding.weight")
        XCTAssertTrue(names.contains("rnn.weight_ih_l0_reverse"))
        XCTAssertEqual(Array(names.suffix(2)), ["fc.weight", "fc.bias"])
        XCTAssertEqual(model.summary().rows.map(\.parameterCount).reduce(0, +), model.store.scalarCount)
    }
}
