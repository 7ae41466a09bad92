import Foundation
import XCTest
import RNNCore
@testable import RNNText

/// Cross-checks with the real Python library, when one is available: set `RNN_PYTHON` to an
/// interpreter that has `tokenizers` installed (e.g. the venv of `shared/bench/setup-torch.sh`).
/// Tokenizers we train and save must load in Python and encode and decode exactly as we do, and
/// our byte-level BPE trainer must learn the same vocabulary and merges as `BpeTrainer`.
final class PythonInteropTests: XCTestCase {
    private static let script = #"""
import json, sys
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
folder, names, vocab_size, training_count = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4])
texts = [json.loads(line)["text"] for line in open(f"{folder}/texts.jsonl", encoding="utf-8")]
out = {}
for name in names:
    tok = Tokenizer.from_file(f"{folder}/{name}.json")
    encs = [tok.encode(t) for t in texts]
    out[name] = [{"ids": e.ids, "decoded": tok.decode(e.ids)} for e in encs]
bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=["[PAD]", "[UNK]"],
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
bpe.train_from_iterator(texts[:training_count], trainer=trainer)
model = json.loads(bpe.to_str())["model"]
out["bpe_trainer"] = {"vocab": model["vocab"], "merges": [list(m) if isinstance(m, list) else m.split(" ", 1) for m in model["merges"]]}
json.dump(out, sys.stdout)
"""#

    func testPythonLoadsOurFilesAndTrainsLikeUs() throws {
        guard let python = ProcessInfo.processInfo.environment["RNN_PYTHON"] else {
            throw XCTSkip("set RNN_PYTHON to a Python with `tokenizers` installed to cross-check with the Python library")
        }
        let folder = try fixturesDirectory().appendingPathComponent("hf-tokenizers")
        let texts = try ExpectedEncoding.load(folder.appendingPathComponent("wordpiece-uncased-8k.expected.jsonl")).map(\.text)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rnntext-py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        let vocabSize = 600
        var tokenizers: [String: Tokenizer] = [
            "words": try .trainWordLevel(on: texts, minFrequency: 2, specialTokens: ["[PAD]", "[UNK]", "<eos>"]),
            "chars": try .trainCharacterLevel(on: texts, minFrequency: 3, specialTokens: ["[PAD]", "[UNK]", "<eos>"]),
            "bpe": try .trainByteLevelBPE(on: texts, vocabSize: vocabSize),
            "wordpiece": try .trainWordPiece(on: texts, vocabSize: 900),
        ]
        for name in ["wordpiece-uncased-8k", "bytelevel-bpe-8k"] {
            tokenizers[name] = try Tokenizer(contentsOf: folder.appendingPathComponent(name + ".tokenizer.json").path)
        }
        let names = tokenizers.keys.sorted()
        for (name, tokenizer) in tokenizers { try tokenizer.save(to: dir.appendingPathComponent(name + ".json").path) }
        let probe = texts + ["Hello <eos> world", "x\u{0}y 😀 naïve", ""]
        let lines = probe.map { JSONValue.object([("text", .string($0))]).serialized(indent: 0) }
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: dir.appendingPathComponent("texts.jsonl").path)
        try AtomicFile.write(PythonInteropTests.script, to: dir.appendingPathComponent("check.py").path)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [dir.appendingPathComponent("check.py").path, dir.path, names.joined(separator: ","), String(vocabSize),
                             String(texts.count)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "the Python check failed")
        let result = try JSONValue.parse([UInt8](data), context: "python output")

        var matched = 0
        for name in names {
            let expected = try XCTUnwrap(result[name]?.arrayValue, name)
            for (text, line) in zip(probe, expected) {
                let ids = tokenizers[name]!.encode(text).ids
                let pythonIds = line["ids"]?.arrayValue?.compactMap(\.intValue)
                XCTAssertEqual(ids, pythonIds, "\(name): ids of \(text.prefix(40).debugDescription)")
                XCTAssertEqual(tokenizers[name]!.decode(ids), line["decoded"]?.stringValue, "\(name): decoded")
                if ids == pythonIds { matched += 1 }
            }
        }
        let bpe = try XCTUnwrap(tokenizers["bpe"]?.model as? BPEModel)
        let trained = try XCTUnwrap(result["bpe_trainer"])
        let pythonVocab = Dictionary(uniqueKeysWithValues: (trained["vocab"]?.objectValue ?? []).map { ($0.0, $0.1.intValue ?? -1) })
        XCTAssertTrue(bpe.vocabulary.ids == pythonVocab, "BPE trainer vocabulary differs: \(bpe.vocabulary.ids.filter { pythonVocab[$0.key] != $0.value }.prefix(5)) vs \(pythonVocab.filter { bpe.vocabulary.ids[$0.key] != $0.value }.prefix(5))")
        let pythonMerges = (trained["merges"]?.arrayValue ?? []).map { $0.arrayValue?.compactMap(\.stringValue) ?? [] }
        let ours = bpe.merges.map { [$0.0, $0.1] }
        if let first = ours.indices.first(where: { $0 < pythonMerges.count && ours[$0] != pythonMerges[$0] }) ?? (ours.count == pythonMerges.count ? nil : min(ours.count, pythonMerges.count)) {
            XCTFail("BPE trainer merges differ first at merge \(first): ours \(ours.dropFirst(first).prefix(3)), Python \(pythonMerges.dropFirst(first).prefix(3)) (\(ours.count) vs \(pythonMerges.count) merges)")
        }
        print("python interop: \(matched) encodings matched across \(names.count) tokenizers; BPE trainer \(bpe.merges.count) merges compared")
    }
}
