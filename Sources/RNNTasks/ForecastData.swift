import Foundation
import RNN
import RNNCore
import RNNText

/// Numeric columns of a CSV file with a header, in file order: `columns[c][t]` is the value of
/// column c at time step t (record t after the header). Every named column must exist and every
/// cell must be a finite number; otherwise one error names the file and line.
public struct TimeSeriesTable: Sendable, Equatable {
    public var path: String
    public var names: [String]
    public var columns: [[Double]]

    public init(path: String, names: [String], columns: [[Double]]) {
        self.path = path
        self.names = names
        self.columns = columns
    }

    /// Time steps (records).
    public var count: Int { columns.first?.count ?? 0 }

    /// Reads `names` from a CSV file (RFC 4180, via `DelimitedTextReader`).
    public static func read(csv path: String, columns names: [String]) throws -> TimeSeriesTable {
        guard !names.isEmpty else { throw RNNError("no column to read from \(path)") }
        guard FileManager.default.fileExists(atPath: path) else { throw RNNError.invalidFile(path, "no such file") }
        var columns: [[Double]] = []
        for name in names {
            var values: [Double] = []
            var bad: (record: Int, text: String)?
            try DelimitedTextReader.csv(path: path, textColumn: name).forEach { example in
                guard bad == nil else { return }
                let text = example.text.trimmingCharacters(in: .whitespaces)
                if let value = Double(text), value.isFinite {
                    values.append(value)
                } else {
                    bad = (values.count, example.text)
                }
            }
            if let bad {
                let line = try lineOfRecord(bad.record, in: path)
                let shown = bad.text.isEmpty ? "an empty cell" : "'\(bad.text.prefix(40))'"
                throw RNNError("\(path):\(line): column '\(name)' holds \(shown), not a number (fill or drop missing values first)")
            }
            columns.append(values)
        }
        return TimeSeriesTable(path: path, names: names, columns: columns)
    }

    /// The file line on which data record `record` (0 = the first after the header) starts:
    /// records end at line breaks outside quotes, blank lines are skipped, as the CSV reader does.
    static func lineOfRecord(_ record: Int, in path: String) throws -> Int {
        let bytes: [UInt8]
        do { bytes = Array(try FileContents.read(URL(fileURLWithPath: path))) } catch {
            throw RNNError.invalidFile(path, "cannot read (\(error.localizedDescription))")
        }
        var line = 1, recordsSeen = -1  // the header is record -1
        var inQuotes = false, recordHasBytes = false, recordLine = 1
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { inQuotes.toggle() }
            if byte == UInt8(ascii: "\n") {
                if !inQuotes {
                    if recordHasBytes {
                        if recordsSeen == record { return recordLine }
                        recordsSeen += 1
                    }
                    recordHasBytes = false
                    recordLine = line + 1
                }
                line += 1
            } else if byte != UInt8(ascii: "\r") {
                if !recordHasBytes { recordLine = line }
                recordHasBytes = true
            }
        }
        return recordLine
    }
}

/// A chronological split of T time steps: training `0..<trainingEnd`, validation
/// `trainingEnd..<validationEnd` (the end of the training part), test `validationEnd..<T`.
public struct ForecastSplit: Codable, Sendable, Equatable {
    public var count: Int
    public var trainingEnd: Int
    public var validationEnd: Int

    /// test = the last `testFraction` of the series; validation = the last `validationFraction` of
    /// what precedes it. Training needs one whole window (W inputs + H targets); validation and
    /// test need H points each, so that each holds at least one forecast.
    public static func chronological(count: Int, window: Int, horizon: Int, validationFraction: Double,
                                     testFraction: Double) throws -> ForecastSplit {
        guard window >= 1 else { throw RNNError("--window must be at least 1, got \(window)") }
        guard horizon >= 1 else { throw RNNError("--horizon must be at least 1, got \(horizon)") }
        guard window < count else {
            throw RNNError("--window \(window) is longer than the series (\(count) points); use a window shorter than the series")
        }
        guard testFraction > 0, testFraction < 1, validationFraction > 0, validationFraction < 1 else {
            throw RNNError("--test-fraction and --validation-fraction must be in (0, 1), got \(testFraction) and \(validationFraction)")
        }
        let testCount = max(Int((Double(count) * testFraction).rounded()), horizon)
        let trainingAndValidation = count - testCount
        let validationCount = max(Int((Double(trainingAndValidation) * validationFraction).rounded()), horizon)
        let trainingCount = trainingAndValidation - validationCount
        guard trainingCount >= window + horizon else {
            throw RNNError("too few points for the split: \(count) points give \(trainingCount) for training, \(validationCount) for validation and \(testCount) for test, but training needs at least window + horizon = \(window + horizon); use a longer series or a shorter --window/--horizon")
        }
        return ForecastSplit(count: count, trainingEnd: trainingCount, validationEnd: trainingAndValidation)
    }

    /// Forecast origins o (index of the first predicted step) whose H targets o..<o+H all lie in
    /// `range`, with a whole window o−W..<o before them. The inputs may reach into earlier parts
    /// (the past is known when forecasting); the targets never leave the part.
    public static func origins(targetsIn range: Range<Int>, window: Int, horizon: Int) -> [Int] {
        let first = max(range.lowerBound, window), last = range.upperBound - horizon
        return first <= last ? Array(first...last) : []
    }
}

/// Per-feature mean and standard deviation, computed on the training part only; the forecaster
/// feeds (x − mean) / std to the network.
public struct FeatureScaling: Codable, Sendable, Equatable {
    public var means: [Double]
    public var deviations: [Double]

    /// Statistics of `columns[c][0..<end]` (population standard deviation; 1 for a constant column).
    public static func fit(_ columns: [[Double]], end: Int) -> FeatureScaling {
        var means: [Double] = [], deviations: [Double] = []
        for column in columns {
            let part = column[0..<end]
            let mean = part.reduce(0, +) / Double(part.count)
            let variance = part.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(part.count)
            means.append(mean)
            deviations.append(variance > 0 ? variance.squareRoot() : 1)
        }
        return FeatureScaling(means: means, deviations: deviations)
    }
}

/// What the network learns to output for each future step k = 0..<H after origin o.
public enum ForecastTarget: String, Codable, Sendable, CaseIterable {
    /// The scaled value itself: (y_{o+k} − mean) / std.
    case level
    /// Values relative to the last observed one, scaled: the network reads (y_{o−W+t} − y_{o−1}) / std
    /// and predicts (y_{o+k} − y_{o−1}) / std. Shifting the whole series changes nothing, so the
    /// network follows a trend beyond the range of values seen in training.
    case delta
}

/// Turns origins into network batches: windows (W, B, F) time-major and targets (B, H).
struct ForecastWindowing {
    let window: Int
    let horizon: Int
    let target: ForecastTarget
    let scaling: FeatureScaling
    /// Scaled features, `scaled[c][t]`; column 0 is the forecast column.
    let scaled: [[Float]]
    let values: [Double]

    init(table: TimeSeriesTable, window: Int, horizon: Int, target: ForecastTarget, scaling: FeatureScaling) {
        self.window = window
        self.horizon = horizon
        self.target = target
        self.scaling = scaling
        scaled = table.columns.enumerated().map { c, column in
            column.map { Float(($0 - scaling.means[c]) / scaling.deviations[c]) }
        }
        values = table.columns[0]
    }

    /// x[t, b, c] = scaled[c][o_b − W + t]; for `delta`, column 0 minus its value at o_b − 1.
    func windows(_ origins: [Int]) throws -> Tensor {
        let B = origins.count, F = scaled.count
        var x = Tensor(shape: [window, B, F])
        for (b, origin) in origins.enumerated() {
            let anchor = target == .delta ? scaled[0][origin - 1] : 0
            for t in 0..<window {
                for c in 0..<F { x.scalars[(t * B + b) * F + c] = scaled[c][origin - window + t] }
                x.scalars[(t * B + b) * F] -= anchor
            }
        }
        return x
    }

    /// y[b, k]: the `target` encoding of values[o_b + k].
    func targets(_ origins: [Int]) throws -> Tensor {
        var y = Tensor(shape: [origins.count, horizon])
        for (b, origin) in origins.enumerated() {
            let reference = target == .delta ? values[origin - 1] : scaling.means[0]
            for k in 0..<horizon {
                y.scalars[b * horizon + k] = Float((values[origin + k] - reference) / scaling.deviations[0])
            }
        }
        return y
    }

    /// Network outputs (B, H) back in the series' units: ŷ_{o+k} = reference + output · std.
    func unscale(_ outputs: Tensor, origins: [Int]) -> [[Double]] {
        origins.enumerated().map { b, origin in
            let reference = target == .delta ? values[origin - 1] : scaling.means[0]
            return (0..<horizon).map { reference + Double(outputs.scalars[b * horizon + $0]) * scaling.deviations[0] }
        }
    }
}
