import Foundation
import RNNCore
import XCTest

/// The folder of fixtures bundled with this test target.
func fixturesDirectory(_ name: String) -> URL {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
}

/// Largest |a − b| over two tensors of the same shape.
func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes \(a.shape) vs \(b.shape)")
    var worst: Float = 0
    for index in 0..<a.count { worst = max(worst, abs(a.scalars[index] - b.scalars[index])) }
    return worst
}

/// Asserts |actual − expected| ≤ tolerance elementwise (absolute).
func assertClose(_ actual: Tensor, _ expected: Tensor, absolute tolerance: Float, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    let difference = maxAbsDifference(actual, expected)
    XCTAssertLessThanOrEqual(difference, tolerance, "\(what): max |Δ| = \(difference)", file: file, line: line)
}

/// Asserts |actual − expected| ≤ tolerance · max|expected| elementwise.
func assertClose(_ actual: Tensor, _ expected: Tensor, relative tolerance: Float, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    let difference = maxAbsDifference(actual, expected)
    let scale = max(expected.maxAbs, 1e-6)
    XCTAssertLessThanOrEqual(difference / scale, tolerance, "\(what): max |Δ| = \(difference), scale \(scale)", file: file, line: line)
}
