import Foundation
import RNN
import RNNCore
import XCTest

final class ModelDirectoryTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "model-directory-tests-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func makeModel(seed: UInt64) throws -> TextClassifier {
        var generator = SeededGenerator(seed: seed)
        return try TextClassifier(ClassifierConfig(vocabularySize: 20, embeddingDimension: 4,
                                                   recurrent: RecurrentConfig(cell: .gru, inputSize: 4, hiddenSize: 3, bidirectional: true),
                                                   pooling: .mean, labels: ["neg", "pos"]), generator: &generator)
    }

    func testSaveThenLoadRestoresEveryWeightExactly() throws {
        let model = try makeModel(seed: 1)
        let file = ModelConfigFile(task: "classify", model: model.config, training: ["epochs": "3"], metrics: ["accuracy": 0.5],
                                   writtenBy: "test")
        try ModelDirectory.save(file, store: model.store, extraFiles: ["tokenizer.json": Data("{}".utf8)], to: directory)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: directory)),
                       ["config.json", "model.safetensors", "tokenizer.json"])

        let loadedConfig = try ModelDirectory.config(at: directory, task: "classify", as: ClassifierConfig.self)
        XCTAssertEqual(loadedConfig.model, model.config)
        XCTAssertEqual(loadedConfig.metrics["accuracy"], 0.5)
        let other = try makeModel(seed: 2)
        XCTAssertNotEqual(Array(other.store.allValues), Array(model.store.allValues))
        try ModelDirectory.loadWeights(into: other.store, from: directory)
        XCTAssertEqual(Array(other.store.allValues), Array(model.store.allValues))
        // PyTorch names in the weights file.
        let names = try SafeTensors(contentsOf: directory + "/model.safetensors").names
        XCTAssertTrue(names.contains("rnn.weight_hh_l0_reverse") && names.contains("fc.bias") && names.contains("embedding.weight"))
    }

    func testMissingFilesWrongTaskAndCorruptConfigAreClearErrors() throws {
        XCTAssertThrowsError(try ModelDirectory.header(at: directory)) { XCTAssertTrue("\($0)".hasSuffix("no such model directory")) }
        let model = try makeModel(seed: 1)
        try ModelDirectory.save(ModelConfigFile(task: "classify", model: model.config, writtenBy: "test"), store: model.store, to: directory)
        XCTAssertThrowsError(try ModelDirectory.header(at: directory, task: "lm")) {
            XCTAssertTrue("\($0)".hasSuffix("is a 'classify' model, not a 'lm' model"), "\($0)")
        }
        try Data("{\"format\": 3}".utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
        XCTAssertThrowsError(try ModelDirectory.header(at: directory)) { XCTAssertTrue("\($0)".contains("not a swift-rnn model config"), "\($0)") }
        try FileManager.default.removeItem(atPath: directory + "/model.safetensors")
        XCTAssertThrowsError(try ModelDirectory.header(at: directory)) { XCTAssertTrue("\($0)".contains("missing model.safetensors"), "\($0)") }
    }

    func testWeightsOfAnotherShapeAreRejectedByName() throws {
        let model = try makeModel(seed: 1)
        try ModelDirectory.save(ModelConfigFile(task: "classify", model: model.config, writtenBy: "test"), store: model.store, to: directory)
        var generator = SeededGenerator(seed: 1)
        let bigger = try TextClassifier(ClassifierConfig(vocabularySize: 20, embeddingDimension: 4,
                                                         recurrent: RecurrentConfig(cell: .gru, inputSize: 4, hiddenSize: 5, bidirectional: true),
                                                         pooling: .mean, labels: ["neg", "pos"]), generator: &generator)
        XCTAssertThrowsError(try ModelDirectory.loadWeights(into: bigger.store, from: directory)) { error in
            XCTAssertTrue("\(error)".contains("rnn.weight_ih_l0 has shape (9, 4), the model expects (15, 4)"), "\(error)")
        }
    }
}
