import RNNCore
import XCTest

final class InitializersTests: XCTestCase {
    private func fill(_ initializer: Initializer, rows: Int, columns: Int) -> [Float] {
        var generator = SeededGenerator(seed: 12)
        var values = [Float](repeating: 0, count: rows * columns)
        values.withUnsafeMutableBufferPointer { initializer.fill($0.baseAddress!, rows: rows, columns: columns, using: &generator) }
        return values
    }

    func testOrthogonalIsOrthonormalInBothOrientations() {
        for (rows, columns) in [(12, 4), (4, 12), (6, 6)] {
            let q = fill(.orthogonal(gain: 1), rows: rows, columns: columns)
            let tall = rows >= columns
            let vectors = tall ? columns : rows, length = tall ? rows : columns
            for i in 0..<vectors {
                for j in 0..<vectors {
                    var dot: Float = 0
                    for p in 0..<length {
                        dot += tall ? q[p * columns + i] * q[p * columns + j] : q[i * columns + p] * q[j * columns + p]
                    }
                    XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-5, "(\(rows), \(columns))")
                }
            }
        }
    }

    func testGlorotUniformBoundsAndSpread() {
        let values = fill(.glorotUniform, rows: 64, columns: 32)
        let bound = Float((6.0 / 96).squareRoot())
        XCTAssertTrue(values.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(values.map(abs).max()!, 0.95 * bound)
    }

    func testConstantZerosAndUniform() {
        XCTAssertEqual(fill(.constant(1), rows: 2, columns: 2), [1, 1, 1, 1])
        XCTAssertEqual(fill(.zeros, rows: 3, columns: 1), [0, 0, 0])
        XCTAssertTrue(fill(.uniform(bound: 0.1), rows: 10, columns: 10).allSatisfy { abs($0) <= 0.1 })
    }
}
