// Fuzz target: the GloVe / word2vec text reader, all formats, with and without a vocabulary.
import Foundation
import RNNCore
import RNNText

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWordVectors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    let path = scratchPath("vectors.txt")
    input.write(to: path)
    let vocabulary = ["[PAD]", "[UNK]", "the", "The", "movie", "good", "é"]
    for format in [WordVectorsReader.Format.automatic, .glove, .word2vec] {
        expectingOnlyRNNErrors("WordVectorsReader \(format)") {
            let vectors = try WordVectorsReader(path: path, format: format).read()
            _ = vectors.match(vocabulary: vocabulary)
        }
        expectingOnlyRNNErrors("WordVectorsReader \(format) with a vocabulary") {
            let vectors = try WordVectorsReader(path: path, format: format, vocabulary: vocabulary, invalidUTF8: .replace).read()
            _ = vectors.match(vocabulary: vocabulary)
        }
    }
    return 0
}
