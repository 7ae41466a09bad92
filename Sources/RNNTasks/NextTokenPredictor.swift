import Foundation
import RNN
import RNNCore

/// Next-token log-probabilities for a batch of histories that grow one token per row at a time:
/// what sampling and beam search need from a model, whichever kind it is.
protocol NextTokenPredictor: AnyObject {
    var vocabularySize: Int { get }
    /// Starts one history with `context` (at least one token) and returns log P(· | context), (V).
    func start(context: [Int32]) throws -> [Float]
    /// Appends `tokens[r]` to history r and returns log P(· | history) for every row, (rows, V) row-major.
    func feed(_ tokens: [Int32]) throws -> [Float]
    /// Keeps the histories `rows` (in that order, repeats allowed): row i becomes old row `rows[i]`.
    func keep(rows: [Int])
}

/// The recurrent model as a predictor: each history is a recurrent state, advanced one token at a
/// time by a `LanguageModelStepper` (matrix–vector products, buffers reused).
final class NetworkPredictor: NextTokenPredictor {
    private let stepper: LanguageModelStepper
    private var histories: [LanguageModelStepper.History] = []
    private var logits: [Float]
    let vocabularySize: Int

    /// The state every history starts from (zeros, or a condition's learned initial state).
    private let initialHistory: LanguageModelStepper.History

    init(model: LanguageModel, initialHistory: LanguageModelStepper.History? = nil) throws {
        stepper = try LanguageModelStepper(model: model)
        vocabularySize = model.config.vocabularySize
        logits = [Float](repeating: 0, count: vocabularySize)
        self.initialHistory = initialHistory ?? stepper.emptyHistory()
    }

    func start(context: [Int32]) throws -> [Float] {
        var history = initialHistory
        logits.withUnsafeMutableBufferPointer { out in
            for token in context { stepper.step(token, history: &history, logits: out.baseAddress!) }
        }
        histories = [history]
        return logSoftmaxRows(logits, columns: vocabularySize)
    }

    func feed(_ tokens: [Int32]) throws -> [Float] {
        precondition(tokens.count == histories.count, "one token per history")
        var rows = [Float](repeating: 0, count: tokens.count * vocabularySize)
        rows.withUnsafeMutableBufferPointer { out in
            for (row, token) in tokens.enumerated() {
                stepper.step(token, history: &histories[row], logits: out.baseAddress! + row * vocabularySize)
            }
        }
        return logSoftmaxRows(rows, columns: vocabularySize)
    }

    func keep(rows: [Int]) { histories = rows.map { histories[$0] } }
}

/// The bigram as a predictor: a history is its last token.
final class BigramPredictor: NextTokenPredictor {
    let bigram: KneserNeyBigram
    private var last: [Int32] = []

    init(bigram: KneserNeyBigram) { self.bigram = bigram }

    var vocabularySize: Int { bigram.config.vocabularySize }

    func start(context: [Int32]) throws -> [Float] {
        last = [context.last!]
        return bigram.probabilities(after: Int(context.last!)).map { Float(log($0)) }
    }

    func feed(_ tokens: [Int32]) throws -> [Float] {
        last = tokens
        return tokens.flatMap { token in bigram.probabilities(after: Int(token)).map { Float(log($0)) } }
    }

    func keep(rows: [Int]) { last = rows.map { last[$0] } }
}

/// Another predictor with some tokens made impossible (log-probability −∞); the others keep
/// their log-probabilities, so scores stay those of the model.
final class BannedTokensPredictor: NextTokenPredictor {
    let base: any NextTokenPredictor
    let banned: [Int]

    init(_ base: any NextTokenPredictor, banned: Set<Int>) {
        self.base = base
        self.banned = banned.filter { (0..<base.vocabularySize).contains($0) }.sorted()
    }

    var vocabularySize: Int { base.vocabularySize }
    func start(context: [Int32]) throws -> [Float] { mask(try base.start(context: context)) }
    func feed(_ tokens: [Int32]) throws -> [Float] { mask(try base.feed(tokens)) }
    func keep(rows: [Int]) { base.keep(rows: rows) }

    private func mask(_ rows: [Float]) -> [Float] {
        var rows = rows
        for start in stride(from: 0, to: rows.count, by: vocabularySize) {
            for id in banned { rows[start + id] = -.infinity }
        }
        return rows
    }
}

/// log softmax of each row of `values` (rows × columns), computed stably (max subtracted).
func logSoftmaxRows(_ values: [Float], columns: Int) -> [Float] {
    var result = values
    result.withUnsafeMutableBufferPointer { buffer in
        for start in stride(from: 0, to: buffer.count, by: columns) {
            let row = UnsafeMutableBufferPointer(rebasing: buffer[start..<start + columns])
            let maximum = row.max() ?? 0
            var sum: Float = 0
            for value in row { sum += exp(value - maximum) }
            let logSum = maximum + log(sum)
            for index in row.indices { row[index] -= logSum }
        }
    }
    return result
}
