import Foundation
import RNNTasks

/// Decoding and checking of request bodies: everything a request must pass before it reaches a
/// model. Every refusal is a `RequestRejection` (400, or 413 for a body over the limit); no other
/// error leaves these functions, whatever the bytes.
public struct RequestChecks: Sendable {
    public let limits: ServeLimits

    public init(limits: ServeLimits) { self.limits = limits }

    /// The body as `T`: at most `maxBodyBytes` (413), valid UTF-8 JSON of the right shape (400).
    public func decode<T: Decodable>(_ type: T.Type, from bytes: Data) throws -> T {
        guard bytes.count <= limits.maxBodyBytes else {
            throw RequestRejection(status: 413, message: "the request body is larger than the server accepts (\(limits.maxBodyBytes) bytes)")
        }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw RequestRejection.badRequest("the body is not UTF-8 text") }
        do {
            return try JSONDecoder().decode(T.self, from: bytes)
        } catch let error as DecodingError {
            throw RequestRejection.badRequest(Self.describe(error))
        } catch let error as RequestRejection {
            throw error
        } catch {
            throw RequestRejection.badRequest("the body is not valid JSON")
        }
    }

    /// Texts of a classify/translate request (or sentences of a tag request): at least one, at
    /// most `maxTextsPerRequest`, none blank, none over `maxTextCharacters`.
    public func check(texts: [String], field: String) throws {
        guard !texts.isEmpty else { throw RequestRejection.badRequest("'\(field)' must hold at least one text") }
        guard texts.count <= limits.maxTextsPerRequest else {
            throw RequestRejection.badRequest("'\(field)' holds \(texts.count) texts; at most \(limits.maxTextsPerRequest) per request")
        }
        for (index, text) in texts.enumerated() {
            if text.allSatisfy(\.isWhitespace) { throw RequestRejection.badRequest("\(field)[\(index)] is empty") }
            if text.count > limits.maxTextCharacters {
                throw RequestRejection.badRequest("\(field)[\(index)] has \(text.count) characters; at most \(limits.maxTextCharacters)")
            }
        }
    }

    /// The words of each sentence of a tag request (checked as texts first), split at whitespace.
    public func words(of request: TagRequest) throws -> [[String]] {
        try check(texts: request.sentences, field: "sentences")
        let sentences = request.sentences.map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
        if let empty = sentences.firstIndex(where: \.isEmpty) { throw RequestRejection.badRequest("sentences[\(empty)] has no words") }
        return sentences
    }

    /// The sampling options of a generate request, checked against the limits and `model`
    /// (prompt length in tokens, condition labels).
    public func generationOptions(_ body: GenerateRequest, model: TrainedLanguageModel) throws -> GenerationOptions {
        var options = GenerationOptions()
        options.maxTokens = body.maxTokens ?? 40
        guard (1...limits.maxGeneratedTokens).contains(options.maxTokens) else {
            throw RequestRejection.badRequest("'max_tokens' must be between 1 and \(limits.maxGeneratedTokens), got \(options.maxTokens)")
        }
        options.temperature = body.temperature ?? 1
        guard options.temperature > 0, options.temperature <= 100, options.temperature.isFinite else {
            throw RequestRejection.badRequest("'temperature' must be greater than 0 and at most 100, got \(options.temperature)")
        }
        options.topK = body.topK
        if let topK = body.topK, topK < 1 { throw RequestRejection.badRequest("'top_k' must be at least 1, got \(topK)") }
        options.topP = body.topP
        if let topP = body.topP, !(topP > 0 && topP <= 1) { throw RequestRejection.badRequest("'top_p' must be in (0, 1], got \(topP)") }
        options.seed = body.seed ?? 1
        options.condition = body.condition
        guard body.prompt.count <= limits.maxTextCharacters else {
            throw RequestRejection.badRequest("'prompt' has \(body.prompt.count) characters; at most \(limits.maxTextCharacters)")
        }
        let promptTokens = model.encode(body.prompt).count
        if !model.config.corpus, promptTokens > model.config.maxLength {
            throw RequestRejection.badRequest("'prompt' has \(promptTokens) tokens; this model was trained on documents of at most \(model.config.maxLength)")
        }
        if let condition = body.condition, !model.conditions.contains(condition) {
            throw RequestRejection.badRequest(model.conditions.isEmpty ? "this model is not conditioned; leave out 'condition'"
                                              : "unknown 'condition' '\(condition)'; this model knows: \(model.conditions.joined(separator: ", "))")
        }
        if body.condition == nil, !model.conditions.isEmpty {
            throw RequestRejection.badRequest("this model is conditioned: give 'condition' (one of \(model.conditions.joined(separator: ", ")))")
        }
        return options
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty: return "the body is not valid JSON"
        case .dataCorrupted(let context): return "'\(path(context.codingPath))': invalid value"
        case .keyNotFound(let key, let context): return "missing field '\(path(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return field.isEmpty ? "the body must be a JSON object" : "'\(field)' must be \(describe(type))"
        @unknown default: return "the body does not match the request schema"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is UInt64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [String].Type, is [Any].Type: "an array"
        default: "of the right type (see /openapi.yaml)"
        }
    }
}
