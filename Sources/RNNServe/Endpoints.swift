import Foundation
import Hummingbird
import RNNCore
import RNNServeAPI
import RNNTasks

// The JSON responses of the API (snake_case on the wire, as in openapi.yaml) and the handlers
// that answer them. The request bodies and their checks are in RNNServeAPI (no HTTP server
// needed, so they can be fuzzed): every handler checks its input before it reaches a model, a
// mistake is a 400 with a message naming the field.

struct ClassifyResponse: Encodable {
    var model: String
    var results: [ClassPrediction]
}

struct TaggedSentenceBody: Encodable {
    var words: [String]
    var tags: [String]
}

struct TagResponse: Encodable {
    var model: String
    var results: [TaggedSentenceBody]
}

struct TranslateResponse: Encodable {
    struct Result: Encodable { var translation: String }
    var model: String
    var results: [Result]
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
        try checks.check(texts: body.texts, field: "texts")
        let model = try registry.model(named: body.model, task: "classify")
        guard case .classifier(let classifier) = model.engine else { throw APIError.badRequest("model '\(model.name)' cannot classify") }
        // Tokenized here, on the connection's task (in parallel with other requests and with the
        // forward pass running now); the model's thread only runs forward passes.
        let results = try await classifier.queue.submit(classifier.tokenize(body.texts))
        return jsonResponse(ClassifyResponse(model: model.name, results: results))
    }

    func tag(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await decode(TagRequest.self, from: request)
        let sentences = try checks.words(of: body)
        let model = try registry.model(named: body.model, task: "tag")
        guard case .tagger(let queue) = model.engine else { throw APIError.badRequest("model '\(model.name)' cannot tag") }
        let tags = try await queue.submit(sentences)
        return jsonResponse(TagResponse(model: model.name, results: zip(sentences, tags).map { TaggedSentenceBody(words: $0, tags: $1) }))
    }

    func translate(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await decode(TranslateRequest.self, from: request)
        try checks.check(texts: body.texts, field: "texts")
        let model = try registry.model(named: body.model, task: "translate")
        guard case .translator(let queue) = model.engine else { throw APIError.badRequest("model '\(model.name)' cannot translate") }
        let translations = try await queue.submit(body.texts)
        return jsonResponse(TranslateResponse(model: model.name, results: translations.map { .init(translation: $0) }))
    }

    func generate(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await decode(GenerateRequest.self, from: request)
        let model = try registry.model(named: body.model, task: "lm")
        guard case .languageModel(let shared) = model.engine else { throw APIError.badRequest("model '\(model.name)' cannot generate") }
        let options = try checks.generationOptions(body, model: shared.model)
        let deadline = Date() + limits.requestTimeout.seconds
        let name = model.name, prompt = body.prompt
        let response = { @Sendable (result: StreamedGeneration, stop: StopFlag) in
            GenerateResponse(model: name, prompt: prompt, text: result.continuation, tokens: result.tokens,
                             stopped: result.stopped == .stopped ? (stop.isSet ? "cancelled" : "timeout") : result.stopped.rawValue,
                             logProbability: result.logProbability)
        }
        let stop = StopFlag()
        guard body.stream == true else {
            let result = try await generations.run { [generations] in
                try shared.model.generateStreaming(prompt: prompt, options: options,
                                                   shouldStop: generations.steps.betweenTokens { Date() > deadline }, onToken: { _ in })
            }
            return jsonResponse(response(result, stop))
        }
        let (events, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        continuation.onTermination = { _ in stop.set() }
        try generations.start { [generations] in
            do {
                let result = try shared.model.generateStreaming(prompt: prompt, options: options,
                                                                shouldStop: generations.steps.betweenTokens { stop.isSet || Date() > deadline }) { token in
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

    // MARK: - Input

    private var checks: RequestChecks { RequestChecks(limits: limits) }

    /// The body as `T`: read up to `maxBodyBytes` (413 beyond), then decoded and checked by
    /// `RequestChecks.decode` (a `RequestRejection`, answered as a JSON error).
    private func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        var buffer = ByteBuffer()
        for try await part in request.body {
            guard buffer.readableBytes + part.readableBytes <= limits.maxBodyBytes else {
                throw APIError(.contentTooLarge, "the request body is larger than the server accepts (\(limits.maxBodyBytes) bytes)")
            }
            buffer.writeImmutableBuffer(part)
        }
        return try checks.decode(T.self, from: Data(buffer: buffer))
    }
}

/// One server-sent event: `event: NAME` and the JSON value on one `data:` line.
func serverSentEvent(_ name: String, _ value: some Encodable) -> ByteBuffer {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let json = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    return ByteBuffer(string: "event: \(name)\ndata: \(json)\n\n")
}
