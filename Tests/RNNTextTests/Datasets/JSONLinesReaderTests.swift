import Foundation
import RNNCore
import RNNText
import XCTest

final class JSONLinesReaderTests: XCTestCase {
    func testReadsTextAndLabelFields() throws {
        let reader = JSONLinesReader(path: try datasetFixture("reviews.jsonl"), textField: "text", labelField: "label")
        XCTAssertEqual(try reader.read(), [
            TextExample(text: "a fine film", label: "pos"),
            TextExample(text: "dull", label: "0"),
            TextExample(text: "unicode é and \"quotes\"", label: "neg"),
        ])
        let unlabelled = try JSONLinesReader(path: try datasetFixture("reviews.jsonl"), textField: "text", limit: 2).read()
        XCTAssertEqual(unlabelled, [TextExample(text: "a fine film"), TextExample(text: "dull")])
        let wholeNumber = try JSONLinesReader(path: try datasetFixture("bool-label.jsonl"), textField: "text", labelField: "label", limit: 1).read()
        XCTAssertEqual(wholeNumber, [TextExample(text: "a", label: "12345678901")])
    }

    func testErrorsNameTheLine() throws {
        assertRNNError(try JSONLinesReader(path: try datasetFixture("bad-json.jsonl"), textField: "text").read(),
                       contains: ["bad-json.jsonl:2:", "invalid JSON"])
        assertRNNError(try JSONLinesReader(path: try datasetFixture("missing-field.jsonl"), textField: "text").read(),
                       contains: ["missing-field.jsonl:2:", "no field 'text'", "'body'"])
        assertRNNError(try JSONLinesReader(path: try datasetFixture("reviews.jsonl"), textField: "label").read(),
                       contains: ["reviews.jsonl:3:", "field 'label' must be a string"])
        assertRNNError(try JSONLinesReader(path: try datasetFixture("reviews.jsonl"), textField: "text", labelField: "id").read(),
                       contains: ["reviews.jsonl:3:", "no field 'id'"])
        assertRNNError(try JSONLinesReader(path: try datasetFixture("bool-label.jsonl"), textField: "text", labelField: "label").read(),
                       contains: ["bool-label.jsonl:2:", "field 'label' must be a string or a whole number"])
        assertRNNError(try JSONLinesReader(path: try datasetFixture("quoting.csv"), textField: "text").read(),
                       contains: ["quoting.csv:1:", "invalid JSON"])
    }
}
