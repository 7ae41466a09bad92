import XCTest
@testable import RNNText

final class NormalizersTests: XCTestCase {
    private let bertUncased = Normalizer.bert(cleanText: true, handleChineseCharacters: true, stripAccents: nil, lowercase: true)

    func testBertNormalizerCleansSpacesCJKStripsAccentsAndLowercases() {
        XCTAssertEqual(bertUncased.normalized("Café\tDÉJÀ\u{0}\u{200B}x"), "cafe dejax", "tab→space, NUL and ZWSP (Cf) dropped")
        XCTAssertEqual(bertUncased.normalized("日本"), " 日  本 ")
        XCTAssertEqual(bertUncased.normalized("a\u{FFFD}b\u{7}c"), "abc")
    }

    func testBertStripAccentsFollowsLowercaseWhenNull() {
        let cased = Normalizer.bert(cleanText: true, handleChineseCharacters: true, stripAccents: nil, lowercase: false)
        XCTAssertEqual(cased.normalized("Café"), "Café", "no lowercase → accents kept")
        let forced = Normalizer.bert(cleanText: true, handleChineseCharacters: true, stripAccents: true, lowercase: false)
        XCTAssertEqual(forced.normalized("Café"), "Cafe")
    }

    func testLowercaseUsesFullMapping() {
        XCTAssertEqual(Normalizer.lowercase.normalized("İSTANBUL ΣΑΣ"), "i\u{307}stanbul σασ")
    }

    func testUnicodeFormsAndStripAccents() {
        XCTAssertEqual(Normalizer.nfd.normalized("é").unicodeScalars.count, 2)
        XCTAssertEqual(Normalizer.nfc.normalized("e\u{301}").unicodeScalars.count, 1)
        XCTAssertEqual(Normalizer.nfkc.normalized("ﬁ①"), "fi1")
        XCTAssertEqual(Normalizer.sequence([.nfd, .stripAccents]).normalized("naïve"), "naive")
        XCTAssertEqual(Normalizer.stripAccents.normalized("é"), "é", "StripAccents alone does not decompose")
    }

    func testReplaceIsLeftToRightAndNonOverlapping() {
        XCTAssertEqual(Normalizer.replace(pattern: "<br />", content: " ").normalized("a<br /><br />b"), "a  b")
        XCTAssertEqual(Normalizer.replace(pattern: "aa", content: "b").normalized("aaa"), "ba")
        XCTAssertEqual(Normalizer.strip(left: true, right: true).normalized("  x y \n"), "x y")
    }

    func testJSONRoundTripAndUnsupportedComponent() throws {
        let all: [Normalizer] = [bertUncased, .lowercase, .nfd, .nfkd, .nfc, .nfkc, .stripAccents, .strip(left: true, right: false),
                                 .sequence([.replace(pattern: "<br />", content: " "), .lowercase])]
        for normalizer in all { XCTAssertEqual(try Normalizer(json: normalizer.json), normalizer) }
        let precompiled = JSONValue.object([("type", .string("Precompiled")), ("precompiled_charsmap", .string(""))])
        XCTAssertThrowsError(try Normalizer(json: precompiled)) { error in
            XCTAssertEqual("\(error)", "tokenizer.json: unsupported normalizer 'Precompiled'")
        }
    }
}
