import Foundation
import RNNServeAPI
import RNNTasks
import XCTest

/// The request decoding and checks on their own, without the HTTP server (what the
/// `serve_requests` fuzz target runs); BadInputTests covers the same through HTTP.
final class RequestChecksTests: XCTestCase {
    private let checks: RequestChecks = {
        var limits = ServeLimits()
        limits.maxBodyBytes = 64
        limits.maxTextsPerRequest = 2
        limits.maxTextCharacters = 10
        return RequestChecks(limits: limits)
    }()

    private func rejection(_ body: () throws -> Void) -> RequestRejection? {
        do {
            try body()
            return nil
        } catch let rejection as RequestRejection {
            return rejection
        } catch {
            XCTFail("not a RequestRejection: \(error)")
            return nil
        }
    }

    func testWellFormedBodiesDecode() throws {
        let classify = try checks.decode(ClassifyRequest.self, from: Data(#"{"model": "m", "texts": ["good"]}"#.utf8))
        XCTAssertEqual(classify.model, "m")
        XCTAssertEqual(classify.texts, ["good"])
        let generate = try checks.decode(GenerateRequest.self, from: Data(#"{"prompt": "a", "max_tokens": 3, "top_k": 2, "seed": 9}"#.utf8))
        XCTAssertEqual(generate.maxTokens, 3)
        XCTAssertEqual(generate.topK, 2)
        XCTAssertEqual(generate.seed, 9)
        let tag = try checks.decode(TagRequest.self, from: Data(#"{"sentences": [" a  b ", "c"]}"#.utf8))
        XCTAssertEqual(try checks.words(of: tag), [["a", "b"], ["c"]])
    }

    func testBadBodiesAreRejectedWithStatusAndMessage() {
        let cases: [(String, Int, String)] = [
            (#"{"texts": ["x"]"#, 400, "the body is not valid JSON"),
            (#"{"texts": "x"}"#, 400, "'texts' must be an array"),
            (#"[]"#, 400, "the body must be a JSON object"),
            (String(repeating: " ", count: 65), 413, "the request body is larger than the server accepts (64 bytes)"),
        ]
        for (body, status, message) in cases {
            XCTAssertEqual(rejection { _ = try checks.decode(ClassifyRequest.self, from: Data(body.utf8)) },
                           RequestRejection(status: status, message: message), body)
        }
        XCTAssertEqual(rejection { _ = try checks.decode(ClassifyRequest.self, from: Data([0x7B, 0xFF, 0x7D])) },
                       .badRequest("the body is not UTF-8 text"))
        XCTAssertEqual(rejection { _ = try checks.decode(GenerateRequest.self, from: Data(#"{"prompt": "a", "seed": 1.5}"#.utf8)) },
                       .badRequest("'seed' must be an integer from 0 to 18446744073709551615"))
    }

    func testTextsAreChecked() {
        XCTAssertEqual(rejection { try checks.check(texts: [], field: "texts") }, .badRequest("'texts' must hold at least one text"))
        XCTAssertEqual(rejection { try checks.check(texts: ["a", "b", "c"], field: "texts") },
                       .badRequest("'texts' holds 3 texts; at most 2 per request"))
        XCTAssertEqual(rejection { try checks.check(texts: ["a", " \n"], field: "texts") }, .badRequest("texts[1] is empty"))
        XCTAssertEqual(rejection { try checks.check(texts: ["abcdefghijk"], field: "texts") },
                       .badRequest("texts[0] has 11 characters; at most 10"))
        XCTAssertNil(rejection { try checks.check(texts: ["ok", "fine"], field: "texts") })
    }

    func testGenerationOptionsAreCheckedAgainstTheModel() throws {
        let model = try TrainedLanguageModel.load(from: TinyModels.languageModel)
        func options(_ json: String) throws -> GenerationOptions {
            try checks.generationOptions(try JSONDecoder().decode(GenerateRequest.self, from: Data(json.utf8)), model: model)
        }
        let accepted = try options(#"{"prompt": "the", "max_tokens": 5, "temperature": 0.5, "top_p": 0.9, "seed": 3}"#)
        XCTAssertEqual(accepted.maxTokens, 5)
        XCTAssertEqual(accepted.temperature, 0.5)
        XCTAssertEqual(accepted.topP, 0.9)
        XCTAssertEqual(accepted.seed, 3)
        XCTAssertNoThrow(try accepted.validate())
        XCTAssertEqual(rejection { _ = try options(#"{"prompt": "the", "top_k": 0}"#) }, .badRequest("'top_k' must be at least 1, got 0"))
        XCTAssertEqual(rejection { _ = try options(#"{"prompt": "the", "temperature": 101}"#) },
                       .badRequest("'temperature' must be greater than 0 and at most 100, got 101.0"))
        XCTAssertEqual(rejection { _ = try options(#"{"prompt": "the", "condition": "pos"}"#) },
                       .badRequest("this model is not conditioned; leave out 'condition'"))
        XCTAssertEqual(rejection { _ = try options(#"{"prompt": "abcdefghijk"}"#) }, .badRequest("'prompt' has 11 characters; at most 10"))
    }
}
