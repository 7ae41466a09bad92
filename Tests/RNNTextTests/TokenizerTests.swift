import Foundation
import XCTest
import RNNCore
@testable import RNNText

/// The `Fixtures` folder of this test target.
func fixturesDirectory() throws -> URL {
    try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil), "test bundle has no Fixtures folder")
}

/// One line of a `*.expected.jsonl` file: what HuggingFace `tokenizers` produced for `text`.
struct ExpectedEncoding {
    var text: String
    var ids: [Int]
    var tokens: [String]
    var decoded: String

    static func load(_ url: URL) throws -> [ExpectedEncoding] {
        let content = try String(contentsOf: url, encoding: .utf8)
        return try content.split(separator: "\n").map { line in
            let json = try JSONValue.parse(Array(line.utf8), context: url.lastPathComponent)
            return ExpectedEncoding(
                text: try XCTUnwrap(json["text"]?.stringValue),
                ids: try XCTUnwrap(json["ids"]?.arrayValue?.compactMap(\.intValue)),
                tokens: try XCTUnwrap(json["tokens"]?.arrayValue?.compactMap(\.stringValue)),
                decoded: try XCTUnwrap(json["decoded"]?.stringValue))
        }
    }
}

final class TokenizerTests: XCTestCase {
    /// Every `*.tokenizer.json` in `Fixtures/hf-tokenizers` against its `*.expected.jsonl`.
    func testMatchesHuggingFaceOnEveryFixture() throws {
        let folder = try fixturesDirectory().appendingPathComponent("hf-tokenizers")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".tokenizer.json") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 2, "expected the two HuggingFace fixtures")
        var matched = 0, total = 0
        for file in files {
            let name = String(file.dropLast(".tokenizer.json".count))
            let tokenizer = try Tokenizer(contentsOf: folder.appendingPathComponent(file).path)
            let expected = try ExpectedEncoding.load(folder.appendingPathComponent(name + ".expected.jsonl"))
            XCTAssertFalse(expected.isEmpty, "\(name): no expected lines")
            for (line, case_) in expected.enumerated() {
                total += 1
                let encoding = tokenizer.encode(case_.text)
                let decoded = tokenizer.decode(encoding.ids)
                XCTAssertEqual(encoding.ids, case_.ids, "\(name) line \(line + 1): ids of \(case_.text.prefix(60).debugDescription)")
                XCTAssertEqual(encoding.tokens, case_.tokens, "\(name) line \(line + 1): tokens")
                XCTAssertEqual(decoded, case_.decoded, "\(name) line \(line + 1): decoded")
                if encoding.ids == case_.ids && encoding.tokens == case_.tokens && decoded == case_.decoded { matched += 1 }
            }
        }
        print("tokenizers: \(matched) texts matched" + (matched == total ? "" : " (\(total - matched) of \(total) failed)"))
        XCTAssertEqual(matched, total)
    }
}

/// Encoding speed on the 25,000 IMDB training reviews (release builds only; large data from `../shared`).
final class TokenizerSpeedTests: XCTestCase {
    func testEncodesIMDBReviewsQuickly() throws {
        #if DEBUG
        throw XCTSkip("speed is measured in release builds: swift test -c release -Xswiftc -enable-testing --filter TokenizerSpeedTests")
        #else
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let imdb = root.deletingLastPathComponent().appendingPathComponent("shared/data/aclImdb/train")
        guard FileManager.default.fileExists(atPath: imdb.path) else {
            throw XCTSkip("IMDB reviews not found at \(imdb.path); skipping the speed test")
        }
        var texts: [String] = []
        for label in ["pos", "neg"] {
            let folder = imdb.appendingPathComponent(label)
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".txt") {
                texts.append(try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8))
            }
        }
        let folder = try fixturesDirectory().appendingPathComponent("hf-tokenizers")
        for name in ["wordpiece-uncased-8k", "bytelevel-bpe-8k"] {
            let tokenizer = try Tokenizer(contentsOf: folder.appendingPathComponent(name + ".tokenizer.json").path)
            let start = Date()
            var tokenCount = 0
            for text in texts { tokenCount += tokenizer.encode(text).ids.count }
            let seconds = Date().timeIntervalSince(start)
            print("tokenizer speed: \(name): \(texts.count) reviews, \(tokenCount) tokens in \(String(format: "%.2f", seconds)) s = \(Int(Double(texts.count) / seconds)) texts/s")
            if name.hasPrefix("wordpiece") { XCTAssertLessThan(seconds, 5, "WordPiece encoding of the IMDB reviews should take well under 5 s") }
        }
        #endif
    }
}

final class TokenizerRoundTripTests: XCTestCase {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rnntext-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Saving and loading a fixture keeps every component and every encoding.
    func testSaveAndReloadFixturesEncodeIdentically() throws {
        let folder = try fixturesDirectory().appendingPathComponent("hf-tokenizers")
        let dir = try temporaryDirectory()
        for name in ["wordpiece-uncased-8k", "bytelevel-bpe-8k"] {
            let original = try Tokenizer(contentsOf: folder.appendingPathComponent(name + ".tokenizer.json").path)
            let path = dir.appendingPathComponent(name + ".json").path
            try original.save(to: path)
            let reloaded = try Tokenizer(contentsOf: path)
            XCTAssertEqual(reloaded.json, original.json)
            XCTAssertEqual(reloaded.vocabSize, original.vocabSize)
            for case_ in try ExpectedEncoding.load(folder.appendingPathComponent(name + ".expected.jsonl")).prefix(20) {
                XCTAssertEqual(reloaded.encode(case_.text).ids, case_.ids)
            }
        }
    }

    func testVocabularyQueriesSpecialTokensAndDecodeOptions() throws {
        let folder = try fixturesDirectory().appendingPathComponent("hf-tokenizers")
        let bert = try Tokenizer(contentsOf: folder.appendingPathComponent("wordpiece-uncased-8k.tokenizer.json").path)
        XCTAssertEqual(bert.vocabSize, 8000)
        XCTAssertEqual(bert.tokenToId("[CLS]"), 2)
        XCTAssertEqual(bert.idToToken(3), "[SEP]")
        XCTAssertNil(bert.idToToken(99_999))
        let e = bert.encode("Hello [MASK] world", addSpecialTokens: false)
        XCTAssertEqual(e.tokens.count(where: { $0 == "[MASK]" }), 1, "special tokens in the text are matched whole")
        XCTAssertFalse(e.tokens.contains("[CLS]"))
        XCTAssertEqual(bert.decode(bert.encode("hi there").ids, skipSpecialTokens: false), "[CLS] hi there [SEP]")
        let pair = bert.encode("a b", pair: "c")
        XCTAssertEqual(pair.tokens, ["a", "b", "c"], "this fixture's pair template is `$A $B:1`, without special tokens")
        XCTAssertEqual(pair.typeIds, [0, 0, 1])
    }

    func testBatchEncodingPadsAndTruncates() throws {
        let folder = try fixturesDirectory().appendingPathComponent("hf-tokenizers")
        var bert = try Tokenizer(contentsOf: folder.appendingPathComponent("wordpiece-uncased-8k.tokenizer.json").path)
        bert.truncation = Truncation(maxLength: 6)
        bert.padding = Padding(strategy: .batchLongest, padId: 0, padToken: "[PAD]")
        let batch = bert.encodeBatch(["a good movie", "this is a long review of a very long movie", ""])
        XCTAssertEqual(batch.map(\.count), [6, 6, 6])
        XCTAssertEqual(batch[1].tokens.first, "[CLS]")
        XCTAssertEqual(batch[1].tokens.last, "[SEP]", "truncation leaves room for the special tokens")
        XCTAssertEqual(batch[2].attentionMask, [1, 1, 0, 0, 0, 0])
        XCTAssertEqual(Array(batch[0].ids.prefix(5)), bert.encode("a good movie").ids, "a single encoding is padded to its own length")
    }

    func testBadFilesGiveOneLineErrors() throws {
        let dir = try temporaryDirectory()
        XCTAssertThrowsError(try Tokenizer(contentsOf: dir.appendingPathComponent("missing.json").path)) { error in
            XCTAssertTrue("\(error)".hasSuffix("missing.json: cannot read tokenizer file (missing or unreadable)"), "\(error)")
        }
        let bad = dir.appendingPathComponent("bad.json").path
        try AtomicFile.write("{\"version\": \"1.0\", \"model\": {\"type\": \"Unigram\", \"vocab\": []}}", to: bad)
        XCTAssertThrowsError(try Tokenizer(contentsOf: bad)) { error in
            XCTAssertEqual("\(error)", "\(bad): unsupported model 'Unigram'")
            XCTAssertFalse("\(error)".contains("\n"))
        }
        try AtomicFile.write("{\"model\": ", to: bad)
        XCTAssertThrowsError(try Tokenizer(contentsOf: bad)) { error in
            XCTAssertEqual("\(error)", "\(bad): invalid JSON at byte 10: unexpected end of input")
        }
        XCTAssertThrowsError(try Tokenizer(json: .object([("version", .string("2.0"))]))) { error in
            XCTAssertEqual("\(error)", "tokenizer.json: unsupported version '2.0' (expected 1.0)")
        }
    }
}
