import Foundation
@testable import RNN
import RNNCore
import XCTest

/// The embedding folded into the first recurrent layer's input projection (`EmbeddingFold`):
/// same outputs as the unfolded path, a table that follows every change of the weights, used
/// only in inference and only when it pays.
final class EmbeddingFoldTests: XCTestCase {
    /// 12 texts of lengths 1 … 7 over a 30-word vocabulary (12 rows: the step loop splits them
    /// over two threads when BLAS has two).
    private func batch(seed: UInt64 = 3) throws -> TokenBatch {
        var generator = SeededGenerator(seed: seed)
        let sequences = (0..<12).map { row in (0..<(1 + row % 7)).map { _ in Int32(1 + generator.next() % 29) } }
        return try TokenBatch(sequences: sequences, padding: 0)
    }

    private func classifier(cell: CellType, bidirectional: Bool, goBackwards: Bool = false, layers: Int = 1,
                            pooling: PoolingMode = .last, seed: UInt64 = 11) throws -> TextClassifier {
        var generator = SeededGenerator(seed: seed)
        var recurrent = RecurrentConfig(cell: cell, inputSize: 5, hiddenSize: 6, layers: layers, bidirectional: bidirectional)
        recurrent.goBackwards = goBackwards
        let config = ClassifierConfig(vocabularySize: 30, embeddingDimension: 5, recurrent: recurrent,
                                      pooling: pooling, dropout: 0.3, labels: ["a", "b", "c"])
        return try TextClassifier(config, generator: &generator)
    }

    private func logits(_ model: TextClassifier, _ mode: EmbeddingFold.Mode, batch: TokenBatch) throws -> Tensor {
        model.embeddingFold.mode = mode
        var generator = SeededGenerator(seed: 9)
        return try model.logits(batch, training: false, generator: &generator)
    }

    func testFoldedClassifierMatchesUnfoldedForEveryCellDirectionAndReading() throws {
        let batch = try batch()
        for cell in CellType.allCases {
            for (bidirectional, goBackwards, layers) in [(false, false, 1), (true, false, 2), (false, true, 1)] {
                let model = try classifier(cell: cell, bidirectional: bidirectional, goBackwards: goBackwards, layers: layers)
                let unfolded = try logits(model, .off, batch: batch)
                XCTAssertEqual(model.embeddingFold.tableBytes, 0)
                let folded = try logits(model, .always, batch: batch)
                XCTAssertEqual(model.embeddingFold.tableBytes, (bidirectional ? 2 : 1) * 30 * cell.gateCount * 6 * 4)
                assertClose(folded, unfolded, relative: 1e-5, "\(cell) bidirectional \(bidirectional) goBackwards \(goBackwards)")
            }
        }
    }

    func testFoldedLanguageModelMatchesUnfoldedWithCarriedState() throws {
        for tied in [false, true] {
            var generator = SeededGenerator(seed: 5)
            let model = try LanguageModel(LanguageModelConfig(vocabularySize: 30, embeddingDimension: 6,
                                                              recurrent: RecurrentConfig(cell: .lstm, inputSize: 6, hiddenSize: 6, layers: 2),
                                                              dropout: 0.2, tieEmbeddings: tied), generator: &generator)
            let tokens = (0..<(4 * 9)).map { _ in Int32(generator.next() % 30) }
            let state = RecurrentState(hidden: randomTensor([2, 9, 6], seed: 6, scale: 0.5), cell: randomTensor([2, 9, 6], seed: 7, scale: 0.5))
            func run(_ mode: EmbeddingFold.Mode) throws -> [Tensor] {
                model.embeddingFold.mode = mode
                var unused = SeededGenerator(seed: 1)
                let (logits, final) = try model.logits(tokens: tokens, steps: 4, batch: 9, initialState: state, training: false, generator: &unused)
                // Batch-1, one step, as generation calls it.
                let (step, _) = try model.logits(tokens: [tokens[0]], steps: 1, batch: 1, training: false, generator: &unused)
                return [logits, final.hidden, final.cell!, step]
            }
            let unfolded = try run(.off), folded = try run(.always)
            for (index, (a, b)) in zip(folded, unfolded).enumerated() {
                assertClose(a, b, relative: 1e-5, "tied \(tied) result \(index)")
            }
        }
    }

    /// Every way the weights change must reach the table: an optimizer step, a direct write
    /// through `values(of:)`, `setValues`, `restore`, `load`.
    func testTableFollowsEveryChangeOfTheWeights() throws {
        let batch = try batch()
        let model = try classifier(cell: .lstm, bidirectional: true)
        let store = model.store
        let weightIH = store.parameter(named: "rnn.weight_ih_l0_reverse")!, embedding = store.parameter(named: "embedding.weight")!
        let saved = store.snapshot()
        let file = try SafeTensors(bytes: SafeTensors.serialize(store.namedTensors()))
        let optimizer = try TrainingOptions().makeOptimizer(for: store)
        var generator = SeededGenerator(seed: 2)
        let changes: [(String, () throws -> Void)] = [
            ("optimizer step", {
                store.zeroGradients()
                _ = try model.trainStep(batch, labels: (0..<12).map { $0 % 3 }, generator: &generator)
                optimizer.step()
            }),
            ("values(of:) write", { store.values(of: embedding)[5 * 7 + 2] += 0.5 }),
            ("setValues", { try store.setValues(weightIH, from: randomTensor(weightIH.shape, seed: 8)) }),
            ("restore", { store.restore(saved) }),
            ("values(of:) write of W_ih", { store.values(of: weightIH)[3] -= 0.25 }),
            ("load", { try store.load(from: file) }),
        ]
        _ = try logits(model, .always, batch: batch)
        for (what, change) in changes {
            let before = try logits(model, .always, batch: batch)
            try change()
            let folded = try logits(model, .always, batch: batch)
            let unfolded = try logits(model, .off, batch: batch)
            assertClose(folded, unfolded, relative: 1e-5, "after \(what)")
            XCTAssertGreaterThan(maxAbsDifference(before, unfolded), 0, "\(what) changed nothing: not a test")
        }
    }

    /// Automatic mode: unfolded until the weights have served V tokens of inference unchanged,
    /// at once for weights just loaded, never in training.
    func testAutomaticModeFoldsOnlyWhenItPays() throws {
        let batch = try batch()  // 48 tokens (12 × 7 positions counted: T · B = 84)
        let model = try classifier(cell: .gru, bidirectional: false)
        var generator = SeededGenerator(seed: 4)
        for _ in 0..<5 { _ = try model.logits(batch, training: true, generator: &generator) }
        XCTAssertEqual(model.embeddingFold.tableBytes, 0, "training must never fold")
        _ = try model.logits(batch, training: false, generator: &generator)
        XCTAssertEqual(model.embeddingFold.tableBytes, 0, "the first inference call after a change runs unfolded")
        _ = try model.logits(batch, training: false, generator: &generator)
        XCTAssertGreaterThan(model.embeddingFold.tableBytes, 0, "84 ≥ 30 tokens served: folds")

        let loaded = try classifier(cell: .gru, bidirectional: false, seed: 99)
        try loaded.store.load(from: SafeTensors(bytes: SafeTensors.serialize(model.store.namedTensors())))
        XCTAssertTrue(loaded.store.holdsLoadedValues)
        let first = try loaded.logits(batch, training: false, generator: &generator)
        XCTAssertGreaterThan(loaded.embeddingFold.tableBytes, 0, "loaded weights fold from the first call")
        assertClose(first, try logits(model, .off, batch: batch), relative: 1e-5, "loaded, folded")
        _ = loaded.store.allValues
        XCTAssertFalse(loaded.store.holdsLoadedValues)
    }

    /// A backward after a folded inference forward (e.g. a diagnostic) gives the gradients of the
    /// unfolded path: the recurrent layer looks the embedding vectors up again first.
    func testBackwardAfterFoldedForwardMatchesUnfolded() throws {
        let batch = try batch()
        let cotangent = randomTensor([12, 3], seed: 21)
        func gradients(_ mode: EmbeddingFold.Mode) throws -> [Tensor] {
            let model = try classifier(cell: .lstm, bidirectional: true, pooling: .mean)
            model.embeddingFold.mode = mode
            var generator = SeededGenerator(seed: 2)
            var training = SeededGenerator(seed: 3)
            _ = try model.logits(batch, training: true, generator: &training)  // leaves dropout masks set
            _ = try model.logits(batch, training: false, generator: &generator)
            XCTAssertEqual(model.embeddingFold.tableBytes > 0, mode == .always)
            model.store.zeroGradients()
            try model.backward(logitsGradient: cotangent)
            return model.store.parameters.map { model.store.gradientTensor($0) }
        }
        let unfolded = try gradients(.off), folded = try gradients(.always)
        for (index, (a, b)) in zip(folded, unfolded).enumerated() {
            assertClose(a, b, relative: 1e-5, "gradient \(index)")
        }
    }

    /// The table is built in fixed vocabulary blocks and the step loop's results do not depend on
    /// the row split: one and two threads give the same bits.
    func testOneAndTwoThreadsGiveTheSameBits() throws {
        let savedThreads = BLAS.threads
        defer { BLAS.setThreads(savedThreads) }
        var generator = SeededGenerator(seed: 8)
        let sequences = (0..<16).map { _ in (0..<9).map { _ in Int32(generator.next() % 3000) } }
        let batch = try TokenBatch(sequences: sequences, padding: 0)
        func run(threads: Int) throws -> Tensor {
            BLAS.setThreads(threads)
            var generator = SeededGenerator(seed: 1)
            let recurrent = RecurrentConfig(cell: .lstm, inputSize: 16, hiddenSize: 16, bidirectional: true)
            let model = try TextClassifier(ClassifierConfig(vocabularySize: 3000, embeddingDimension: 16, recurrent: recurrent,
                                                            pooling: .mean, labels: ["a", "b"]), generator: &generator)
            model.embeddingFold.mode = .always
            return try model.logits(batch, training: false, generator: &generator)
        }
        XCTAssertEqual(try run(threads: 1).scalars, try run(threads: 2).scalars)
    }

    func testOutOfVocabularyIdIsAClearErrorWhenFolded() throws {
        let model = try classifier(cell: .rnn, bidirectional: false)
        model.embeddingFold.mode = .always
        var generator = SeededGenerator(seed: 1)
        let bad = try TokenBatch(sequences: [[1, 2, 30]], padding: 0)
        XCTAssertThrowsError(try model.logits(bad, training: false, generator: &generator)) { error in
            XCTAssertTrue("\(error)".contains("outside the vocabulary"), "\(error)")
        }
    }
}
