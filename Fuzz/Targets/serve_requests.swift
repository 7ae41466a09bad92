// Fuzz target: the HTTP request decoding of `rnn serve` (RNNServeAPI, no HTTP server needed).
// The input is a request body; it is decoded as the body of each endpoint (classify, generate,
// tag, translate) under the server's default limits, and what decodes is checked as the server
// checks it: the texts, the tag request's words, and a generate request's sampling options
// against the tiny language model of Fuzz/fixtures/lm (prompt length in tokens, condition). The
// only acceptable refusal is a `RequestRejection` with status 400 or 413 and a one-line message.
import Foundation
import RNNCore
import RNNServeAPI
import RNNTasks

private let checks: RequestChecks = {
    var limits = ServeLimits()
    limits.maxBodyBytes = 4096  // small, so that the 413 path is reached too
    return RequestChecks(limits: limits)
}()

/// The tiny language model the generate options are checked against, loaded once.
private let languageModel: UncheckedLanguageModel = {
    do {
        return UncheckedLanguageModel(try TrainedLanguageModel.load(from: repositoryRoot + "/Fuzz/fixtures/lm"))
    } catch {
        fatalError("fuzz harness: cannot load Fuzz/fixtures/lm: \(error)")
    }
}()

/// The model, read by this one fuzzing thread only.
private final class UncheckedLanguageModel: @unchecked Sendable {
    let model: TrainedLanguageModel
    init(_ model: TrainedLanguageModel) { self.model = model }
}

@_cdecl("LLVMFuzzerInitialize")
public func initializeServeRequests(_ argc: UnsafeMutablePointer<Int32>?,
                                    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    _ = languageModel.model.config  // load the fixture before the first input (not counted as its time)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServeRequests(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let body = FuzzInput(data, size).data
    expectingOnlyRejections("classify") {
        let request = try checks.decode(ClassifyRequest.self, from: body)
        try checks.check(texts: request.texts, field: "texts")
    }
    expectingOnlyRejections("translate") {
        let request = try checks.decode(TranslateRequest.self, from: body)
        try checks.check(texts: request.texts, field: "texts")
    }
    expectingOnlyRejections("tag") {
        let words = try checks.words(of: try checks.decode(TagRequest.self, from: body))
        precondition(words.allSatisfy { !$0.isEmpty && $0.allSatisfy { !$0.isEmpty } }, "tag: an empty sentence or word passed the checks")
    }
    expectingOnlyRejections("generate") {
        let request = try checks.decode(GenerateRequest.self, from: body)
        let options = try checks.generationOptions(request, model: languageModel.model)
        // What passes the server's checks must pass the library's own validation too.
        do {
            try options.validate()
        } catch {
            fatalError("generate: options accepted by the server fail GenerationOptions.validate: \(error)")
        }
    }
    return 0
}

/// Runs `body`; a `RequestRejection` (400 or 413, one line) is the expected refusal of bad input.
/// Anything else — another error type, another status, a multi-line message — stops the fuzzer.
private func expectingOnlyRejections(_ what: String, _ body: () throws -> Void) {
    do {
        try body()
    } catch let rejection as RequestRejection {
        guard rejection.status == 400 || rejection.status == 413, !rejection.message.isEmpty else {
            fatalError("\(what): rejection with status \(rejection.status), message '\(rejection.message)'")
        }
    } catch {
        fatalError("\(what): threw a non-RequestRejection \(type(of: error)): \(error)")
    }
}
