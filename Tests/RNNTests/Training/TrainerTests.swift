import RNN
import RNNCore
import XCTest

/// The whole loop learns: fixed synthetic tasks, fixed seeds, stated bounds.
final class TrainerTests: XCTestCase {
    /// Sequences of tokens 1…8 of length 3…8; the class is whether the FIRST token is below 5, so
    /// the last-state classifier must carry it through the whole sequence.
    private func firstTokenTask(count: Int, seed: UInt64) -> [(sequence: [Int32], label: Int)] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            let length = 3 + Int(generator.next() % 6)
            let sequence = (0..<length).map { _ in Int32(1 + generator.next() % 8) }
            return (sequence, sequence[0] < 5 ? 1 : 0)
        }
    }

    private func batches(_ data: [(sequence: [Int32], label: Int)], size: Int) throws -> [(batch: TokenBatch, labels: [Int])] {
        try stride(from: 0, to: data.count, by: size).map { start in
            let part = Array(data[start..<min(start + size, data.count)])
            return (try TokenBatch(sequences: part.map(\.sequence), padding: 0), part.map(\.label))
        }
    }

    func testSmallLSTMClassifierLearnsALongRangeTask() throws {
        var generator = SeededGenerator(seed: 1)
        let config = ClassifierConfig(vocabularySize: 9, embeddingDimension: 8,
                                      recurrent: RecurrentConfig(cell: .lstm, inputSize: 8, hiddenSize: 16),
                                      pooling: .last, labels: ["high", "low"])
        let model = try TextClassifier(config, generator: &generator)
        var options = TrainingOptions()
        options.learningRate = 0.02
        options.epochs = 12
        let trainer = try Trainer(store: model.store, options: options)
        let training = try batches(firstTokenTask(count: 400, seed: 2), size: 20)
        let validation = try batches(firstTokenTask(count: 200, seed: 3), size: 50)
        let history = try trainer.fit(
            batches: { _ in training },
            step: { try model.trainStep($0.batch, labels: $0.labels, generator: &generator) },
            validate: {
                let (loss, confusion) = try model.evaluate(validation)
                return ValidationResult(loss: loss, metrics: ["accuracy": confusion.accuracy])
            }, monitor: "accuracy", higherIsBetter: true)
        XCTAssertLessThan(history.first!.trainLoss, 0.75)
        XCTAssertLessThan(history.last!.trainLoss, 0.1, "training loss should fall below 0.1 in 12 epochs")
        let (_, confusion) = try model.evaluate(validation)
        XCTAssertGreaterThanOrEqual(confusion.accuracy, 0.97, "held-out accuracy on the first-token task")
        XCTAssertEqual(trainer.steps, 12 * 20)
    }

    /// A stream that cycles 1 2 3 4 5 6: after one token the next is certain, so a language model
    /// with truncated BPTT must drive the loss close to zero.
    func testSmallLSTMLanguageModelLearnsACycleWithTruncatedBPTT() throws {
        var generator = SeededGenerator(seed: 4)
        var recurrent = RecurrentConfig(cell: .lstm, inputSize: 8, hiddenSize: 16)
        recurrent.stateful = true
        let model = try LanguageModel(LanguageModelConfig(vocabularySize: 7, embeddingDimension: 8, recurrent: recurrent),
                                      generator: &generator)
        let stream = (0..<2001).map { Int32(1 + $0 % 6) }
        let windows = try StreamWindows(stream: stream, lanes: 4, window: 10)
        var options = TrainingOptions()
        options.learningRate = 0.01
        options.epochs = 3
        let trainer = try Trainer(store: model.store, options: options)
        let history = try trainer.fit(
            batches: { _ in model.recurrent.resetState(); return Array(0..<windows.count) },
            step: { k in
                let (inputs, targets) = windows.window(k)
                return try model.trainStep(inputs: inputs, targets: targets.map(Int.init), steps: 10, batch: 4, generator: &generator)
            }, validate: nil)
        XCTAssertGreaterThan(history.first!.trainLoss, 0.3, "starts uncertain")
        XCTAssertLessThan(history.last!.trainLoss, 0.05, "the cycle is deterministic: loss should fall below 0.05 nats")
        var accumulator = CrossEntropyAccumulator()
        model.recurrent.resetState()  // as at the start of every training epoch
        let (inputs, targets) = windows.window(0)
        try model.evaluate(inputs: inputs, targets: targets.map(Int.init), steps: 10, batch: 4, into: &accumulator)
        XCTAssertEqual(accumulator.accuracy, 1)
    }

    func testNonFiniteLossStopsWithAClearMessageAndKeepsBestWeights() throws {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 1)
        let dense = try Dense(inputSize: 1, outputSize: 1, store: store, generator: &generator)
        var options = TrainingOptions()
        options.epochs = 3
        let trainer = try Trainer(store: store, options: options)
        var epoch = 0
        XCTAssertThrowsError(try trainer.fit(
            batches: { e in epoch = e; return [0] },
            step: { _ in
                let y = try dense.forward(Tensor(shape: [1, 1], repeating: 1))
                _ = try dense.backward(outputGradient: Tensor(shape: [1, 1], repeating: 1))
                return StepResult(loss: epoch == 3 ? .nan : Double(y.scalars[0]), count: 1, tokens: 1)
            },
            validate: { ValidationResult(loss: Double(epoch), metrics: [:]) })) { error in
            XCTAssertEqual("\(error)", "epoch 3 step 3: the loss is nan; training stopped. Lower --lr or set --clip-norm (the best weights so far are kept)")
        }
        XCTAssertEqual(trainer.best?.epoch, 1)
    }

    func testEarlyStoppingAndBestWeightsRestored() throws {
        let store = ParameterStore()
        var generator = SeededGenerator(seed: 1)
        let parameter = store.add("w", shape: [1], initializer: .constant(0), generator: &generator)
        var options = TrainingOptions()
        options.epochs = 10
        options.patience = 2
        options.optimizer = .sgd
        options.learningRate = 1
        options.clipNorm = nil
        let trainer = try Trainer(store: store, options: options)
        // Each step moves w by −1; the validation loss is |w + 2|: best at epoch 2, then worse.
        let history = try trainer.fit(
            batches: { _ in [0] },
            step: { _ in store.gradients(of: parameter)[0] = 1; return StepResult(loss: 1, count: 1, tokens: 1) },
            validate: { ValidationResult(loss: Double(abs(store.values(of: parameter)[0] + 2)), metrics: [:]) })
        XCTAssertEqual(history.count, 4, "epochs 3 and 4 do not improve: patience 2 stops after 4")
        XCTAssertEqual(trainer.best?.epoch, 2)
        XCTAssertEqual(store.values(of: parameter)[0], -2, "weights of epoch 2 restored")
        XCTAssertTrue(trainer.historyCSV().hasPrefix("epoch,train_loss,validation_loss,mean_gradient_norm"))
    }
}
