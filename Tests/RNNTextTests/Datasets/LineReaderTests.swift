import Foundation
import RNNCore
@testable import RNNText
import XCTest

final class LineReaderTests: XCTestCase {
    /// Another program truncating the file while it is streamed: one clear error naming the file,
    /// not a silently shorter data set.
    func testAFileThatShrinksWhileBeingReadIsAnError() throws {
        let folder = try temporaryFolder(self)
        let path = folder + "/lines.txt"
        try (0..<20_000).map { "line \($0)" }.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try LineReader(path: path)
        XCTAssertNotNil(try reader.nextLine())
        XCTAssertEqual(truncate(path, 100), 0)
        assertRNNError(try { while try reader.nextLine() != nil {} }(), contains: ["lines.txt", "changed while it was being read"])

        // Read to the end unchanged: no error.
        try "a\nb\n".write(toFile: path, atomically: true, encoding: .utf8)
        let whole = try LineReader(path: path)
        var count = 0
        while try whole.nextLine() != nil { count += 1 }
        XCTAssertEqual(count, 2)
    }
}
