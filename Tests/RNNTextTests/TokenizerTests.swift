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
