import RNN
import RNNCore
import XCTest

final class DropoutTests: XCTestCase {
    func testTrainingMasksAndRescalesEvaluationIsIdentity() throws {
        let dropout = try Dropout(rate: 0.25)
        var generator = SeededGenerator(seed: 8)
        let x = Tensor(shape: [4000], repeating: 1)
        let y = dropout.forward(x, training: true, generator: &generator)
        let kept = y.scalars.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        XCTAssertEqual(Double(kept.count) / 4000, 0.75, accuracy: 0.03)
        let dx = try dropout.backward(outputGradient: Tensor(shape: [4000], repeating: 2))
        for index in 0..<4000 { XCTAssertEqual(dx.scalars[index], 2 * y.scalars[index]) }
        XCTAssertEqual(dropout.forward(x, training: false, generator: &generator), x)
    }

    func testRateOutOfRangeIsAnError() {
        XCTAssertThrowsError(try Dropout(rate: 1))
        XCTAssertThrowsError(try Dropout(rate: -0.1))
    }
}
