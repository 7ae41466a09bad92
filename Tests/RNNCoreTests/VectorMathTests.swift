import Foundation
import RNNCore
import XCTest

final class VectorMathTests: XCTestCase {
    /// Against libm over a dense sweep, including the saturated tails.
    func testExpSigmoidTanhAgainstLibm() {
        var worstExp: Float = 0, worstSigmoid: Float = 0, worstTanh: Float = 0
        var x: Float = -100
        while x < 100 {
            var lanes = Float8()
            for lane in 0..<8 { lanes[lane] = x + Float(lane) * 0.003 }
            let e = exp8(lanes), s = sigmoid8(lanes), t = tanh8(lanes)
            for lane in 0..<8 {
                let value = lanes[lane]
                if abs(value) < 85 {
                    worstExp = max(worstExp, abs(e[lane] - Foundation.exp(value)) / Foundation.exp(value))
                }
                worstSigmoid = max(worstSigmoid, abs(s[lane] - 1 / (1 + Foundation.exp(-value))))
                worstTanh = max(worstTanh, abs(t[lane] - Foundation.tanh(value)))
                XCTAssertTrue(s[lane].isFinite && t[lane].isFinite, "x = \(value)")
            }
            x += 0.0237
        }
        XCTAssertLessThan(worstExp, 1e-6, "relative error of exp")
        XCTAssertLessThan(worstSigmoid, 2e-7, "absolute error of sigmoid")
        XCTAssertLessThan(worstTanh, 5e-7, "absolute error of tanh")
    }

    func testPartialLoadsAndStores() {
        let source: [Float] = [1, 2, 3]
        let vector = source.withUnsafeBufferPointer { loadFloat8($0.baseAddress!, count: 3) }
        XCTAssertEqual(vector, Float8(1, 2, 3, 0, 0, 0, 0, 0))
        var target = [Float](repeating: -1, count: 5)
        target.withUnsafeMutableBufferPointer { storeFloat8(vector * 2, $0.baseAddress!, count: 3) }
        XCTAssertEqual(target, [2, 4, 6, -1, -1])
    }
}
