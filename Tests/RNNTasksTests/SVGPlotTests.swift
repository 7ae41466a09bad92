import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import RNNTasks
import XCTest

final class SVGPlotTests: XCTestCase {
    func testWellFormedSVGWithLegendAndLogAxis() throws {
        let plot = LinePlot(title: "gradients <t>", xLabel: "t", yLabel: "norm", logY: true, series: [
            .init(name: "rnn", points: (1...20).map { (Double($0), Foundation.pow(0.5, Double($0))) }),
            .init(name: "lstm", points: (1...20).map { (Double($0), 1 + 0.01 * Double($0)) }),
            .init(name: "skipped", points: [(1, 0), (2, .nan)]),
        ])
        let svg = try plot.svg()
        let document = try XMLDocument(data: Data(svg.utf8))
        XCTAssertEqual(document.rootElement()?.name, "svg")
        XCTAssertTrue(svg.contains(">rnn</text>") && svg.contains(">lstm</text>"))
        XCTAssertTrue(svg.contains("gradients &lt;t&gt;"), "titles are escaped")
        XCTAssertTrue(svg.contains(">1e-7</text>") && svg.contains(">1e1</text>"), "decades from 2^-20 ≈ 1e-6 up to 1.2")
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2, "the series with no usable points draws nothing")
    }

    func testNoFinitePointsIsAnError() {
        XCTAssertThrowsError(try LinePlot(title: "x", xLabel: "", yLabel: "", series: [.init(name: "a", points: [(0, .nan)])]).svg())
    }

    func testNiceTicks() {
        for (tick, expected) in zip(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]) { XCTAssertEqual(tick, expected, accuracy: 1e-12) }
        XCTAssertEqual(niceTicks(0, 1).count, 6)
        XCTAssertEqual(niceTicks(1, 6), [1, 2, 3, 4, 5, 6])
    }
}
