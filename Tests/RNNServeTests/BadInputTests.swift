import Foundation
import Hummingbird
import HummingbirdTesting
import RNNCore
import XCTest
@testable import RNNServe

final class BadInputTests: XCTestCase {
    /// Each bad request gets its 4xx and a JSON error naming the problem; the server keeps serving.
    func testBadRequestsAreJSONErrorsAndTheServerKeepsServing() async throws {
        var limits = ServeLimits()
        limits.maxBodyBytes = 4096
        limits.maxTextCharacters = 500
        limits.maxTextsPerRequest = 4
        limits.maxGeneratedTokens = 100
        let cases: [(uri: String, body: String, status: HTTPResponse.Status, message: String)] = [
            ("/v1/classify", #"{"texts": ["good"]"#, .badRequest, "the body is not valid JSON"),
            ("/v1/classify", "", .badRequest, "the body is not valid JSON"),
            ("/v1/classify", #"["good"]"#, .badRequest, "the body must be a JSON object"),
            ("/v1/classify", #"{"text": "good"}"#, .badRequest, "missing field 'texts'"),
            ("/v1/classify", #"{"texts": "good"}"#, .badRequest, "'texts' must be an array"),
            ("/v1/classify", #"{"texts": [1, 2]}"#, .badRequest, "'texts[0]' must be a string"),
            ("/v1/classify", #"{"texts": []}"#, .badRequest, "'texts' must hold at least one text"),
            ("/v1/classify", #"{"texts": ["ok", "  "]}"#, .badRequest, "texts[1] is empty"),
            ("/v1/classify", #"{"texts": ["a", "b", "c", "d", "e"]}"#, .badRequest, "'texts' holds 5 texts; at most 4 per request"),
            ("/v1/classify", #"{"texts": ["\#(String(repeating: "long ", count: 120))"]}"#, .badRequest, "texts[0] has 600 characters; at most 500"),
            ("/v1/classify", #"{"texts": ["\#(String(repeating: "x", count: 5000))"]}"#, .contentTooLarge, "the request body is larger than the server accepts (4096 bytes)"),
            ("/v1/classify", #"{"model": "nope", "texts": ["good"]}"#, .notFound, "no model named 'nope' (classify models: sentiment)"),
            ("/v1/classify", #"{"model": "jokes", "texts": ["good"]}"#, .badRequest, "model 'jokes' is a 'lm' model, not a 'classify' model (classify models: sentiment)"),
            ("/v1/classify", #"{"model": null, "texts": null}"#, .badRequest, "'texts' must be an array"),
            ("/v1/generate", #"{"prompt": "the", "max_tokens": 0}"#, .badRequest, "'max_tokens' must be between 1 and 100, got 0"),
            ("/v1/generate", #"{"prompt": "the", "max_tokens": 100000}"#, .badRequest, "'max_tokens' must be between 1 and 100, got 100000"),
            ("/v1/generate", #"{"prompt": "the", "max_tokens": 2.5}"#, .badRequest, "'max_tokens' must be an integer from \(Int.min) to \(Int.max)"),
            ("/v1/generate", #"{"prompt": "the", "temperature": 0}"#, .badRequest, "'temperature' must be greater than 0 and at most 100, got 0.0"),
            ("/v1/generate", #"{"prompt": "the", "temperature": -1}"#, .badRequest, "'temperature' must be greater than 0 and at most 100, got -1.0"),
            ("/v1/generate", #"{"prompt": "the", "top_k": 0}"#, .badRequest, "'top_k' must be at least 1, got 0"),
            ("/v1/generate", #"{"prompt": "the", "top_p": 1.5}"#, .badRequest, "'top_p' must be in (0, 1], got 1.5"),
            ("/v1/generate", #"{"prompt": "the", "seed": -3}"#, .badRequest, "'seed' must be an integer from 0 to 18446744073709551615"),
            ("/v1/generate", #"{"prompt": "the", "condition": "pos"}"#, .badRequest, "this model is not conditioned; leave out 'condition'"),
            ("/v1/generate", #"{"prompt": 7}"#, .badRequest, "'prompt' must be a string"),
            ("/v1/tag", #"{"sentences": ["  \n "]}"#, .badRequest, "sentences[0] is empty"),
            ("/v1/translate", #"{"texts": ["Hund"]}"#, .notFound, "no translation model loaded"),
            ("/v1/nothing", "{}", .notFound, "no such endpoint: POST /v1/nothing"),
        ]
        try await withServer(try TinyModels.registry(limits: limits), limits: limits) { client in
            for item in cases {
                let response = try await client.post(item.uri, item.body)
                XCTAssertEqual(response.status, item.status, "\(item.uri) \(item.body.prefix(80))")
                XCTAssertEqual(try response.errorMessage, item.message, "\(item.uri) \(item.body.prefix(80))")
            }
            // Not UTF-8.
            let bytes: [UInt8] = Array(#"{"texts": [""#.utf8) + [0xFF, 0xFE, 0xC3] + Array(#""]}"#.utf8)
            let binary = try await client.execute(uri: "/v1/classify", method: .post, body: ByteBuffer(bytes: bytes))
            XCTAssertEqual(binary.status, .badRequest)
            XCTAssertEqual(try binary.errorMessage, "the body is not UTF-8 text")
            // A GET where only POST is served, and an unknown page.
            let getOnPost = try await client.get("/v1/classify")
            XCTAssertEqual(getOnPost.status, .notFound)
            let missing = try await client.get("/missing")
            XCTAssertEqual(try missing.errorMessage, "no such endpoint: GET /missing")
            // Still serving.
            let good = try await client.post("/v1/classify", #"{"texts": ["good"]}"#)
            XCTAssertEqual(good.status, .ok)
        }
    }

    func testLoadingReportsBadModelDirectoriesAsOneLine() throws {
        XCTAssertThrowsError(try ModelRegistry.load([], limits: ServeLimits())) { error in
            XCTAssertEqual((error as? RNNError)?.message, "no models: pass --model DIR at least once")
        }
        XCTAssertThrowsError(try ModelRegistry.load(["/nonexistent/model"], limits: ServeLimits())) { error in
            XCTAssertEqual((error as? RNNError)?.message, "/nonexistent/model: no such model directory")
        }
        XCTAssertThrowsError(try ModelRegistry.load([TinyModels.classifier, "sentiment=" + TinyModels.tagger], limits: ServeLimits())) { error in
            XCTAssertEqual((error as? RNNError)?.message, "two models are named 'sentiment'; serve them as NAME=DIR with different names")
        }
        let named = try ModelRegistry.load(["reviews=" + TinyModels.classifier + "/"], limits: ServeLimits())
        XCTAssertEqual(named.models.map(\.name), ["reviews"])
        named.close()
    }
}

