import XCTest
@testable import RNNText

final class PreTokenizersTests: XCTestCase {
    private func words(_ p: PreTokenizer, _ text: String) -> [String] {
        p.preTokenize(Array(text.unicodeScalars)).map(\.string)
    }

    func testBertSplitsWhitespaceAndIsolatesPunctuation() {
        XCTAssertEqual(words(.bert, "Hey friend!     How are you?!?"), ["Hey", "friend", "!", "How", "are", "you", "?", "!", "?"])
        XCTAssertEqual(words(.bert, "a$b—c"), ["a", "$", "b", "—", "c"], "ASCII symbols and Unicode dashes are punctuation")
    }

    func testGPT2RegexAlternatives() {
        let split = { (s: String) in GPT2Split.ranges(Array(s.unicodeScalars)).map { Array(Array(s.unicodeScalars)[$0]).string } }
        XCTAssertEqual(split("I'm here, it's 42!!"), ["I", "'m", " here", ",", " it", "'s", " 42", "!!"])
        XCTAssertEqual(split("a   b"), ["a", "  ", " b"], "\\s+(?!\\S) leaves the last space to the word")
        XCTAssertEqual(split("a \n\tb  "), ["a", " \n", "\t", "b", "  "])
        XCTAssertEqual(split("x 'quote' 'll"), ["x", " '", "quote", "'", " '", "ll"])
        XCTAssertEqual(split("日本語 ok"), ["日本語", " ok"])
    }

    func testByteLevelMapsBytesAndAddsPrefixSpace() {
        let p = PreTokenizer.byteLevel(addPrefixSpace: true, trimOffsets: true, useRegex: true)
        XCTAssertEqual(words(p, "Hello world"), ["ĠHello", "Ġworld"])
        XCTAssertEqual(words(p, "é"), ["ĠÃ©"])
        XCTAssertEqual(words(.byteLevel(addPrefixSpace: false, trimOffsets: true, useRegex: false), "a b"), ["aĠb"])
    }

    func testWhitespacePunctuationAndSplitBehaviors() {
        XCTAssertEqual(words(.whitespace, "Hey man!! it's"), ["Hey", "man", "!!", "it", "'", "s"])
        XCTAssertEqual(words(.whitespaceSplit, " a\tb\n"), ["a", "b"])
        XCTAssertEqual(words(.punctuation(.isolated), "a,b!!"), ["a", ",", "b", "!", "!"])
        XCTAssertEqual(words(.punctuation(.removed), "a,b"), ["a", "b"])
        XCTAssertEqual(words(.punctuation(.mergedWithPrevious), "a,b!!"), ["a,", "b!", "!"])
        XCTAssertEqual(words(.punctuation(.mergedWithNext), "a,b"), ["a", ",b"])
        XCTAssertEqual(words(.punctuation(.contiguous), "a,,b"), ["a", ",,", "b"])
        XCTAssertEqual(words(.split(pattern: "--", behavior: .removed, invert: false), "a--b--"), ["a", "b"])
        XCTAssertEqual(words(.sequence([.whitespaceSplit, .punctuation(.isolated)]), "Hi, you."), ["Hi", ",", "you", "."])
    }

    func testJSONRoundTripAndUnsupported() throws {
        let all: [PreTokenizer] = [.bert, .byteLevel(addPrefixSpace: false, trimOffsets: true, useRegex: true), .whitespace,
                                   .whitespaceSplit, .punctuation(.isolated), .split(pattern: " ", behavior: .removed, invert: false),
                                   .sequence([.whitespaceSplit, .punctuation(.contiguous)])]
        for p in all { XCTAssertEqual(try PreTokenizer(json: p.json), p) }
        XCTAssertThrowsError(try PreTokenizer(json: .object([("type", .string("Metaspace"))]))) { error in
            XCTAssertEqual("\(error)", "tokenizer.json: unsupported pre_tokenizer 'Metaspace'")
        }
    }
}
