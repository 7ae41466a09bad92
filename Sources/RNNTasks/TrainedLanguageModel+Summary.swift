import RNN

extension TrainedLanguageModel {
    /// The layer table of the network, or one row for the bigram's stored counts.
    public func summary() -> ModelSummary {
        switch backend {
        case .network(let model):
            return model.summary()
        case .bigram(let bigram):
            let pairs = bigram.config.pairCount
            var summary = ModelSummary(rows: [SummaryRow(name: "bigram", kind: "interpolated Kneser-Ney counts (context, next, count)",
                                                         outputShape: "(B, T, \(bigram.config.vocabularySize))", parameterCount: 3 * pairs)],
                                       store: ParameterStore())
            summary.totalParameters = 3 * pairs  // stored numbers, none trained by gradient
            return summary
        }
    }
}
