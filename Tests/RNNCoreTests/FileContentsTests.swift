import Foundation
import RNNCore
import XCTest

final class FileContentsTests: XCTestCase {
    func testReadsEmptyAndNonEmptyFilesAndReportsMissingOnes() throws {
        let directory = NSTemporaryDirectory() + "file-contents-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let empty = directory + "/empty", full = directory + "/full"
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        XCTAssertTrue(FileManager.default.createFile(atPath: full, contents: Data([1, 2, 3])))

        XCTAssertEqual(FileContents.read(atPath: empty), Data())
        XCTAssertEqual(try FileContents.read(URL(fileURLWithPath: empty), options: .alwaysMapped), Data())
        XCTAssertEqual(FileContents.read(atPath: full), Data([1, 2, 3]))
        XCTAssertEqual(try FileContents.read(URL(fileURLWithPath: full), options: .alwaysMapped), Data([1, 2, 3]))
        XCTAssertNil(FileContents.read(atPath: directory + "/missing"))
        XCTAssertThrowsError(try FileContents.read(URL(fileURLWithPath: directory + "/missing")))
        // A directory is not an empty file.
        XCTAssertThrowsError(try FileContents.read(URL(fileURLWithPath: directory)))
    }
}
