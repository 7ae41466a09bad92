import RNN
import RNNTasks
import XCTest

final class GradientDiagnosticsTests: XCTestCase {
    /// At initialisation, on a 20-step sequence, the share of the last step's gradient that reaches
    /// the first step is orders of magnitude smaller for the vanilla RNN than for the gated cells.
    func testVanillaRNNGradientVanishesFasterThanGatedCells() throws {
        var settings = GradientDiagnostics.Settings()
        settings.trainingSteps = 0
        let results = try GradientDiagnostics.run(cells: [.rnn, .lstm, .gru], settings: settings)
        let survival = Dictionary(uniqueKeysWithValues: results.map { ($0.cell, $0.initial.survival) })
        XCTAssertLessThan(survival[.rnn]! * 10, survival[.gru]!)
        XCTAssertLessThan(survival[.rnn]! * 100, survival[.lstm]!)
        for result in results {
            XCTAssertEqual(result.initial.norms.count, 20)
            // Going back in time the norm shrinks (it is largest at the step the loss reads).
            XCTAssertEqual(result.initial.norms.indices.max { result.initial.norms[$0] < result.initial.norms[$1] }, 19)
        }
    }

    func testExplodingGradientsGrowBackInTimeAndClippingCapsThem() throws {
        var settings = GradientDiagnostics.Settings()
        settings.trainingSteps = 0
        let exploding = try GradientDiagnostics.exploding(settings: settings, gain: 2, clipNorm: 5)
        XCTAssertGreaterThan(exploding.norms[0], 10 * exploding.norms[19], "‖∂L/∂h_0‖ ≫ ‖∂L/∂h_T−1‖ with gain 2")
        XCTAssertGreaterThan(exploding.normBefore, 5)
        XCTAssertEqual(exploding.normAfter, 5, accuracy: 1e-3)
    }
}
