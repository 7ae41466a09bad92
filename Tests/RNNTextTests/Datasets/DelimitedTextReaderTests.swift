import Foundation
import RNNCore
import RNNText
import XCTest

final class DelimitedTextReaderTests: XCTestCase {
    func testEveryQuotingCornerCase() throws {
        let reader = DelimitedTextReader.csv(path: try datasetFixture("quoting.csv"), textColumn: "text", labelColumn: "label")
        XCTAssertEqual(try reader.columnNames(), ["id", "text", "label"])
        XCTAssertEqual(try reader.read(), [
            TextExample(text: "plain text", label: "pos"),
            TextExample(text: "with, comma", label: "neg"),
            TextExample(text: "she said \"hi\"", label: "pos"),
            TextExample(text: "line one\nline two", label: "neg"),
            TextExample(text: "", label: "pos"),
            TextExample(text: "", label: "neg"),
            TextExample(text: "bare \"quote\" inside", label: "pos"),
            TextExample(text: "ends with newline\n", label: "neg"),
        ])
    }

    func testByteOrderMarkAndCRLF() throws {
        let reader = DelimitedTextReader.csv(path: try datasetFixture("crlf-bom.csv"), textColumn: "Joke")
        XCTAssertEqual(try reader.columnNames(), ["ID", "Joke"])
        XCTAssertEqual(try reader.read(), [TextExample(text: "Why?\r\nBecause."), TextExample(text: "a \"b\", c")])
    }

    func testTabSeparatedWithLimit() throws {
        let path = try datasetFixture("sample.tsv")
        XCTAssertEqual(try DelimitedTextReader.tsv(path: path, textColumn: "text", labelColumn: "label").read(), [
            TextExample(text: "great film, really", label: "pos"), TextExample(text: "tab\tinside", label: "neg"),
        ])
        XCTAssertEqual(try DelimitedTextReader.tsv(path: path, textColumn: "text", limit: 1).read(), [TextExample(text: "great film, really")])
    }

    func testQuotingOffKeepsQuotes() throws {
        let reader = DelimitedTextReader(path: try datasetFixture("crlf-bom.csv"), delimiter: UInt8(ascii: ","),
                                         quoting: false, textColumn: "\"ID\"")
        XCTAssertEqual(try reader.columnNames(), ["\"ID\"", "\"Joke\""])
        // Line 2 is `1,"Why?` (two fields), line 3 `Because."` has one: the quotes no longer join them.
        assertRNNError(try reader.read(), contains: ["crlf-bom.csv:3:", "expected 2 fields", "found 1"])
    }

    func testErrorsNameFileAndLine() throws {
        assertRNNError(try DelimitedTextReader.csv(path: try datasetFixture("quoting.csv"), textColumn: "body").read(),
                       contains: ["quoting.csv:1:", "no column 'body'", "'id', 'text', 'label'"])
        // The bad row is on line 5: the quoted field on lines 3-4 counts as one record over two lines.
        assertRNNError(try DelimitedTextReader.csv(path: try datasetFixture("wrong-field-count.csv"), textColumn: "text").read(),
                       contains: ["wrong-field-count.csv:5:", "expected 2 fields", "found 3"])
        assertRNNError(try DelimitedTextReader.csv(path: try datasetFixture("unterminated.csv"), textColumn: "text").read(),
                       contains: ["unterminated.csv:3:", "unterminated quoted field"])
        assertRNNError(try DelimitedTextReader.csv(path: try datasetFixture("text-after-quote.csv"), textColumn: "text").read(),
                       contains: ["text-after-quote.csv:2:", "after the closing quote"])
        assertRNNError(try DelimitedTextReader.csv(path: try datasetFixture("empty.csv"), textColumn: "text").read(),
                       contains: ["empty.csv", "empty file"])
        assertRNNError(try DelimitedTextReader.csv(path: try datasetFixture("no-such.csv"), textColumn: "text").read(),
                       contains: ["no-such.csv", "no such file"])
        assertRNNError(try DelimitedTextReader.csv(path: try datasetFixture("classes"), textColumn: "text").read(),
                       contains: ["classes", "is a folder"])
    }

    func testRedditCleanJokes() throws {
        let path = try sharedData("jokes/reddit-cleanjokes.csv")
        let jokes = try measureOnce("jokes CSV (1,622 rows)") {
            try DelimitedTextReader.csv(path: path, textColumn: "Joke", labelColumn: "ID").read()
        }
        XCTAssertEqual(jokes.count, 1_622)
        XCTAssertEqual(jokes.first?.text, "What did the bartender say to the jumper cables? You better not try to start anything.")
        XCTAssertEqual(jokes.first?.label, "1")
        XCTAssertEqual(jokes.last?.label, "1622")
        XCTAssertFalse(jokes.contains { $0.text.isEmpty })
    }
}
