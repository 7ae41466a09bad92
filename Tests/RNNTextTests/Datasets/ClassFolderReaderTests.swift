import Foundation
import RNNCore
import RNNText
import XCTest

final class ClassFolderReaderTests: XCTestCase {
    func testReadsSortedClassesAndFilesSkippingHidden() throws {
        let dataset = try ClassFolderReader(root: try datasetFixture("classes")).read()
        XCTAssertEqual(dataset.classNames, ["neg", "pos"])
        XCTAssertEqual(dataset.examples, [
            TextExample(text: "awful", label: "neg"), TextExample(text: "bad film", label: "neg"),
            TextExample(text: "not a txt file", label: "pos"), TextExample(text: "superb", label: "pos"),
        ])
        XCTAssertEqual(dataset.labelIndices, [0, 0, 1, 1])
    }

    func testExtensionFilterAndLimitPerClass() throws {
        let root = try datasetFixture("classes")
        let onlyText = try ClassFolderReader(root: root, fileExtension: "txt").read()
        XCTAssertEqual(onlyText.examples.map(\.text), ["awful", "bad film", "superb"])
        let limited = try ClassFolderReader(root: root, limitPerClass: 1).read()
        XCTAssertEqual(limited.examples.map(\.text), ["awful", "not a txt file"])
    }

    func testExplicitClassNamesSetLabelOrder() throws {
        let dataset = try ClassFolderReader(root: try datasetFixture("classes"), classNames: ["pos", "neg"]).read()
        XCTAssertEqual(dataset.labelIndices, [0, 0, 1, 1])
        XCTAssertEqual(dataset.examples.first?.label, "pos")
        assertRNNError(try ClassFolderReader(root: try datasetFixture("classes"), classNames: ["pos", "neutral"]).read(),
                       contains: ["no class folder 'neutral'", "neg, pos"])
        assertRNNError(try ClassFolderReader(root: try datasetFixture("classes"), classNames: ["pos", "neg", "pos"]).read(),
                       contains: ["class 'pos' is listed twice"])
    }

    func testStreamingMatchesRead() throws {
        let reader = ClassFolderReader(root: try datasetFixture("classes"))
        var streamed: [TextExample] = []
        try reader.forEach { streamed.append($0) }
        XCTAssertEqual(streamed, try reader.read().examples)
    }

    func testErrors() throws {
        let folder = try temporaryFolder(self)
        assertRNNError(try ClassFolderReader(root: folder + "/missing").read(), contains: ["missing", "no such folder"])
        try writeFile(folder, "file.txt", "x")
        assertRNNError(try ClassFolderReader(root: folder + "/file.txt").read(), contains: ["file.txt", "not a folder"])
        try writeFile(folder, "one/pos/a.txt", "x")
        assertRNNError(try ClassFolderReader(root: folder + "/one").read(), contains: ["one", "1 class folder", "at least two"])
        try writeFile(folder, "two/pos/a.txt", "x")
        try FileManager.default.createDirectory(atPath: folder + "/two/neg", withIntermediateDirectories: true)
        assertRNNError(try ClassFolderReader(root: folder + "/two").read(), contains: ["two/neg", "no files"])
        try writeFile(folder, "two/neg/a.md", "x")
        assertRNNError(try ClassFolderReader(root: folder + "/two", fileExtension: "txt").read(), contains: ["two/neg", "no *.txt files"])
    }

    func testInvalidUTF8FailsNamingFileOrIsReplaced() throws {
        let folder = try temporaryFolder(self)
        try writeFile(folder, "pos/good.txt", "fine")
        try FileManager.default.createDirectory(atPath: folder + "/neg", withIntermediateDirectories: true)
        try Data([0x6F, 0x6B, 0x0A, 0x63, 0x61, 0x66, 0xE9]).write(to: URL(fileURLWithPath: folder + "/neg/latin1.txt"))
        assertRNNError(try ClassFolderReader(root: folder).read(), contains: ["neg/latin1.txt:2:", "invalid UTF-8 at byte 6"])
        let replaced = try ClassFolderReader(root: folder, invalidUTF8: .replace).read()
        XCTAssertEqual(replaced.examples.first?.text, "ok\ncaf\u{FFFD}")
    }

    /// The IMDB training half: 12,500 + 12,500 reviews. Prints the read time (release build: see the report).
    func testReadsIMDBTrainingHalf() throws {
        let root = try sharedData("aclImdb/train")
        let dataset = try measureOnce("IMDB train folder (25,000 files)") { try ClassFolderReader(root: root).read() }
        XCTAssertEqual(dataset.classNames, ["neg", "pos"])
        XCTAssertEqual(dataset.examples.count, 25_000)
        XCTAssertEqual(dataset.labelIndices.filter { $0 == 1 }.count, 12_500)
        XCTAssertFalse(dataset.examples.contains { $0.text.isEmpty })
    }
}
