import Foundation
import Hummingbird
import HummingbirdTesting
import RNNCore
import RNNTasks
import XCTest
@testable import RNNServe

final class EndpointsTests: XCTestCase {
    func testClassifyAnswersWhatTheModelPredictsDirectly() async throws {
        let texts = ["a wonderful film, I loved it", "dull and far too long", "fine"]
        let expected = try TrainedClassifier.load(from: TinyModels.classifier).predict(texts)
        try await withServer(try TinyModels.registry()) { client in
            let response = try await client.post("/v1/classify", #"{"model": "sentiment", "texts": ["a wonderful film, I loved it", "dull and far too long", "fine"]}"#)
            XCTAssertEqual(response.status, .ok)
            let results = try XCTUnwrap(try response.json["results"] as? [[String: Any]])
            XCTAssertEqual(results.count, 3)
            for (result, prediction) in zip(results, expected) {
                XCTAssertEqual(result["label"] as? String, prediction.label)
                XCTAssertEqual(try XCTUnwrap(result["probability"] as? Double), prediction.probability, accuracy: 1e-6)
                let probabilities = try XCTUnwrap(result["probabilities"] as? [String: Double])
                XCTAssertEqual(probabilities.values.reduce(0, +), 1, accuracy: 1e-5)
            }
            // The model name may be left out when one classifier is loaded.
            let unnamed = try await client.post("/v1/classify", #"{"texts": ["fine"]}"#)
            XCTAssertEqual(try (unnamed.json["results"] as? [[String: Any]])?.first?["label"] as? String, expected[2].label)
        }
    }

    func testGenerateMatchesTheCommandLineGenerationAndStreamsTheSameTokens() async throws {
        let model = try TrainedLanguageModel.load(from: TinyModels.languageModel)
        var options = GenerationOptions()
        options.maxTokens = 6
        options.seed = 3
        options.temperature = 0.9
        let expected = try model.generate(prompt: "the", options: options)[0]
        try await withServer(try TinyModels.registry()) { client in
            let body = #"{"model": "jokes", "prompt": "the", "max_tokens": 6, "seed": 3, "temperature": 0.9"#
            let plain = try await client.post("/v1/generate", body + "}")
            XCTAssertEqual(plain.status, .ok)
            let json = try plain.json
            XCTAssertEqual(json["text"] as? String, expected.continuation)
            XCTAssertEqual(json["tokens"] as? [String], expected.tokens)
            XCTAssertEqual(json["stopped"] as? String, expected.stopped.rawValue)
            XCTAssertEqual(try XCTUnwrap(json["log_probability"] as? Double), expected.logProbability, accuracy: 1e-4)

            let streamed = try await client.post("/v1/generate", body + #", "stream": true}"#)
            XCTAssertEqual(streamed.status, .ok)
            XCTAssertEqual(streamed.headers[.contentType], "text/event-stream")
            let events = String(buffer: streamed.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }
            let tokens = try events.filter { $0.hasPrefix("event: token\n") }.map { event -> String in
                let data = try XCTUnwrap(event.split(separator: "\n").last?.dropFirst("data: ".count))
                let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])
                return try XCTUnwrap(object["token"] as? String)
            }
            XCTAssertEqual(tokens, expected.tokens, "one token event per generated token, in order")
            XCTAssertEqual(events.last?.hasPrefix("event: done\n"), true, "the stream ends with a done event")
            XCTAssertTrue(events.last?.contains(#""stopped":"\#(expected.stopped.rawValue)""#) == true, events.last ?? "")
        }
    }

    func testTagAnswersWhatTheTaggerPredictsDirectly() async throws {
        let expected = try TrainedTagger.load(from: TinyModels.tagger).tag([["The", "cat", "sat", "."]])
        try await withServer(try TinyModels.registry()) { client in
            let response = try await client.post("/v1/tag", #"{"sentences": ["The  cat sat ."]}"#)
            XCTAssertEqual(response.status, .ok)
            let result = try XCTUnwrap((try response.json["results"] as? [[String: Any]])?.first)
            XCTAssertEqual(result["words"] as? [String], ["The", "cat", "sat", "."])
            XCTAssertEqual(result["tags"] as? [String], expected[0])
        }
    }

    func testModelsHealthPageAndSpec() async throws {
        let parameters = try TrainedClassifier.load(from: TinyModels.classifier).model.store.scalarCount
        try await withServer(try TinyModels.registry()) { client in
            let listing = try await client.get("/v1/models")
            let models = try XCTUnwrap(try listing.json["models"] as? [[String: Any]])
            XCTAssertEqual(models.map { $0["name"] as? String }, ["sentiment", "jokes", "tagger"])
            XCTAssertEqual(models.map { $0["task"] as? String }, ["classify", "lm", "tag"])
            XCTAssertEqual(models[0]["parameters"] as? Int, parameters)
            XCTAssertNotNil((models[0]["metrics"] as? [String: Double])?["validation_accuracy"])
            XCTAssertNotNil((models[0]["config"] as? [String: Any])?["recurrent"])
            XCTAssertEqual(models[0]["labels"] as? [String], ["neg", "pos"])

            let health = try await client.get("/healthz")
            XCTAssertEqual(try health.json["status"] as? String, "ok")
            let page = try await client.get("/")
            XCTAssertEqual(page.headers[.contentType], "text/html; charset=utf-8")
            XCTAssertTrue(String(buffer: page.body).contains("/v1/classify"))
            let spec = try await client.get("/openapi.yaml")
            XCTAssertTrue(String(buffer: spec.body).hasPrefix("openapi: 3.1.0"))
        }
    }

    func testTranslateIsNotFoundUntilATranslationModelIsLoadedAndPlugsInByTask() async throws {
        try await withServer(try TinyModels.registry()) { client in
            let response = try await client.post("/v1/translate", #"{"texts": ["Ein Hund."]}"#)
            XCTAssertEqual(response.status, .notFound)
            XCTAssertEqual(try response.errorMessage, "no translation model loaded")
        }
        // A model directory whose config.json says task "translate", served by a loader for that task.
        let directory = TinyModels.directory + "/translator"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.copyItem(atPath: TinyModels.classifier, toPath: directory)
        let config = directory + "/config.json"
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: #""task" : "classify""#, with: #""task" : "translate""#)
        XCTAssertTrue(text.contains(#""task" : "translate""#), "the copied config names the translate task")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        var loaders = ModelRegistry.standardLoaders
        loaders["translate"] = { path, name, limits in
            try .translator(name: name, path: path, limits: limits) { texts in texts.map { String($0.reversed()) } }
        }
        try await withServer(try TinyModels.registry(loaders: loaders, extra: [directory])) { client in
            let response = try await client.post("/v1/translate", #"{"texts": ["abc", "Hund"]}"#)
            XCTAssertEqual(response.status, .ok)
            let results = try XCTUnwrap(try response.json["results"] as? [[String: Any]])
            XCTAssertEqual(results.map { $0["translation"] as? String }, ["cba", "dnuH"])
        }
        // The standard translate loader reads real translation models: this copied classifier is not one.
        XCTAssertThrowsError(try TinyModels.registry(extra: [directory])) { error in
            XCTAssertTrue((error as? RNNError)?.message.contains("translator/config.json") == true, "\(error)")
        }
        var withoutTranslate = ModelRegistry.standardLoaders
        withoutTranslate["translate"] = nil
        XCTAssertThrowsError(try TinyModels.registry(loaders: withoutTranslate, extra: [directory])) { error in
            XCTAssertTrue((error as? RNNError)?.message.contains("is a 'translate' model; this server serves classify, lm, tag models") == true, "\(error)")
        }
    }

    func testConcurrentClassifyRequestsShareForwardPasses() async throws {
        var limits = ServeLimits()
        limits.batchWait = .milliseconds(50)
        let registry = try TinyModels.registry(limits: limits)
        guard case .classifier(let classifier) = try registry.model(named: "sentiment", task: "classify").engine else {
            return XCTFail("not a classifier")
        }
        try await withServer(registry, limits: limits) { client in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<16 {
                    group.addTask { try await client.post("/v1/classify", #"{"texts": ["review number \#(index)"]}"#).status }
                }
                for try await status in group { XCTAssertEqual(status, .ok) }
            }
        }
        let statistics = classifier.queue.statistics
        XCTAssertEqual(statistics.inputs, 16)
        XCTAssertLessThan(statistics.batches, 16, "16 concurrent requests within a 50 ms window ran in \(statistics.batches) passes")
    }
}
