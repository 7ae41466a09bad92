import Foundation
import Hummingbird
import HummingbirdTesting
import RNNCore
import RNNTasks
import XCTest
@testable import RNNServe

/// Three tiny models trained once for all the serving tests (a few seconds): a classifier on
/// the tiny sentiment set, a language model on two repeated sentences, a tagger on the tiny
/// CoNLL-U set.
enum TinyModels {
    static let directory: String = {
        let path = NSTemporaryDirectory() + "rnn-serve-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    static func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name).path
    }

    static let classifier: String = {
        let out = directory + "/sentiment"
        var options = ClassifierTrainingOptions()
        options.hiddenSize = 8
        options.embeddingDimension = 8
        options.batchSize = 16
        options.minFrequency = 1
        options.dropout = 0
        options.training.epochs = 2
        options.training.learningRate = 0.01
        _ = try! ClassificationTraining.train(source: TextSource(path: fixture("tiny-sentiment.csv"), textColumn: "review", labelColumn: "sentiment"),
                                              options: options, output: out, writtenBy: "test")
        return out
    }()

    static let languageModel: String = {
        let out = directory + "/jokes"
        let data = directory + "/corpus.txt"
        try! Array(repeating: "the cat sat\nthe dog ran", count: 20).joined(separator: "\n").write(toFile: data, atomically: true, encoding: .utf8)
        var options = LanguageModelTrainingOptions()
        options.hiddenSize = 16
        options.embeddingDimension = 16
        options.dropout = 0
        options.minFrequency = 1
        options.batchSize = 8
        options.training.epochs = 20
        options.training.learningRate = 0.02
        options.training.patience = nil
        _ = try! LanguageModelTraining.train(source: TextSource(path: data), options: options, output: out, writtenBy: "test")
        return out
    }()

    static let tagger: String = {
        let out = directory + "/tagger"
        var options = TaggerTrainingOptions()
        options.hiddenSize = 8
        options.wordEmbeddingDimension = 8
        options.characterEmbeddingDimension = 4
        options.characterHiddenSize = 4
        options.batchSize = 16
        options.training.epochs = 1
        _ = try! TaggingTraining.train(data: fixture("tiny-tagging.conllu"), options: options, output: out, writtenBy: "test")
        return out
    }()

    static func registry(limits: ServeLimits = ServeLimits(), loaders: [String: ModelLoader] = ModelRegistry.standardLoaders,
                         extra: [String] = []) throws -> ModelRegistry {
        try ModelRegistry.load([classifier, languageModel, tagger] + extra, limits: limits, loaders: loaders)
    }
}

/// Runs `body` against an in-process server over `registry` (requests go straight to the router).
func withServer(_ registry: ModelRegistry, limits: ServeLimits = ServeLimits(),
                _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    let app = Application(router: Server.router(registry: registry, limits: limits))
    try await app.test(.router, body)
    registry.close()
}

extension TestClientProtocol {
    /// POSTs a JSON body (given as text, so malformed bodies can be sent too).
    func post(_ uri: String, _ json: String) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
    }

    func get(_ uri: String) async throws -> TestResponse {
        try await execute(uri: uri, method: .get)
    }
}

extension TestResponse {
    /// The body as a JSON object.
    var json: [String: Any] {
        get throws {
            let object = try JSONSerialization.jsonObject(with: Data(buffer: body))
            return try XCTUnwrap(object as? [String: Any], "not a JSON object: \(String(buffer: body))")
        }
    }

    /// The message of a JSON error body, checked to carry the response's status.
    var errorMessage: String {
        get throws {
            let error = try XCTUnwrap(try json["error"] as? [String: Any], "no error object in \(String(buffer: body))")
            XCTAssertEqual(error["status"] as? Int, Int(status.code), "status in the body")
            return try XCTUnwrap(error["message"] as? String)
        }
    }
}
