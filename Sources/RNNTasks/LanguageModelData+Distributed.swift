import RNN
import RNNCore

extension LanguageModelBatch {
    /// The batch of rows (documents or stream lanes) `rows`, cut to their own longest row.
    func selecting(rows: [Int]) -> LanguageModelBatch {
        let keptLengths = lengths.map { all in rows.map { all[$0] } }
        let keepSteps = keptLengths?.max() ?? steps
        return LanguageModelBatch(inputs: DistributedTraining.selectColumns(inputs, size: size, rows: rows, keepSteps: keepSteps),
                                  targets: DistributedTraining.selectColumns(targets, size: size, rows: rows, keepSteps: keepSteps),
                                  steps: keepSteps, size: rows.count, lengths: keptLengths)
    }
}

extension LanguageModelData {
    /// A hash of the token ids, for the ranks of a distributed run to compare.
    var fingerprint: UInt64 {
        var fingerprint = Fingerprint()
        switch tokens {
        case let .documents(training, validation):
            for document in training + validation { fingerprint.add(document) }
        case let .stream(training, validation):
            fingerprint.add(training)
            fingerprint.add(validation)
        }
        return fingerprint.value
    }

    /// What each rank needs at least one of: documents, or (corpus mode) lanes of the stream.
    func distributedItems(batchSize: Int) -> (count: Int, name: String) {
        switch tokens {
        case .documents(let training, _): (training.count, "training documents")
        case .stream: (batchSize, "stream lanes (--batch-size)")
        }
    }
}

extension Collective {
    /// Validation cross-entropy summed over ranks, each scoring its `shard` of the rows.
    func reduceEvaluation(_ local: LanguageModelEvaluation) throws -> LanguageModelEvaluation {
        guard isDistributed else { return local }
        let totals = try sum([local.crossEntropy * Double(local.tokens), Double(local.tokens)])
        return LanguageModelEvaluation(crossEntropy: totals[0] / max(totals[1], 1), tokens: Int(totals[1]))
    }
}
