import Foundation
import RNNCore
import XCTest

/// The path of a small fixture in `Fixtures/datasets/`.
func datasetFixture(_ name: String) throws -> String {
    let fixtures = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil), "Fixtures missing from the test bundle")
    return fixtures.appendingPathComponent("datasets").appendingPathComponent(name).path
}

/// The path of a large file in `../shared/data/` beside the checkout; skips the test with a
/// message when the shared folder is absent.
func sharedData(_ relativePath: String) throws -> String {
    let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let path = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/\(relativePath)").path
    guard FileManager.default.fileExists(atPath: path) else {
        throw XCTSkip("\(path) is absent (../shared is not beside the checkout); skipping the real-data test")
    }
    return path
}

/// Asserts that `body` throws one `RNNError` whose single-line message contains every fragment.
func assertRNNError<T>(_ body: @autoclosure () throws -> T, contains fragments: [String],
                       file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected an error containing \(fragments)", file: file, line: line)
    } catch let error as RNNError {
        XCTAssertFalse(error.message.contains("\n"), "error spans lines: \(error.message)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", file: file, line: line)
        }
    } catch {
        XCTFail("expected RNNError, got \(error)", file: file, line: line)
    }
}

/// A fresh empty folder under the temporary directory, removed when the test ends.
func temporaryFolder(_ testCase: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "rnntext-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// Writes `text` to `folder/name`, creating folders on the way.
func writeFile(_ folder: String, _ name: String, _ text: String) throws {
    let url = URL(fileURLWithPath: folder).appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}

/// Seconds taken by `body`, printed with `what` so test logs carry the measurement.
@discardableResult
func measureOnce<T>(_ what: String, _ body: () throws -> T) rethrows -> T {
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try body()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    print("[timing] \(what): \(String(format: "%.3f", seconds)) s")
    return result
}
