import RNN
import RNNCore
import XCTest

/// `--pool mean-max`: the head reads [mean; max] (2F features); every parameter of the whole
/// classifier against central differences. The max half is not differentiable where two steps
/// tie, so ε is small enough (2e-3) that no perturbation moves an arg max here.
final class TextClassifierMeanMaxTests: XCTestCase {
    func testMeanMaxPoolingGradientsMatchFiniteDifferences() throws {
        let model = try smallClassifier(cell: .gru, bidirectional: true, pooling: .meanMax, labels: ["neg", "pos"], seed: 23)
        XCTAssertEqual(model.head.inputSize, 16, "[mean; max] of 2 × 4 features")
        try checkWholeClassifierGradients(model, label: "mean-max", epsilon: 2e-3)
        XCTAssertTrue(model.summary().render().contains("(B, 16)"))
    }
}
