import Foundation
import RNNCore
import RNNText
import XCTest

final class PlainTextReaderTests: XCTestCase {
    func testOneDocumentPerLine() throws {
        let path = try datasetFixture("lines.txt")
        XCTAssertEqual(try PlainTextReader(path: path).readLines().map(\.text), ["first line", "second line", "third line"])
        XCTAssertEqual(try PlainTextReader(path: path, limit: 2).readLines().map(\.text), ["first line", "second line"])
        XCTAssertEqual(try PlainTextReader(path: path, skipBlankLines: false).readLines().map(\.text),
                       ["first line", "", "  ", "second line", "third line"])
    }

    func testWholeFileCorpusKeepsLineEnds() throws {
        XCTAssertEqual(try PlainTextReader(path: try datasetFixture("lines.txt")).readCorpus(),
                       "first line\r\n\n  \nsecond line\nthird line")
        assertRNNError(try PlainTextReader(path: try datasetFixture("empty.csv")).readCorpus(), contains: ["empty.csv", "empty file"])
    }

    func testInvalidUTF8() throws {
        let path = try datasetFixture("latin1.txt")
        assertRNNError(try PlainTextReader(path: path).readLines(), contains: ["latin1.txt:1:", "invalid UTF-8 at byte 3"])
        assertRNNError(try PlainTextReader(path: path).readCorpus(), contains: ["latin1.txt:1:", "invalid UTF-8 at byte 3"])
        XCTAssertEqual(try PlainTextReader(path: path, invalidUTF8: .replace).readLines().map(\.text),
                       ["caf\u{FFFD} ok", "second line", "na\u{FFFD}ve"])
        // Streaming stops before the bad third line when limited.
        XCTAssertEqual(try PlainTextReader(path: path, limit: 0).readLines(), [])
    }

    func testTinyShakespeareCorpus() throws {
        let path = try sharedData("tinyshakespeare/input.txt")
        let corpus = try measureOnce("tinyshakespeare corpus (1.1 MB)") { try PlainTextReader(path: path).readCorpus() }
        XCTAssertEqual(corpus.utf8.count, 1_115_394)
        XCTAssertTrue(corpus.hasPrefix("First Citizen:\nBefore we proceed any further, hear me speak."))
    }
}
