import Foundation
import RNNCore

/// A line chart written as a standalone SVG file: axes with ticks, a legend, optional log-scaled
/// y axis. Enough for training curves and gradient-norm diagnostics; readable in any browser.
public struct LinePlot: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]

        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logY: Bool
    public var series: [Series]
    public var width = 720.0
    public var height = 440.0

    public init(title: String, xLabel: String, yLabel: String, logY: Bool = false, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logY = logY
        self.series = series
    }

    private static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// The chart as SVG text. Points with non-finite values (or y ≤ 0 on a log axis) are skipped.
    public func svg() throws -> String {
        let usable = series.map { line in
            Series(name: line.name, points: line.points.filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) })
        }
        let all = usable.flatMap(\.points)
        guard !all.isEmpty else { throw RNNError("plot '\(title)': no finite points to draw") }
        let left = 78.0, right = 170.0, top = 40.0, bottom = 56.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        var xMin = all.map(\.x).min()!, xMax = all.map(\.x).max()!
        if xMin == xMax { xMin -= 1; xMax += 1 }
        func transform(_ y: Double) -> Double { logY ? Foundation.log10(y) : y }
        var yMin = all.map { transform($0.y) }.min()!, yMax = all.map { transform($0.y) }.max()!
        if yMin == yMax { yMin -= 1; yMax += 1 }
        if logY {
            yMin = Foundation.floor(yMin)
            yMax = Foundation.ceil(yMax)
        } else {
            let pad = (yMax - yMin) * 0.05
            yMin -= pad
            yMax += pad
        }
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (transform(y) - yMin) / (yMax - yMin)) * plotHeight }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left + plotWidth / 2)" y="22" text-anchor="middle" font-size="15" font-weight="bold">\(escape(title))</text>

        """
        // Grid and ticks.
        for tick in niceTicks(xMin, xMax) {
            let x = px(tick)
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotHeight))\" stroke=\"#e5e5e5\"/>\n"
            svg += "<text x=\"\(f(x))\" y=\"\(f(top + plotHeight + 16))\" text-anchor=\"middle\">\(label(tick))</text>\n"
        }
        let yTicks: [Double] = logY ? Array(stride(from: yMin, through: yMax, by: max(1, ((yMax - yMin) / 8).rounded(.up))))
                                    : niceTicks(yMin, yMax)
        for tick in yTicks {
            let y = top + (1 - (tick - yMin) / (yMax - yMin)) * plotHeight
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#e5e5e5\"/>\n"
            let text = logY ? "1e\(Int(tick))" : label(tick)
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(text)</text>\n"
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#333\"/>\n"
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(18 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel + (logY ? " (log scale)" : "")))</text>\n"
        // Lines and legend.
        for (index, line) in usable.enumerated() where !line.points.isEmpty {
            let color = Self.colors[index % Self.colors.count]
            let path = line.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            if line.points.count <= 40 {
                for point in line.points {
                    svg += "<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(point.y)))\" r=\"3\" fill=\"\(color)\"/>\n"
                }
            }
            let legendY = top + 10 + Double(index) * 20
            svg += "<line x1=\"\(f(left + plotWidth + 14))\" y1=\"\(f(legendY))\" x2=\"\(f(left + plotWidth + 38))\" y2=\"\(f(legendY))\" stroke=\"\(color)\" stroke-width=\"3\"/>\n"
            svg += "<text x=\"\(f(left + plotWidth + 44))\" y=\"\(f(legendY + 4))\">\(escape(line.name))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    /// Writes the SVG atomically.
    public func write(to path: String) throws {
        try AtomicFile.write(svg(), to: path)
    }
}

/// About six round tick values covering [low, high].
func niceTicks(_ low: Double, _ high: Double) -> [Double] {
    let span = high - low
    guard span > 0, span.isFinite else { return [low] }
    let raw = span / 6
    let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
    var ticks: [Double] = []
    var tick = Foundation.ceil(low / step) * step
    while tick <= high + step * 1e-9 {
        ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
        tick += step
    }
    return ticks
}

private func f(_ value: Double) -> String { String(format: "%.1f", value) }

private func label(_ value: Double) -> String {
    if value == value.rounded() && abs(value) < 1e6 { return String(Int(value)) }
    return abs(value) >= 0.01 ? String(format: "%.3g", value) : String(format: "%.1e", value)
}

private func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
}
