// Fuzz target: the JSON Lines reader.
import Foundation
import RNNCore
import RNNText

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONLines(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    let path = scratchPath("data.jsonl")
    input.write(to: path)
    expectingOnlyRNNErrors("JSONLinesReader text+label") {
        _ = try JSONLinesReader(path: path, textField: "text", labelField: "label").read()
    }
    expectingOnlyRNNErrors("JSONLinesReader text") { _ = try JSONLinesReader(path: path, textField: "text", limit: 3).read() }
    return 0
}
