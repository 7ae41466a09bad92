import XCTest
@testable import RNNText

final class IntegerHashTableTests: XCTestCase {
    func testAgreesWithDictionaryThroughGrowth() {
        var table = IntegerHashTable()
        var reference: [UInt64: UInt64] = [:]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let key = UInt64.random(in: 0..<3000, using: &rng) << 21 | 7
            let value = UInt64.random(in: 0..<1_000_000, using: &rng)
            table.set(value, for: key)
            reference[key] = value
        }
        XCTAssertEqual(table.count, reference.count)
        for (key, value) in reference { XCTAssertEqual(table.value(for: key), value) }
        XCTAssertNil(table.value(for: 5))
    }
}
