import XCTest
@testable import RNNText

final class CharacterClassesTests: XCTestCase {
    func testRustPredicates() {
        XCTAssertTrue(CharacterClass.isWhitespace("\u{3000}"))
        XCTAssertTrue(CharacterClass.isWhitespace("\u{85}"))
        XCTAssertFalse(CharacterClass.isWhitespace("\u{200B}"), "zero-width space is Cf, not White_Space")
        XCTAssertTrue(CharacterClass.isBertControl("\u{200B}"))
        XCTAssertFalse(CharacterClass.isBertControl("\n"))
        XCTAssertTrue(CharacterClass.isBertPunctuation("$"))
        XCTAssertTrue(CharacterClass.isBertPunctuation("¿"))
        XCTAssertFalse(CharacterClass.isBertPunctuation("€"), "currency is Sc, not punctuation, outside ASCII")
        XCTAssertTrue(CharacterClass.isChineseCharacter("語"))
        XCTAssertFalse(CharacterClass.isChineseCharacter("の"))
        XCTAssertTrue(CharacterClass.isLetter("ß"))
        XCTAssertTrue(CharacterClass.isNumber("½"))
        XCTAssertTrue(CharacterClass.isWordCharacter("_"))
        XCTAssertTrue(CharacterClass.isNonspacingMark("\u{301}"))
    }
}
