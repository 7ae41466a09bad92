import XCTest
@testable import RNNText

final class DecodersTests: XCTestCase {
    func testWordPieceJoinsSubwordsAndCleansUpPerToken() {
        let d = Decoder.wordPiece(prefix: "##", cleanup: true)
        XCTAssertEqual(d.decode(["hello", "##world", ",", "it", "'", "s", "fine", "."]), "helloworld, it ' s fine.")
        XCTAssertEqual(d.decode(["##a", "b"]), "##a b", "the first token keeps its prefix")
        XCTAssertEqual(Decoder.wordPiece(prefix: "##", cleanup: false).decode(["a", "."]), "a .")
    }

    func testByteLevelRestoresUTF8AndKeepsForeignTokens() {
        let d = Decoder.byteLevel(addPrefixSpace: true, trimOffsets: true, useRegex: true)
        XCTAssertEqual(d.decode(["Hello", "Ġw", "Ã©"]), "Hello wé")
        XCTAssertEqual(d.decode(["[CLS]", "Ġa"]), "[CLS] a")
        XCTAssertEqual(d.decode(["Ã"]), "\u{FFFD}", "a lone lead byte becomes U+FFFD")
        XCTAssertEqual(d.decode(["日本"]), "日本", "a token outside the alphabet passes through as text")
    }

    func testBPEFuseAndSequence() {
        XCTAssertEqual(Decoder.bpe(suffix: "</w>").decode(["hel", "lo</w>", "world</w>"]), "hello world")
        XCTAssertEqual(Decoder.fuse.decode(["a", " ", "b"]), "a b")
        XCTAssertEqual(Decoder.sequence([.fuse, .bpe(suffix: "_")]).decode(["a_", "b_"]), "ab", "after Fuse there is one, last, token")
    }

    func testJSONRoundTripAndUnsupported() throws {
        let all: [Decoder] = [.wordPiece(prefix: "##", cleanup: true), .byteLevel(addPrefixSpace: true, trimOffsets: false, useRegex: true),
                              .bpe(suffix: "</w>"), .fuse, .sequence([.fuse])]
        for d in all { XCTAssertEqual(try Decoder(json: d.json), d) }
        XCTAssertThrowsError(try Decoder(json: .object([("type", .string("Metaspace"))]))) { error in
            XCTAssertEqual("\(error)", "tokenizer.json: unsupported decoder 'Metaspace'")
        }
    }
}

final class ScalarPrefixTests: XCTestCase {
    func testPrefixIsComparedByScalarsNotCharacters() {
        // "#" + U+1F3FD (an emoji modifier) is one Character, so String.hasPrefix("##") is false.
        XCTAssertFalse("##🏽".hasPrefix("##"))
        XCTAssertEqual("##🏽".removingScalarPrefix("##"), "🏽")
        XCTAssertNil("#a".removingScalarPrefix("##"))
        XCTAssertEqual(Decoder.wordPiece(prefix: "##", cleanup: true).decode(["👍", "##🏽"]), "👍🏽")
    }
}
