import RNN
import RNNCore

// Data-parallel training of the multi-step, conditioned and masked language models: every rank
// draws the same global batches (and, masked, the same corruption) from the shared task generator
// and trains on its rows r, r+N, … of each, as the plain language model does.

extension ConditionedBatch {
    /// Rows `rows` of this global batch, with the global batch's valid-target count per head
    /// (`headCounts`, heads 1 … `heads`) for `multiStepStep`.
    func selecting(rows: [Int], heads: Int) -> ConditionedBatch {
        let counts = (1...heads).map { head in
            MultiStepLanguageModel.aheadTargets(batch.targets, steps: batch.steps, batch: batch.size, head: head)
                .reduce(0) { $0 + ($1 != SoftmaxCrossEntropy.defaultIgnoreIndex ? 1 : 0) }
        }
        return ConditionedBatch(batch: batch.selecting(rows: rows), conditions: conditions.map { all in rows.map { all[$0] } },
                                headCounts: counts)
    }
}

extension LanguageModelTraining {
    /// One multi-step training step on a rank's part of a global batch. The model's loss is the
    /// mean over the K heads of each head's mean over its valid targets, L = (1/K) Σ_k (1/n^k) Σ_i ℓ_i^k,
    /// and head k has fewer targets than head 1 (the last k − 1 steps of each row have none), in
    /// proportions that differ between the ranks' rows. The trainer weights rank r's gradient by
    /// its item count n_r¹ (head 1's targets) and divides the sum by n¹, so head k's part of the
    /// rank's gradient is rescaled by
    ///
    ///     c_k = (n_r^k / n^k) · (n¹ / n_r¹)        (n^k: head k's targets in the global batch)
    ///
    /// which makes Σ_r n_r¹ g_r / n¹ the gradient of L over the global batch; the loss reported is
    /// rescaled alike. One process: c_k = 1 and this is `MultiStepLanguageModel.trainStep`.
    static func multiStepStep(_ model: MultiStepLanguageModel, _ item: ConditionedBatch,
                              generator: inout SeededGenerator) throws -> StepResult {
        let batch = item.batch
        let logits = try model.logits(tokens: batch.inputs, steps: batch.steps, batch: batch.size, lengths: batch.lengths,
                                      conditions: item.conditions, training: true, generator: &generator)
        var (sums, gradients) = try model.headLosses(logits: logits, targets: batch.targets, steps: batch.steps,
                                                     batch: batch.size, withGradients: true)
        guard let global = item.headCounts, global.count == sums.count else {
            throw RNNError("multi-step language model: a distributed batch without its global target counts")
        }
        let local1 = sums[0].validCount
        guard local1 > 0 else { return .empty }
        var loss = 0.0
        for head in sums.indices {
            let factor = global[head] > 0 ? Double(sums[head].validCount) * Double(global[0]) / (Double(local1) * Double(global[head])) : 0
            loss += factor * Double(sums[head].meanLoss)
            let scale = Float(factor)
            gradients[head].withUnsafeMutableBufferPointer { dx in for i in dx.indices { dx[i] *= scale } }
        }
        try model.backward(logitsGradients: gradients)
        return StepResult(loss: loss / Double(sums.count), count: local1, tokens: local1)
    }
}

extension Collective {
    /// Per-head validation figures summed over ranks, each scoring its part of the rows.
    func reduceHeads(_ local: [HeadEvaluation]) throws -> [HeadEvaluation] {
        guard isDistributed else { return local }
        let totals = try sum(local.flatMap { head in
            [head.crossEntropy * Double(head.tokens), (head.accuracy * Double(head.tokens)).rounded(), Double(head.tokens)]
        })
        return local.indices.map { index in
            let tokens = totals[3 * index + 2]
            return HeadEvaluation(head: local[index].head, crossEntropy: totals[3 * index] / max(tokens, 1),
                                  accuracy: totals[3 * index + 1] / max(tokens, 1), tokens: Int(tokens))
        }
    }

    /// Masked-token validation figures summed over ranks.
    func reduceMasked(_ local: MaskedLanguageModelEvaluation) throws -> MaskedLanguageModelEvaluation {
        guard isDistributed else { return local }
        let tokens = Double(local.tokens)
        let totals = try sum([local.crossEntropy * tokens, (local.accuracy * tokens).rounded(), tokens])
        return MaskedLanguageModelEvaluation(crossEntropy: totals[0] / max(totals[2], 1), accuracy: totals[1] / max(totals[2], 1),
                                             tokens: Int(totals[2]))
    }
}

extension MaskedBatch {
    /// Rows `rows` (non-empty, increasing) of this corrupted batch, cut to their own longest row,
    /// with the targets that fall in them (in the same increasing position order).
    func selecting(rows: [Int]) -> MaskedBatch {
        let B = size, keptLengths = rows.map { lengths[$0] }, keepSteps = keptLengths.max() ?? 0
        var column = [Int](repeating: -1, count: B)
        for (index, row) in rows.enumerated() { column[row] = index }
        var positions: [Int] = [], targets: [Int] = []
        for (position, target) in zip(self.positions, self.targets) {
            let t = position / B, index = column[position % B]
            guard index >= 0, t < keepSteps else { continue }
            positions.append(t * rows.count + index)
            targets.append(target)
        }
        return MaskedBatch(inputs: DistributedTraining.selectColumns(inputs, size: B, rows: rows, keepSteps: keepSteps),
                           lengths: keptLengths, positions: positions, targets: targets)
    }
}
