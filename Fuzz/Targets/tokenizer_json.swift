// Fuzz target: `tokenizer.json` loading (JSON parser, every model, normalizer, pre-tokenizer,
// post-processor and decoder kind), then encoding and decoding with whatever loaded. Seeds: the
// four trained kinds (word, char, WordPiece, byte-level BPE), written by `LLVMFuzzerInitialize`
// into `$RNN_FUZZ_SEED_DIR` when set, and the HuggingFace tokenizers in the test fixtures.
import Foundation
import RNNCore
import RNNTasks
import RNNText

private let sampleTexts = [
    "A fine movie, really!", "I didn't like it... at all.", "Ça coûte 3€ — naïve café", "日本語のテキスト 🎬👍",
    "the the the end", "", "  \t\n", "[CLS] [SEP] [PAD] [UNK] <|endoftext|>",
]

@_cdecl("LLVMFuzzerInitialize")
public func initializeTokenizerJSON(_ argc: UnsafeMutablePointer<Int32>?,
                                    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    guard let directory = ProcessInfo.processInfo.environment["RNN_FUZZ_SEED_DIR"] else { return 0 }
    for kind in ["word", "char", "wordpiece", "bpe"] {
        let path = directory + "/trained-\(kind).tokenizer.json"
        guard !FileManager.default.fileExists(atPath: path) else { continue }
        do {
            let tokenizer = try TokenizerChoice(kind).make(texts: sampleTexts + sampleTexts, vocabularySize: 120, minFrequency: 1)
            try tokenizer.save(to: path)
        } catch {
            fatalError("fuzz harness: cannot write the seed \(path): \(error)")
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizerJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    expectingOnlyRNNErrors("Tokenizer(json:)") {
        let tokenizer = try Tokenizer(json: JSONValue.parse(input.bytes, context: "tokenizer.json"))
        for text in sampleTexts {
            let encoding = tokenizer.encode(text)
            _ = tokenizer.decode(encoding.ids)
            _ = tokenizer.decode(encoding.ids, skipSpecialTokens: false)
        }
        _ = tokenizer.encode(sampleTexts[0], pair: sampleTexts[1])
        _ = tokenizer.decode([0, 1, 2, -1, Int(Int32.max), tokenizer.vocabSize])
        _ = tokenizer.json
    }
    return 0
}
