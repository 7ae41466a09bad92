import Foundation
import RNN
import RNNCore

/// The vanishing-gradient story, measured: ‖∂L/∂h_t‖ for every step t when the loss depends on
/// the last step only, for each cell type, at initialisation and after training on a task whose
/// answer is the FIRST token of a long sequence ("Jane offered her best wish to ___": what
/// decides the answer is far back). A vanilla RNN's gradient dies geometrically going back in
/// time; the LSTM's additive cell state and the GRU's update gate carry it.
public enum GradientDiagnostics {
    /// One gradient-norm curve.
    public struct Curve: Sendable {
        public var cell: CellType
        public var phase: String
        /// ‖∂L/∂h_t‖ for t = 0 … T−1, averaged over the measured batches.
        public var norms: [Float]
        /// ‖∂L/∂h_0‖ / ‖∂L/∂h_{T−1}‖: how much of the gradient survives the trip back to the
        /// deciding first token (independent of the size of the loss).
        public var survival: Float { (norms.first ?? 0) / max(norms.last ?? 1, .leastNormalMagnitude) }
    }

    /// One cell's results.
    public struct CellResult: Sendable {
        public var cell: CellType
        public var initial: Curve
        public var trained: Curve
        /// Held-out accuracy after training (chance: 1 / classes).
        public var accuracy: Double
        public var trainingSeconds: Double
    }

    /// Settings of the experiment.
    public struct Settings: Sendable {
        public var length = 20
        public var hiddenSize = 32
        public var classes = 4
        public var distractors = 8
        public var batchSize = 32
        public var trainingSteps = 1000
        public var learningRate: Float = 1e-2
        public var seed: UInt64 = 1

        public init() {}

        func validate() throws {
            guard length >= 2 else { throw RNNError("--length must be at least 2, got \(length)") }
            guard hiddenSize >= 1, trainingSteps >= 0, batchSize >= 1 else { throw RNNError("--hidden, --steps and --batch-size must be positive") }
        }
    }

    /// A batch of the first-token task: token 1…K first (the label), then T − 1 distractors.
    static func firstTokenBatch(_ settings: Settings, generator: inout SeededGenerator) throws -> (TokenBatch, [Int]) {
        var sequences: [[Int32]] = [], labels: [Int] = []
        for _ in 0..<settings.batchSize {
            let label = Int(generator.next() % UInt64(settings.classes))
            var sequence = [Int32(1 + label)]
            for _ in 1..<settings.length {
                sequence.append(Int32(1 + settings.classes + Int(generator.next() % UInt64(settings.distractors))))
            }
            sequences.append(sequence)
            labels.append(label)
        }
        return (try TokenBatch(sequences: sequences, padding: 0), labels)
    }

    /// Runs the experiment for each cell.
    public static func run(cells: [CellType], settings: Settings,
                           log: (String) -> Void = { _ in }) throws -> [CellResult] {
        try settings.validate()
        return try cells.map { cell in
            var generator = SeededGenerator(seed: settings.seed)
            var recurrent = RecurrentConfig(cell: cell, inputSize: 16, hiddenSize: settings.hiddenSize)
            if cell == .lstm { recurrent.forgetBias = 1 }
            let config = ClassifierConfig(vocabularySize: 1 + settings.classes + settings.distractors, embeddingDimension: 16,
                                          recurrent: recurrent, pooling: .last, labels: (0..<settings.classes).map(String.init))
            let model = try TextClassifier(config, generator: &generator)
            model.recurrent.recordsStateGradientNorms = true
            var probeGenerator = SeededGenerator(seed: settings.seed &+ 99)
            let probes = try (0..<4).map { _ in try firstTokenBatch(settings, generator: &probeGenerator) }

            func measure(_ phase: String) throws -> Curve {
                var sum = [Float](repeating: 0, count: settings.length)
                for (batch, labels) in probes {
                    model.store.zeroGradients()
                    let logits = try model.logits(batch, training: false, generator: &generator)
                    let (_, gradient) = try model.lossAndGradient(logits: logits, labels: labels)
                    try model.backward(logitsGradient: gradient)
                    for (t, norm) in model.recurrent.stateGradientNorms().enumerated() { sum[t] += norm / Float(probes.count) }
                }
                return Curve(cell: cell, phase: phase, norms: sum)
            }

            let initial = try measure("initial")
            var options = TrainingOptions()
            options.learningRate = settings.learningRate
            options.epochs = 1
            options.clipNorm = 5
            let trainer = try Trainer(store: model.store, options: options)
            let start = DispatchTime.now().uptimeNanoseconds
            if settings.trainingSteps > 0 {
                try trainer.fit(batches: { _ in Array(0..<settings.trainingSteps) }, step: { _ in
                    let (batch, labels) = try firstTokenBatch(settings, generator: &generator)
                    return try model.trainStep(batch, labels: labels, generator: &generator)
                }, validate: nil)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let trained = try measure("trained")
            let (_, confusion) = try model.evaluate(probes.map { (batch: $0.0, labels: $0.1) })
            log("\(cell.rawValue): accuracy \(String(format: "%.3f", confusion.accuracy)) after \(settings.trainingSteps) steps (\(String(format: "%.1f", seconds)) s)")
            return CellResult(cell: cell, initial: initial, trained: trained, accuracy: confusion.accuracy, trainingSeconds: seconds)
        }
    }

    /// Exploding gradients: a relu RNN whose recurrent matrix is orthogonal × `gain` (> 1) on the
    /// same task. Returns ‖∂L/∂h_t‖ per step and the global gradient norm before and after
    /// clipping to `clipNorm`.
    public static func exploding(settings: Settings, gain: Float, clipNorm: Float) throws
        -> (norms: [Float], normBefore: Float, normAfter: Float) {
        try settings.validate()
        var generator = SeededGenerator(seed: settings.seed)
        let recurrent = RecurrentConfig(cell: .rnn, inputSize: 16, hiddenSize: settings.hiddenSize, activation: .relu,
                                        initialization: .keras)
        let config = ClassifierConfig(vocabularySize: 1 + settings.classes + settings.distractors, embeddingDimension: 16,
                                      recurrent: recurrent, pooling: .last, labels: (0..<settings.classes).map(String.init))
        let model = try TextClassifier(config, generator: &generator)
        let weight = model.store.parameter(named: "rnn.weight_hh_l0")!
        let values = model.store.values(of: weight)
        for index in 0..<weight.count { values[index] *= gain }
        model.recurrent.recordsStateGradientNorms = true
        let (batch, labels) = try firstTokenBatch(settings, generator: &generator)
        model.store.zeroGradients()
        let logits = try model.logits(batch, training: false, generator: &generator)
        let (_, gradient) = try model.lossAndGradient(logits: logits, labels: labels)
        try model.backward(logitsGradient: gradient)
        let norms = model.recurrent.stateGradientNorms()
        let before = try GradientClipping.clipByGlobalNorm(model.store, maxNorm: clipNorm)
        return (norms, before, GradientClipping.globalNorm(of: model.store))
    }
}
