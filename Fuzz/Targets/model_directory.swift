// Fuzz target: `config.json` and model-directory loading for every task. The first input byte
// picks one of the tiny trained model directories in Fuzz/fixtures/ (classify, lm, tag,
// forecast); its weights, tokenizer and vocabulary are copied beside the rest of the input, which becomes
// `config.json`. Every task's loader then reads the directory.
import Foundation
import RNN
import RNNCore
import RNNTasks

private let fixtureTasks = ["classify", "lm", "tag", "forecast"]

/// Each fixture directory's files but config.json, read once (copying them for every input met
/// EINTR from libFuzzer's timer signal inside Foundation's copy).
private let fixtureFiles: [[(name: String, bytes: [UInt8])]] = fixtureTasks.map { task in
    let folder = repositoryRoot + "/Fuzz/fixtures/" + task
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    return names.filter { $0 != "config.json" && $0 != "README.md" }.sorted().map { name in
        guard let data = FileManager.default.contents(atPath: folder + "/" + name) else {
            fatalError("fuzz harness: cannot read \(folder)/\(name)")
        }
        return (name, Array(data))
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func initializeModelDirectory(_ argc: UnsafeMutablePointer<Int32>?,
                                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    precondition(fixtureFiles.allSatisfy { !$0.isEmpty }, "fuzz harness: missing Fuzz/fixtures")
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelDirectory(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    guard let selector = input.bytes.first else { return 0 }
    let directory = scratchPath("model")
    let manager = FileManager.default
    try? manager.removeItem(atPath: directory)
    do {
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
        fatalError("fuzz harness: cannot create \(directory): \(error)")
    }
    for file in fixtureFiles[Int(selector) % fixtureTasks.count] {
        FuzzInput(bytes: file.bytes).write(to: directory + "/" + file.name)
    }
    FuzzInput(bytes: Array(input.bytes.dropFirst())).write(to: directory + "/config.json")
    expectingOnlyRNNErrors("ModelDirectory.header") { _ = try ModelDirectory.header(at: directory) }
    expectingOnlyRNNErrors("TrainedClassifier.load") {
        let classifier = try TrainedClassifier.load(from: directory)
        _ = try classifier.predict(["a fine film", ""])
    }
    expectingOnlyRNNErrors("TrainedLanguageModel.load") { _ = try TrainedLanguageModel.load(from: directory) }
    expectingOnlyRNNErrors("TrainedTagger.load") { _ = try TrainedTagger.load(from: directory) }
    expectingOnlyRNNErrors("TrainedForecaster.load") { _ = try TrainedForecaster.load(from: directory) }
    return 0
}
