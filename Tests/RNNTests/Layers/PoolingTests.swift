import RNN
import RNNCore
import XCTest

final class PoolingTests: XCTestCase {
    private let lengths = [3, 1, 2]

    func testGradientsOfEveryModeMatchFiniteDifferences() throws {
        for mode in PoolingMode.allCases {
            for split in [nil, 2] as [Int?] {
                let pooling = TimePooling(mode: mode, reverseFeaturesFrom: split)
                var x = randomTensor([3, 3, 4], seed: 21)
                let cotangent = randomTensor([3, mode.outputSize(features: 4)], seed: 22)
                _ = try pooling.forward(x, lengths: lengths)
                let dx = try pooling.backward(outputGradient: cotangent)
                let count = x.count
                try x.withUnsafeMutableBufferPointer { buffer in
                    try checkGradient("\(mode) split \(String(describing: split))", values: buffer.baseAddress!, count: count,
                                      analytic: dx.scalars, epsilon: 1e-3) {
                        dot(try pooling.forward(Tensor(shape: [3, 3, 4], copying: buffer.baseAddress!), lengths: lengths), cotangent)
                    }
                }
            }
        }
    }

    func testPoolingIgnoresPadding() throws {
        // T = 3, B = 1, F = 1 with values 1, 5, 100; length 2 must never see the 100.
        let x = try Tensor(shape: [3, 1, 1], scalars: [1, 5, 100])
        XCTAssertEqual(try TimePooling(mode: .last).forward(x, lengths: [2]).scalars, [5])
        XCTAssertEqual(try TimePooling(mode: .mean).forward(x, lengths: [2]).scalars, [3])
        XCTAssertEqual(try TimePooling(mode: .max).forward(x, lengths: [2]).scalars, [5])
        XCTAssertEqual(try TimePooling(mode: .meanMax).forward(x, lengths: [2]).scalars, [3, 5])
        XCTAssertEqual(try TimePooling(mode: .mean).forward(x, lengths: nil).scalars[0], 106.0 / 3, accuracy: 1e-5)
    }
}
