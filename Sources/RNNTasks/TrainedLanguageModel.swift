import Foundation
import RNN
import RNNCore
import RNNText

/// A trained language model (RNN or bigram) with its tokenizer: what an "lm" model directory
/// holds, ready to evaluate and to generate from.
public final class TrainedLanguageModel {
    /// The network or the counts.
    enum Backend {
        case network(LanguageModel)
        case bigram(KneserNeyBigram)
    }

    public let configFile: ModelConfigFile<LanguageModellingConfig>
    public let tokenizer: Tokenizer
    let backend: Backend
    /// The whole network when it has several heads or a condition; `backend` is then its base.
    let multiStep: MultiStepLanguageModel?

    public var config: LanguageModellingConfig { configFile.model }
    var endId: Int32 { Int32(config.endTokenId) }

    init(configFile: ModelConfigFile<LanguageModellingConfig>, tokenizer: Tokenizer, backend: Backend,
         multiStep: MultiStepLanguageModel? = nil) {
        self.configFile = configFile
        self.tokenizer = tokenizer
        self.backend = backend
        self.multiStep = multiStep
    }

    /// Loads an "lm" model directory; checks that the tokenizer belongs to the model.
    public static func load(from path: String) throws -> TrainedLanguageModel {
        if try LanguageModelObjective.of(modelAt: path) == .masked {
            throw RNNError.invalidFile(path, "is a masked language model (--objective masked): it predicts hidden tokens and does not generate text; use rnn lm eval, or rnn classify train --init-encoder")
        }
        let file = try ModelDirectory.config(at: path, task: "lm", as: LanguageModellingConfig.self)
        _ = try ModelDirectory.file(ModelDirectory.tokenizerFile, in: path)
        let tokenizer = try Tokenizer(contentsOf: path + "/" + ModelDirectory.tokenizerFile)
        let config = file.model
        guard tokenizer.vocabSize == config.vocabularySize else {
            throw RNNError.invalidFile(path, "tokenizer.json has \(tokenizer.vocabSize) tokens but the model \(config.vocabularySize): they do not belong together")
        }
        if let fingerprint = config.tokenizerFingerprint, fingerprint != vocabularyFingerprint(of: tokenizer) {
            throw RNNError.invalidFile(path, "tokenizer.json is not the tokenizer this model was trained with (its vocabulary differs): they do not belong together")
        }
        guard tokenizer.tokenToId(config.endToken) == config.endTokenId else {
            throw RNNError.invalidFile(path, "tokenizer.json does not map the end token \(config.endToken) to id \(config.endTokenId) as the model does")
        }
        switch config.model {
        case .rnn:
            guard var network = config.network, network.vocabularySize == config.vocabularySize else {
                throw RNNError.invalidFile(path, "config.json: an rnn language model needs a 'network' section of the model's vocabulary size")
            }
            network.recurrent.stateful = false
            var generator = SeededGenerator(seed: 0)
            if var multiStepConfig = config.multiStep {
                guard multiStepConfig.base == network, (config.conditions?.count ?? 0) == multiStepConfig.conditionCount else {
                    throw RNNError.invalidFile(path, "config.json: the multi-step section does not match the network or the condition labels")
                }
                multiStepConfig.base.recurrent.stateful = config.corpus  // evaluation carries the state across stream windows
                let model = try MultiStepLanguageModel(multiStepConfig, generator: &generator)
                try ModelDirectory.loadWeights(into: model.store, from: path)
                return TrainedLanguageModel(configFile: file, tokenizer: tokenizer, backend: .network(model.base), multiStep: model)
            }
            let model = try LanguageModel(network, generator: &generator)
            try ModelDirectory.loadWeights(into: model.store, from: path)
            return TrainedLanguageModel(configFile: file, tokenizer: tokenizer, backend: .network(model))
        case .bigram:
            guard let bigramConfig = config.bigram, bigramConfig.vocabularySize == config.vocabularySize else {
                throw RNNError.invalidFile(path, "config.json: a bigram model needs a 'bigram' section of the model's vocabulary size")
            }
            let store = KneserNeyBigram.emptyStore(pairCount: bigramConfig.pairCount)
            try ModelDirectory.loadWeights(into: store, from: path)
            return TrainedLanguageModel(configFile: file, tokenizer: tokenizer,
                                        backend: .bigram(try KneserNeyBigram(config: bigramConfig, store: store)))
        }
    }

    /// Token ids of a text without special tokens; words the vocabulary lacks become `[UNK]`
    /// (the tokenizer's unknown token), so any text encodes.
    public func encode(_ text: String) -> [Int32] {
        tokenizer.encode(text, addSpecialTokens: false).ids.map { Int32($0) }
    }

    /// Cross-entropy per token on new data, read the way the model was trained: documents
    /// (each framed by the end token, cut to `maxLength`) or, for a corpus model, one stream.
    public func evaluate(source: TextSource, batchSize: Int = 32) throws -> LanguageModelEvaluation {
        if multiStep != nil {
            let head = try evaluateHeads(source: source, batchSize: batchSize)[0]
            return LanguageModelEvaluation(crossEntropy: head.crossEntropy, tokens: head.tokens)
        }
        if config.corpus {
            let stream = encode(try source.corpus())
            guard stream.count >= 2 else { throw RNNError.invalidFile(source.path, "has fewer than two tokens") }
            switch backend {
            case .network(let model):
                let window = Int(configFile.training["bptt"] ?? "") ?? 64
                return try LanguageModelData.crossEntropy(model, batches: LanguageModelData.streamBatches(stream, lanes: batchSize, window: window),
                                                          carryState: true)
            case .bigram(let bigram):
                let sum = bigram.crossEntropySum(pairs: streamPairs(stream))
                return LanguageModelEvaluation(crossEntropy: sum.nats / Double(sum.count), tokens: sum.count)
            }
        }
        let documents = try source.documents().map { Array(encode($0).prefix(config.maxLength)) }
        switch backend {
        case .network(let model):
            var generator = SeededGenerator(seed: 0)
            let batches = try LanguageModelData.documentBatches(documents, batchSize: batchSize, endId: endId,
                                                                paddingId: Int32(config.paddingId), shuffle: false, generator: &generator)
            return try LanguageModelData.crossEntropy(model, batches: batches, carryState: false)
        case .bigram(let bigram):
            let sum = bigram.crossEntropySum(pairs: documentPairs(documents, endToken: endId))
            return LanguageModelEvaluation(crossEntropy: sum.nats / Double(max(sum.count, 1)), tokens: sum.count)
        }
    }

    /// A fresh predictor over the model, for generation.
    func makePredictor(initialHistory: LanguageModelStepper.History? = nil) throws -> any NextTokenPredictor {
        switch backend {
        case .network(let model): try NetworkPredictor(model: model, initialHistory: initialHistory)
        case .bigram(let bigram): BigramPredictor(bigram: bigram)
        }
    }

    /// "rnn (lstm, 1 × 256)" or "bigram (interpolated Kneser-Ney)".
    public var describe: String {
        switch backend {
        case .network(let model):
            "rnn (\(model.config.recurrent.cell.rawValue), \(model.config.recurrent.layers) × \(model.config.recurrent.hiddenSize))"
        case .bigram: "bigram (interpolated Kneser-Ney)"
        }
    }
}
