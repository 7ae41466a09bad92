import Foundation
import Hummingbird
import RNNCore
import RNNTasks

// The JSON bodies of the API (snake_case on the wire, as in openapi.yaml) and the handlers
// that answer them. Every handler checks its input before it reaches a model: a mistake is a
// 400 with a message naming the field.

struct ClassifyRequest: Decodable {
    var model: String?
    var texts: [String]
}

struct ClassifyResponse: Encodable {
    var model: String
    var results: [ClassPrediction]
}

struct TagRequest: Decodable {
    var model: String?
    /// Sentences, words separated by whitespace.
    var sentences: [String]
}

struct TaggedSentenceBody: Encodable {
    var words: [String]
    var tags: [String]
}

struct TagResponse: Encodable {
    var model: String
    var results: [TaggedSentenceBody]
}

struct TranslateRequest: Decodable {
    var model: String?
    var texts: [String]
}

struct TranslateResponse: Encodable {
    struct Result: Encodable { var translation: String }
    var model: String
    var results: [Result]
}

struct GenerateRequest: Decodable {
    var model: String?
    var prompt: String
    var maxTokens: Int?
    var temperature: Double?
    var topK: Int?
    var topP: Double?
    var seed: UInt64?
    var condition: String?
    var stream: Bool?

    enum CodingKeys: String, CodingKey {
        case model, prompt, temperature, seed, condition, stream
        case maxTokens = "max_tokens", topK = "top_k", topP = "top_p"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        prompt = try container.decode(String.self, forKey: .prompt)
        maxTokens = try Self.integer(Int.self, .maxTokens, in: container)
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
        topK = try Self.integer(Int.self, .topK, in: container)
        topP = try container.decodeIfPresent(Double.self, forKey: .topP)
        seed = try Self.integer(UInt64.self, .seed, in: container)
        condition = try container.decodeIfPresent(String.self, forKey: .condition)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream)
    }

    /// An integer field. Foundation reports a number that is not one (2.5, -3 for a seed, 1e30)
    /// as "not valid JSON" without naming the field; this names it.
    private static func integer<T: FixedWidthInteger & Decodable>(_ type: T.Type, _ key: CodingKeys,
                                                                  in container: KeyedDecodingContainer<CodingKeys>) throws -> T? {
        do {
            return try container.decodeIfPresent(T.self, forKey: key)
        } catch let error as DecodingError {
            guard case .dataCorrupted = error else { throw error }  // a string, an array: described by type
            throw APIError.badRequest("'\(key.stringValue)' must be an integer from \(T.min) to \(T.max)")
        } catch {  // Foundation's internal "number is not representable" error
            throw APIError.badRequest("'\(key.stringValue)' must be an integer from \(T.min) to \(T.max)")
        }
    }
}

struct GenerateResponse: Encodable {
    var model: String
    var prompt: String
    var text: String
    var tokens: [String]
    /// end_token, max_tokens, or timeout.
    var stopped: String
    var logProbability: Double

    enum CodingKeys: String, CodingKey {
        case model, prompt, text, tokens, stopped
        case logProbability = "log_probability"
    }
}

struct TokenEvent: Encodable {
    var token: String
    var text: String
    var id: Int
}

struct ModelsResponse: Encodable {
    var models: [ModelCard]
}

struct HealthResponse: Encodable {
    var status: String
    var models: Int
}

/// The API's handlers over one registry.
struct Endpoints: Sendable {
    let registry: ModelRegistry
    let limits: ServeLimits
    let generations: GenerationRunner

    func classify(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await decode(ClassifyRequest.self, from: request)
        try check(texts: body.texts, field: "texts")
        let model = try registry.model(named: body.model, task: "classify")
        guard case .classifier(let queue) = model.engine else { throw APIError.badRequest("model '\(model.name)' cannot classify") }
        return jsonResponse(ClassifyResponse(model: model.name, results: try await queue.submit(body.texts)))
    }

    func tag(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await decode(TagRequest.self, from: request)
        try check(texts: body.sentences, field: "sentences")
        let model = try registry.model(named: body.model, task: "tag")
        guard case .tagger(let queue) = model.engine else { throw APIError.badRequest("model '\(model.name)' cannot tag") }
        let sentences = body.sentences.map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
        if let empty = sentences.firstIndex(where: \.isEmpty) { throw APIError.badRequest("sentences[\(empty)] has no words") }
        let tags = try await queue.submit(sentences)
        return jsonResponse(TagResponse(model: model.name, results: zip(sentences, tags).map { TaggedSentenceBody(words: $0, tags: $1) }))
    }

    func translate(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await decode(TranslateRequest.self, from: request)
        try check(texts: body.texts, field: "texts")
        let model = try registry.model(named: body.model, task: "translate")
        guard case .translator(let queue) = model.engine else { throw APIError.badRequest("model '\(model.name)' cannot translate") }
        let translations = try await queue.submit(body.texts)
        return jsonResponse(TranslateResponse(model: model.name, results: translations.map { .init(translation: $0) }))
    }

    func generate(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await decode(GenerateRequest.self, from: request)
        let model = try registry.model(named: body.model, task: "lm")
        guard case .languageModel(let shared) = model.engine else { throw APIError.badRequest("model '\(model.name)' cannot generate") }
        let options = try generationOptions(body, model: shared.model)
        let deadline = Date() + limits.requestTimeout.seconds
        let name = model.name, prompt = body.prompt
        let response = { @Sendable (result: StreamedGeneration, stop: StopFlag) in
            GenerateResponse(model: name, prompt: prompt, text: result.continuation, tokens: result.tokens,
                             stopped: result.stopped == .stopped ? (stop.isSet ? "cancelled" : "timeout") : result.stopped.rawValue,
                             logProbability: result.logProbability)
        }
        let stop = StopFlag()
        guard body.stream == true else {
            let result = try await generations.run {
                try shared.model.generateStreaming(prompt: prompt, options: options, shouldStop: { Date() > deadline }, onToken: { _ in })
            }
            return jsonResponse(response(result, stop))
        }
        let (events, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        continuation.onTermination = { _ in stop.set() }
        try generations.start {
            do {
                let result = try shared.model.generateStreaming(prompt: prompt, options: options,
                                                                shouldStop: { stop.isSet || Date() > deadline }) { token in
                    continuation.yield(serverSentEvent("token", TokenEvent(token: token.token, text: token.text, id: token.id)))
                }
                continuation.yield(serverSentEvent("done", response(result, stop)))
            } catch let error as RNNError {
                continuation.yield(serverSentEvent("error", ErrorBody(error: .init(status: 400, message: error.message))))
            } catch {
                continuation.yield(serverSentEvent("error", ErrorBody(error: .init(status: 500, message: "internal error"))))
            }
            continuation.finish()
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                         body: ResponseBody(asyncSequence: events))
    }

    func models(_ request: Request, context: some RequestContext) async throws -> Response {
        jsonResponse(ModelsResponse(models: registry.models.map(\.card)))
    }

    func health(_ request: Request, context: some RequestContext) async throws -> Response {
        jsonResponse(HealthResponse(status: "ok", models: registry.models.count))
    }

    // MARK: - Input checks

    /// The body as `T`: at most `maxBodyBytes` (413), valid UTF-8 JSON of the right shape (400).
    private func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        var buffer = ByteBuffer()
        for try await part in request.body {
            guard buffer.readableBytes + part.readableBytes <= limits.maxBodyBytes else {
                throw APIError(.contentTooLarge, "the request body is larger than the server accepts (\(limits.maxBodyBytes) bytes)")
            }
            buffer.writeImmutableBuffer(part)
        }
        let bytes = Data(buffer: buffer)
        guard String(validating: bytes, as: UTF8.self) != nil else { throw APIError.badRequest("the body is not UTF-8 text") }
        do {
            return try JSONDecoder().decode(T.self, from: bytes)
        } catch let error as DecodingError {
            throw APIError.badRequest(describe(error))
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.badRequest("the body is not valid JSON")
        }
    }

    private func describe(_ error: DecodingError) -> String {
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

    private func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is UInt64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [String].Type, is [Any].Type: "an array"
        default: "of the right type (see /openapi.yaml)"
        }
    }

    private func check(texts: [String], field: String) throws {
        guard !texts.isEmpty else { throw APIError.badRequest("'\(field)' must hold at least one text") }
        guard texts.count <= limits.maxTextsPerRequest else {
            throw APIError.badRequest("'\(field)' holds \(texts.count) texts; at most \(limits.maxTextsPerRequest) per request")
        }
        for (index, text) in texts.enumerated() {
            if text.allSatisfy(\.isWhitespace) { throw APIError.badRequest("\(field)[\(index)] is empty") }
            if text.count > limits.maxTextCharacters {
                throw APIError.badRequest("\(field)[\(index)] has \(text.count) characters; at most \(limits.maxTextCharacters)")
            }
        }
    }

    private func generationOptions(_ body: GenerateRequest, model: TrainedLanguageModel) throws -> GenerationOptions {
        var options = GenerationOptions()
        options.maxTokens = body.maxTokens ?? 40
        guard (1...limits.maxGeneratedTokens).contains(options.maxTokens) else {
            throw APIError.badRequest("'max_tokens' must be between 1 and \(limits.maxGeneratedTokens), got \(options.maxTokens)")
        }
        options.temperature = body.temperature ?? 1
        guard options.temperature > 0, options.temperature <= 100, options.temperature.isFinite else {
            throw APIError.badRequest("'temperature' must be greater than 0 and at most 100, got \(options.temperature)")
        }
        options.topK = body.topK
        if let topK = body.topK, topK < 1 { throw APIError.badRequest("'top_k' must be at least 1, got \(topK)") }
        options.topP = body.topP
        if let topP = body.topP, !(topP > 0 && topP <= 1) { throw APIError.badRequest("'top_p' must be in (0, 1], got \(topP)") }
        options.seed = body.seed ?? 1
        options.condition = body.condition
        guard body.prompt.count <= limits.maxTextCharacters else {
            throw APIError.badRequest("'prompt' has \(body.prompt.count) characters; at most \(limits.maxTextCharacters)")
        }
        let promptTokens = model.encode(body.prompt).count
        if !model.config.corpus, promptTokens > model.config.maxLength {
            throw APIError.badRequest("'prompt' has \(promptTokens) tokens; this model was trained on documents of at most \(model.config.maxLength)")
        }
        if let condition = body.condition, !model.conditions.contains(condition) {
            throw APIError.badRequest(model.conditions.isEmpty ? "this model is not conditioned; leave out 'condition'"
                                      : "unknown 'condition' '\(condition)'; this model knows: \(model.conditions.joined(separator: ", "))")
        }
        if body.condition == nil, !model.conditions.isEmpty {
            throw APIError.badRequest("this model is conditioned: give 'condition' (one of \(model.conditions.joined(separator: ", ")))")
        }
        return options
    }
}

/// One server-sent event: `event: NAME` and the JSON value on one `data:` line.
func serverSentEvent(_ name: String, _ value: some Encodable) -> ByteBuffer {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let json = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    return ByteBuffer(string: "event: \(name)\ndata: \(json)\n\n")
}
