import Foundation
import RNN
import RNNCore
import RNNText

/// Why a streamed generation stopped: the model's own reasons, or the caller's.
public enum StreamStopReason: String, Codable, Sendable {
    case endToken = "end_token"
    case maxTokens = "max_tokens"
    /// The caller's `shouldStop` said so (a deadline passed, the client went away).
    case stopped = "stopped"
}

/// One token of a streamed generation, as soon as it is sampled.
public struct StreamedToken: Sendable, Equatable {
    public var id: Int
    public var token: String
    /// What this token adds to the decoded continuation ("" for the end token).
    public var text: String
}

/// A streamed generation's result, once it is over.
public struct StreamedGeneration: Sendable, Equatable {
    public var continuation: String
    public var tokens: [String]
    public var ids: [Int]
    public var stopped: StreamStopReason
    public var logProbability: Double
}

extension TrainedLanguageModel {
    /// Continues `prompt` one token at a time, calling `onToken` after each sampled token, as
    /// `generate` does for one sample (same history, banned tokens and seeded draws: with the
    /// same options the tokens are the same). `shouldStop` is asked before each step.
    ///
    /// Safe to run on several threads at once over one model: each call makes its own predictor
    /// (its own state and buffers) and only reads the model's weights.
    public func generateStreaming(prompt: String, options: GenerationOptions, shouldStop: () -> Bool = { false },
                                  onToken: (StreamedToken) -> Void) throws -> StreamedGeneration {
        try options.validate()
        guard options.samples == 1, (options.beamWidth ?? 1) == 1, options.tokensPerStep == 1 else {
            throw RNNError("streaming generation samples one continuation one token at a time (no --samples, --beam or --tokens-per-step)")
        }
        let start = try generationStart(prompt: prompt, options: options)
        let predictor = start.predictor, decode = start.decode
        var master = SeededGenerator(seed: options.seed)
        var generator = master.split()  // as sample 0 of `generate`
        var ids: [Int32] = [], body: [Int] = [], decoded = "", logProbability = 0.0
        var stopped = StreamStopReason.maxTokens
        var distribution = try predictor.start(context: start.context)
        for step in 0..<options.maxTokens {
            if shouldStop() {
                stopped = .stopped
                break
            }
            let token = Int32(sampleToken(distribution[...], options: options, generator: &generator))
            ids.append(token)
            logProbability += Double(distribution[Int(token)])
            let name = tokenizer.idToToken(Int(token)) ?? "[UNK]"
            if token == endId {
                onToken(StreamedToken(id: Int(token), token: name, text: ""))
                stopped = .endToken
                break
            }
            body.append(Int(token))
            let text = decode(body)
            let common = text.commonPrefix(with: decoded)
            onToken(StreamedToken(id: Int(token), token: name, text: String(text.dropFirst(common.count))))
            decoded = text
            guard step + 1 < options.maxTokens else { break }
            distribution = try predictor.feed([token])
        }
        return StreamedGeneration(continuation: decoded, tokens: ids.map { tokenizer.idToToken(Int($0)) ?? "[UNK]" },
                                  ids: ids.map(Int.init), stopped: stopped, logProbability: logProbability)
    }
}
