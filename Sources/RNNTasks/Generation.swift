import Foundation
import RNN
import RNNCore
import RNNText

/// How `rnn lm generate` continues a prompt.
public struct GenerationOptions: Sendable, Equatable {
    /// Generated tokens at most, the end token included.
    public var maxTokens = 40
    /// Divides the log-probabilities before sampling: below 1 sharper, above 1 flatter.
    public var temperature = 1.0
    /// Sample only among the k most probable tokens (1: greedy decoding).
    public var topK: Int?
    /// Nucleus sampling: only among the most probable tokens whose probabilities add up to p, in (0, 1].
    public var topP: Double?
    /// Beam search with this many beams instead of sampling (nil or 1: sampling).
    public var beamWidth: Int?
    /// Independent samples (with beam search: the best `samples` finished beams).
    public var samples = 1
    public var seed: UInt64 = 1
    /// Let generation emit the unknown token `[UNK]` (off by default: a sample of `[UNK]`s reads
    /// badly, and the padding token is never generated either way).
    public var allowUnknown = false
    /// The label to write for, with a conditioned model (`--condition`).
    public var condition: String?
    /// Tokens emitted per model step with a `--predict-ahead K` model, 1 … K: heads 1 … n each
    /// sample one token, all are emitted, then fed back in order before the next step.
    public var tokensPerStep = 1

    public init() {}

    public func validate() throws {
        guard maxTokens >= 1 else { throw RNNError("--max-tokens must be at least 1, got \(maxTokens)") }
        guard temperature > 0, temperature.isFinite else { throw RNNError("--temperature must be greater than 0, got \(temperature)") }
        if let topK, topK < 1 { throw RNNError("--top-k must be at least 1, got \(topK)") }
        if let topP, !(topP > 0 && topP <= 1) { throw RNNError("--top-p must be in (0, 1], got \(topP)") }
        if let beamWidth, beamWidth < 1 { throw RNNError("--beam must be at least 1, got \(beamWidth)") }
        guard samples >= 1 else { throw RNNError("--samples must be at least 1, got \(samples)") }
        guard tokensPerStep >= 1 else { throw RNNError("--tokens-per-step must be at least 1, got \(tokensPerStep)") }
        if tokensPerStep > 1, let beamWidth, beamWidth > 1 {
            throw RNNError("--tokens-per-step samples from the heads; it cannot be combined with --beam")
        }
        if let beamWidth, beamWidth > 1, samples > beamWidth {
            throw RNNError("--samples \(samples) exceeds --beam \(beamWidth): beam search returns at most one result per beam")
        }
    }
}

/// Why generation stopped.
public enum StopReason: String, Codable, Sendable {
    case endToken = "end_token"
    case maxTokens = "max_tokens"
}

/// One generated continuation.
public struct GeneratedText: Sendable, Equatable {
    /// The prompt and the continuation, decoded (the end token left out; unknown prompt words show as `[UNK]`).
    public var text: String
    /// The continuation alone, decoded.
    public var continuation: String
    /// The generated tokens, the end token last when generation stopped there.
    public var tokens: [String]
    public var ids: [Int]
    public var stopped: StopReason
    /// log P(generated tokens | prompt) under the model (temperature 1, no filtering).
    public var logProbability: Double
}

extension TrainedLanguageModel {
    /// Continues `prompt` until the end token or `options.maxTokens`. The history starts with the
    /// end token (the start of every training document), then the prompt's tokens; prompt words
    /// outside the vocabulary become `[UNK]`.
    public func generate(prompt: String, options: GenerationOptions) throws -> [GeneratedText] {
        let start = try generationStart(prompt: prompt, options: options)
        let context = start.context, predictor = start.predictor, decode = start.decode
        let results: [(ids: [Int32], stopped: StopReason, logProbability: Double)]
        if options.tokensPerStep > 1 {
            results = try sampleSeveralPerStep(context: context, initialHistory: start.initialHistory,
                                               banned: start.banned, options: options)
        } else if let width = options.beamWidth, width > 1 {
            results = try beamSearch(predictor, context: context, endId: endId, width: width, maxTokens: options.maxTokens,
                                     results: options.samples)
        } else {
            results = try sample(predictor, context: context, endId: endId, options: options)
        }
        return results.map { result in
            let body = result.ids.filter { $0 != endId }.map(Int.init)
            return GeneratedText(text: decode(start.promptIds.map(Int.init) + body), continuation: decode(body),
                                 tokens: result.ids.map { tokenizer.idToToken(Int($0)) ?? "[UNK]" },
                                 ids: result.ids.map(Int.init), stopped: result.stopped, logProbability: result.logProbability)
        }
    }
}

/// What every generation of a prompt starts from (`generate` and `generateStreaming` alike).
struct GenerationStart {
    /// The prompt's token ids (words outside the vocabulary as `[UNK]`).
    var promptIds: [Int32]
    /// What the predictor reads first: the end token (the start of every training document), then
    /// the prompt; a corpus model with a prompt starts from the prompt alone.
    var context: [Int32]
    /// Tokens never sampled: padding, and `[UNK]` unless allowed (the end token never is).
    var banned: Set<Int>
    /// The recurrent state a conditioned model starts from (nil: zeros).
    var initialHistory: LanguageModelStepper.History?
    /// A fresh predictor over the model, `banned` masked out.
    var predictor: BannedTokensPredictor
    /// Token ids to text (word-level tokenizers: spaces before punctuation removed).
    var decode: ([Int]) -> String
}

extension TrainedLanguageModel {
    /// Validates `options`, encodes `prompt` (at most the training documents' length unless a
    /// corpus model), and sets up the context, banned tokens, initial state, predictor and decoder.
    func generationStart(prompt: String, options: GenerationOptions) throws -> GenerationStart {
        try options.validate()
        let promptIds = encode(prompt)
        if !config.corpus, promptIds.count > config.maxLength {
            throw RNNError("the prompt has \(promptIds.count) tokens; this model was trained on documents of at most \(config.maxLength)")
        }
        let context = config.corpus && !promptIds.isEmpty ? promptIds : [endId] + promptIds
        var banned = Set([config.paddingId])
        if !options.allowUnknown, let unknown = tokenizer.tokenToId("[UNK]") { banned.insert(unknown) }
        banned.remove(config.endTokenId)
        let history = try initialHistory(condition: options.condition)
        let predictor = BannedTokensPredictor(try makePredictor(initialHistory: history), banned: banned)
        let wordLevel = configFile.training["tokenizer"] == "word"
        let tokenizer = self.tokenizer
        let decode = { (ids: [Int]) -> String in
            let text = tokenizer.decode(ids, skipSpecialTokens: false)
            return wordLevel ? cleanUpTokenizationSpaces(text) : text
        }
        return GenerationStart(promptIds: promptIds, context: context, banned: banned, initialHistory: history,
                               predictor: predictor, decode: decode)
    }
}

/// `options.samples` independent samples, generated side by side as one batch; each sample has
/// its own generator split from the seed, so sample i does not depend on the others.
func sample(_ predictor: any NextTokenPredictor, context: [Int32], endId: Int32,
            options: GenerationOptions) throws -> [(ids: [Int32], stopped: StopReason, logProbability: Double)] {
    let V = predictor.vocabularySize, count = options.samples
    var master = SeededGenerator(seed: options.seed)
    var generators = (0..<count).map { _ in master.split() }
    var ids = [[Int32]](repeating: [], count: count)
    var logProbabilities = [Double](repeating: 0, count: count)
    var stopped = [StopReason](repeating: .maxTokens, count: count)
    let first = try predictor.start(context: context)
    var rows = [Float]()
    rows.reserveCapacity(count * V)
    for _ in 0..<count { rows += first }
    predictor.keep(rows: Array(repeating: 0, count: count))
    var active = Array(0..<count)  // sample index of each predictor row
    for step in 0..<options.maxTokens {
        var survivors: [Int] = [], tokens: [Int32] = []
        for (row, index) in active.enumerated() {
            let distribution = rows[row * V..<(row + 1) * V]
            let token = Int32(sampleToken(distribution, options: options, generator: &generators[index]))
            ids[index].append(token)
            logProbabilities[index] += Double(distribution[distribution.startIndex + Int(token)])
            if token == endId {
                stopped[index] = .endToken
            } else {
                survivors.append(row)
                tokens.append(token)
            }
        }
        guard !survivors.isEmpty, step + 1 < options.maxTokens else { break }
        if survivors.count < active.count { predictor.keep(rows: survivors) }
        active = survivors.map { active[$0] }
        rows = try predictor.feed(tokens)
    }
    return (0..<count).map { (ids[$0], stopped[$0], logProbabilities[$0]) }
}

/// Draws a token from log-probabilities (V) after temperature, top-k and top-p.
func sampleToken(_ logProbabilities: ArraySlice<Float>, options: GenerationOptions, generator: inout SeededGenerator) -> Int {
    let candidates = samplingCandidates(logProbabilities, temperature: options.temperature, topK: options.topK, topP: options.topP)
    if candidates.count == 1 { return candidates[0].id }
    var threshold = generator.nextUnitDouble()
    for candidate in candidates {
        threshold -= candidate.probability
        if threshold < 0 { return candidate.id }
    }
    return candidates.last { $0.probability > 0 }?.id ?? candidates[0].id
}

/// Word-level decoding joins tokens with spaces ("it ' s a dog !"); this removes the spaces
/// before punctuation and around apostrophes, as HuggingFace's `clean_up_tokenization_spaces` does
/// ("it's a dog!").
public func cleanUpTokenizationSpaces(_ text: String) -> String {
    var result = text
    for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                       (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"), (" :", ":"), (" ;", ";")] {
        result = result.replacingOccurrences(of: from, with: to)
    }
    return result
}

/// The tokens sampling may draw and their probabilities (summing to 1):
/// pᵢ ∝ exp(log Pᵢ / temperature); with `topK`, only the k most probable (ties: lower id first),
/// renormalised; with `topP`, then only the smallest most-probable set whose probability reaches
/// p (at least one token), renormalised. Without filters every token is a candidate, in id order.
func samplingCandidates(_ logProbabilities: ArraySlice<Float>, temperature: Double, topK: Int?, topP: Double?)
    -> [(id: Int, probability: Double)] {
    let maximum = Double(logProbabilities.max() ?? 0)
    var weights = logProbabilities.map { exp((Double($0) - maximum) / temperature) }
    var order: [Int]
    if let topK, topK < weights.count {
        order = topKIndices(weights, k: topK)
    } else if topP != nil {
        order = weights.indices.sorted { (weights[$0], -$0) > (weights[$1], -$1) }
    } else {
        let total = weights.reduce(0, +)
        for index in weights.indices { weights[index] /= total }
        return weights.enumerated().map { ($0.offset, $0.element) }
    }
    var total = order.reduce(0) { $0 + weights[$1] }
    if let topP, topP < 1 {
        var cumulative = 0.0, keep = 0
        for index in order {
            cumulative += weights[index] / total
            keep += 1
            if cumulative >= topP { break }
        }
        order = Array(order.prefix(keep))
        total = order.reduce(0) { $0 + weights[$1] }
    }
    return order.map { ($0, weights[$0] / total) }
}

/// Indices of the k largest weights, largest first (ties: lower index first).
private func topKIndices(_ weights: [Double], k: Int) -> [Int] {
    guard k <= 64 else { return Array(weights.indices.sorted { (weights[$0], -$0) > (weights[$1], -$1) }.prefix(k)) }
    var best: [Int] = []
    best.reserveCapacity(k + 1)
    for index in weights.indices {
        if best.count == k, weights[index] <= weights[best[k - 1]] { continue }
        var position = best.count
        while position > 0, weights[best[position - 1]] < weights[index] { position -= 1 }
        best.insert(index, at: position)
        if best.count > k { best.removeLast() }
    }
    return best
}

/// Beam search: keeps the `width` most probable partial continuations (by summed log-probability);
/// a beam that emits the end token is finished. Stops when `width` beams have finished or after
/// `maxTokens`; ranks the finished beams by the length-normalised log-probability, log P / number
/// of generated tokens (end token included), then the unfinished ones the same way, and returns
/// the first `results`.
func beamSearch(_ predictor: any NextTokenPredictor, context: [Int32], endId: Int32, width: Int, maxTokens: Int,
                results: Int) throws -> [(ids: [Int32], stopped: StopReason, logProbability: Double)] {
    let V = predictor.vocabularySize
    var beams: [(ids: [Int32], score: Double)] = [([], 0)]
    var finished: [(ids: [Int32], score: Double)] = []
    var rows = try predictor.start(context: context)
    for step in 0..<maxTokens {
        var candidates: [(parent: Int, token: Int32, score: Double)] = []
        for (parent, beam) in beams.enumerated() {
            let row = rows[parent * V..<(parent + 1) * V]
            for token in topKIndices(row.map(Double.init), k: min(width, V)) {
                candidates.append((parent, Int32(token), beam.score + Double(row[row.startIndex + token])))
            }
        }
        candidates.sort { ($0.score, -$0.parent, -$0.token) > ($1.score, -$1.parent, -$1.token) }
        var next: [(ids: [Int32], score: Double)] = [], parents: [Int] = []
        for candidate in candidates where next.count < width && finished.count < width {
            let ids = beams[candidate.parent].ids + [candidate.token]
            if candidate.token == endId {
                finished.append((ids, candidate.score))
            } else {
                next.append((ids, candidate.score))
                parents.append(candidate.parent)
            }
        }
        beams = next
        guard finished.count < width, !beams.isEmpty, step + 1 < maxTokens else { break }
        predictor.keep(rows: parents)
        rows = try predictor.feed(beams.map { $0.ids.last! })
    }
    func normalised(_ beam: (ids: [Int32], score: Double)) -> Double { beam.score / Double(max(beam.ids.count, 1)) }
    let ranked = finished.sorted { normalised($0) > normalised($1) }.map { ($0.ids, StopReason.endToken, $0.score) }
        + beams.sorted { normalised($0) > normalised($1) }.map { ($0.ids, StopReason.maxTokens, $0.score) }
    return Array(ranked.prefix(results))
}
