// Fuzz target: encoding arbitrary bytes with each tokenizer kind — trained word, character,
// WordPiece and byte-level BPE tokenizers, and the two HuggingFace tokenizers of the test
// fixtures — then decoding the ids back. The input is read as lossy UTF-8 text.
import Foundation
import RNNCore
import RNNTasks
import RNNText

private let trainingTexts = [
    "A fine movie, really! I loved the acting and the music.", "I didn't like it... at all. The plot was thin.",
    "Ça coûte 3€ — naïve café, señor.", "日本語のテキスト 🎬👍 emoji and CJK", "the the the end of the film",
]

private let tokenizers: [(name: String, tokenizer: Tokenizer)] = {
    var result: [(String, Tokenizer)] = []
    do {
        for kind in ["word", "char", "wordpiece", "bpe"] {
            result.append((kind, try TokenizerChoice(kind).make(texts: trainingTexts + trainingTexts, vocabularySize: 200,
                                                                minFrequency: 1)))
        }
        let fixtures = repositoryRoot + "/Tests/RNNTextTests/Fixtures/hf-tokenizers/"
        for name in ["wordpiece-uncased-8k", "bytelevel-bpe-8k"] {
            result.append((name, try Tokenizer(contentsOf: fixtures + name + ".tokenizer.json")))
        }
    } catch {
        fatalError("fuzz harness: cannot build the tokenizers: \(error)")
    }
    return result
}()

/// Builds the tokenizers before the first input, so their set-up does not count as that input's time.
@_cdecl("LLVMFuzzerInitialize")
public func initializeTokenizerEncode(_ argc: UnsafeMutablePointer<Int32>?,
                                      _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> Int32 {
    precondition(tokenizers.count == 6)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizerEncode(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = FuzzInput(data, size).lossyText
    for (name, tokenizer) in tokenizers {
        let encoding = tokenizer.encode(text)
        precondition(encoding.ids.allSatisfy { $0 >= 0 && $0 < max(tokenizer.vocabSize, 1) }, "\(name): id out of range")
        _ = tokenizer.decode(encoding.ids)
        _ = tokenizer.encode(text, pair: text)
    }
    return 0
}
