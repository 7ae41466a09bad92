// Helpers shared by every fuzz target (compiled into each target's binary by scripts/fuzz.sh).
import Foundation
import RNNCore

/// A fuzz input: the bytes libFuzzer hands to `LLVMFuzzerTestOneInput`.
struct FuzzInput {
    let bytes: [UInt8]

    init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    var data: Data { Data(bytes) }

    /// The bytes as text, invalid UTF-8 replaced (what a tokenizer sees from a careless caller).
    var lossyText: String { String(decoding: bytes, as: UTF8.self) }

    /// Writes the bytes to `path` (plain write: the readers under test read files by path).
    /// Tried three times: libFuzzer's timer signal can interrupt the write (EINTR).
    func write(to path: String) {
        for _ in 0..<3 where FileManager.default.createFile(atPath: path, contents: data) { return }
        fatalError("fuzz harness: cannot write \(path): \(String(cString: strerror(errno)))")
    }
}

/// A scratch path private to this fuzzing process (`/dev/shm` when present: no disk traffic).
func scratchPath(_ name: String) -> String {
    let root = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return "\(root)/rnn-fuzz-\(getpid())-\(name)"
}

/// Runs `body`; an `RNNError` is the expected way to reject bad input. Any other error type is
/// a bug too (the CLI would print it badly), so it stops the fuzzer.
func expectingOnlyRNNErrors(_ what: String, _ body: () throws -> Void) {
    do {
        try body()
    } catch is RNNError {
    } catch {
        fatalError("\(what): threw a non-RNNError \(type(of: error)): \(error)")
    }
}

/// The repository root, found from this file's path (Fuzz/Support/FuzzInput.swift).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()
