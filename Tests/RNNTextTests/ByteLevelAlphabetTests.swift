import XCTest
@testable import RNNText

final class ByteLevelAlphabetTests: XCTestCase {
    func testGPT2ByteMapIsABijection() {
        XCTAssertEqual(ByteLevelAlphabet.scalarForByte[0x20], "Ġ")
        XCTAssertEqual(ByteLevelAlphabet.scalarForByte[0x0A], "Ċ")
        XCTAssertEqual(ByteLevelAlphabet.scalarForByte[Int(UInt8(ascii: "a"))], "a")
        XCTAssertEqual(Set(ByteLevelAlphabet.alphabet).count, 256)
        for b in 0..<256 { XCTAssertEqual(ByteLevelAlphabet.byte(for: ByteLevelAlphabet.scalarForByte[b]), UInt8(b)) }
        XCTAssertNil(ByteLevelAlphabet.byte(for: "語"))
        XCTAssertEqual(ByteLevelAlphabet.encode(Array("é €".unicodeScalars)).string, "Ã©ĠâĤ¬")
    }
}
