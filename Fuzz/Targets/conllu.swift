// Fuzz target: the CoNLL-U reader (both tag columns).
import Foundation
import RNNCore
import RNNText

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCoNLLU(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    let path = scratchPath("data.conllu")
    input.write(to: path)
    expectingOnlyRNNErrors("CoNLLUReader upos") { _ = try CoNLLUReader(path: path).read() }
    expectingOnlyRNNErrors("CoNLLUReader xpos") { _ = try CoNLLUReader(path: path, tagColumn: .xpos, limit: 2).read() }
    return 0
}
