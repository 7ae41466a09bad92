// Fuzz target: the safetensors reader (header length, JSON header, dtype/shape/offset checks,
// overlapping or out-of-bounds ranges) and loading a parsed file into a parameter store.
import Foundation
import RNN
import RNNCore

/// A small store whose names and shapes the seeds (written by `fuzz.sh`) match.
private func makeStore() -> ParameterStore {
    let store = ParameterStore()
    var generator = SeededGenerator(seed: 1)
    store.add("weight", shape: [2, 3], initializer: .zeros, generator: &generator)
    store.add("bias", shape: [3], initializer: .zeros, generator: &generator)
    return store
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    expectingOnlyRNNErrors("SafeTensors(bytes:)") {
        let file = try SafeTensors(bytes: input.data, source: "fuzz")
        for name in file.names {
            let entry = file.entries[name]!
            precondition(entry.range.lowerBound >= 0 && entry.range.upperBound >= entry.range.lowerBound)
            do {
                let tensor = try file.tensor(name)
                precondition(tensor.shape == entry.shape, "tensor shape differs from its entry")
            } catch is RNNError {}
        }
        try makeStore().load(from: file)
    }
    // The same bytes through the memory-mapped file path.
    let path = scratchPath("model.safetensors")
    input.write(to: path)
    expectingOnlyRNNErrors("SafeTensors(contentsOf:)") {
        _ = try SafeTensors(contentsOf: path)
    }
    return 0
}
