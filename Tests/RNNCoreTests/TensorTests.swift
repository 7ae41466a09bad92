import RNNCore
import XCTest

final class TensorTests: XCTestCase {
    func testShapeAndCountChecks() throws {
        XCTAssertEqual(Tensor(shape: [2, 3]).count, 6)
        XCTAssertThrowsError(try Tensor(shape: [2, 3], scalars: [1, 2])) { error in
            XCTAssertEqual("\(error)", "tensor of shape (2, 3) needs 6 values, got 2")
        }
        XCTAssertEqual(try Tensor(shape: [2, 3], scalars: Array(0..<6).map(Float.init)).reshaped([3, 2]).shape, [3, 2])
    }

    func testSwappingFirstAxesIsATransposeOfTheLeadingAxes() throws {
        // (2, 3, 2): element [i, j, k] = 100 i + 10 j + k
        var values: [Float] = []
        for i in 0..<2 { for j in 0..<3 { for k in 0..<2 { values.append(Float(100 * i + 10 * j + k)) } } }
        let swapped = try Tensor(shape: [2, 3, 2], scalars: values).swappingFirstAxes()
        XCTAssertEqual(swapped.shape, [3, 2, 2])
        for j in 0..<3 { for i in 0..<2 { for k in 0..<2 {
            XCTAssertEqual(swapped.scalars[(j * 2 + i) * 2 + k], Float(100 * i + 10 * j + k))
        } } }
        XCTAssertEqual(swapped.swappingFirstAxes().scalars, values)
    }
}
