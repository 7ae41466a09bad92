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

/// The recurrent model as a predictor: its state (L, rows, H) is the history. One forward call of
/// one step per generated token for all rows at once; the prompt in one call of T steps.
final class NetworkPredictor: NextTokenPredictor {
    let model: LanguageModel
    private var state: RecurrentState
    private var rows = 1
    private var generator = SeededGenerator(seed: 0)  // unused: no dropout in evaluation mode

    init(model: LanguageModel) {
        self.model = model
        self.state = model.recurrent.zeroState(batchSize: 1)
    }

    var vocabularySize: Int { model.config.vocabularySize }

    func start(context: [Int32]) throws -> [Float] {
        rows = 1
        let (logits, final) = try model.logits(tokens: context, steps: context.count, batch: 1,
                                               initialState: model.recurrent.zeroState(batchSize: 1),
                                               training: false, generator: &generator)
        state = final
        let V = vocabularySize
        return logSoftmaxRows(Array(logits.scalars[(context.count - 1) * V..<context.count * V]), columns: V)
    }

    func feed(_ tokens: [Int32]) throws -> [Float] {
        precondition(tokens.count == rows, "one token per history")
        let (logits, final) = try model.logits(tokens: tokens, steps: 1, batch: rows, initialState: state,
                                               training: false, generator: &generator)
        state = final
        return logSoftmaxRows(logits.scalars, columns: vocabularySize)
    }

    func keep(rows indices: [Int]) {
        func gather(_ tensor: Tensor) -> Tensor {
            let layers = tensor.shape[0], H = tensor.shape[2]
            var result = Tensor(shape: [layers, indices.count, H])
            for layer in 0..<layers {
                for (row, source) in indices.enumerated() {
                    let from = (layer * rows + source) * H, to = (layer * indices.count + row) * H
                    result.scalars[to..<to + H] = tensor.scalars[from..<from + H]
                }
            }
            return result
        }
        state = RecurrentState(hidden: gather(state.hidden), cell: state.cell.map(gather))
        rows = indices.count
    }
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
