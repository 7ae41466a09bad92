import Foundation
import RNN
import RNNCore
@testable import RNNTasks
import XCTest

final class ForecastingTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "forecasting-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// y_t = 0.02 t + sin(2π t / 12) + small noise: a trend and a season.
    private func sineWithTrend(count: Int, seed: UInt64 = 3) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { t in
            0.02 * Double(t) + Foundation.sin(2 * Double.pi * Double(t) / 12) + 0.05 * generator.nextNormal()
        }
    }

    private func writeCSV(_ name: String, header: String, rows: [String]) throws -> String {
        let path = directory + "/" + name
        try ([header] + rows).joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func table(_ values: [Double]) -> TimeSeriesTable {
        TimeSeriesTable(path: "synthetic", names: ["value"], columns: [values])
    }

    private func smallOptions(epochs: Int, horizon: Int = 1) -> ForecasterTrainingOptions {
        var options = ForecasterTrainingOptions()
        options.window = 12
        options.horizon = horizon
        options.hiddenSize = 12
        options.batchSize = 16
        options.training.epochs = epochs
        options.training.patience = 10
        options.training.learningRate = 0.01
        return options
    }

    func testLearnsSineWithTrendWellBelowTheNaiveBaseline() throws {
        let series = table(sineWithTrend(count: 240))
        let result = try ForecasterTraining.train(table: series, options: smallOptions(epochs: 60), output: directory + "/model",
                                                  writtenBy: "test")
        XCTAssertLessThan(result.history.count, 61)
        let forecaster = try TrainedForecaster.load(from: directory + "/model")
        let report = try forecaster.evaluate(series, season: 12)
        XCTAssertEqual(report.testRange, result.split.validationEnd..<240)
        XCTAssertEqual(report.forecasts, 240 - result.split.validationEnd)
        // The one-step naive error of a period-12 unit sine is about 0.37; the network must do far better.
        XCTAssertGreaterThan(report.naive.rmse, 0.3)
        XCTAssertLessThan(report.model.rmse, 0.4 * report.naive.rmse, "model \(report.model) vs naive \(report.naive)")
        XCTAssertLessThan(report.model.mae, 0.4 * report.naive.mae)
    }

    func testScalingUsesTheTrainingPartOnlyAndTheTestPartNeverReachesTraining() throws {
        let values = sineWithTrend(count: 120)
        let options = smallOptions(epochs: 2)
        _ = try ForecasterTraining.train(table: table(values), options: options, output: directory + "/a", writtenBy: "test")
        let a = try TrainedForecaster.load(from: directory + "/a")
        let split = a.config.split
        let trainingPart = values[0..<split.trainingEnd]
        let mean = trainingPart.reduce(0, +) / Double(trainingPart.count)
        let std = (trainingPart.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(trainingPart.count)).squareRoot()
        XCTAssertEqual(a.config.scaling.means[0], mean, accuracy: 1e-12)
        XCTAssertEqual(a.config.scaling.deviations[0], std, accuracy: 1e-12)
        let whole = values.reduce(0, +) / Double(values.count)
        XCTAssertGreaterThan(abs(whole - mean), 0.1, "the trend must make whole-series statistics differ")

        // Replace the test part with wild values: the trained model must be bit-for-bit the same.
        var changed = values
        for t in split.validationEnd..<changed.count { changed[t] = 1000 + Double(t) }
        _ = try ForecasterTraining.train(table: table(changed), options: options, output: directory + "/b", writtenBy: "test")
        let b = try TrainedForecaster.load(from: directory + "/b")
        XCTAssertEqual(b.config, a.config)
        XCTAssertEqual(Array(b.model.store.allValues), Array(a.model.store.allValues))
        // Changing the validation part leaves the scaling alone (it only steers early stopping).
        var changedValidation = values
        for t in split.trainingEnd..<split.validationEnd { changedValidation[t] = -50 }
        _ = try ForecasterTraining.train(table: table(changedValidation), options: options, output: directory + "/c", writtenBy: "test")
        XCTAssertEqual(try TrainedForecaster.load(from: directory + "/c").config.scaling, a.config.scaling)
    }

    func testSplitAndWindowsAreChronologicalWithoutLeakage() throws {
        let split = try ForecastSplit.chronological(count: 100, window: 10, horizon: 3, validationFraction: 0.2, testFraction: 0.2)
        XCTAssertEqual(split, ForecastSplit(count: 100, trainingEnd: 64, validationEnd: 80))
        let training = ForecastSplit.origins(targetsIn: 0..<split.trainingEnd, window: 10, horizon: 3)
        let validation = ForecastSplit.origins(targetsIn: split.trainingEnd..<split.validationEnd, window: 10, horizon: 3)
        let test = ForecastSplit.origins(targetsIn: split.validationEnd..<100, window: 10, horizon: 3)
        XCTAssertEqual(training.first, 10)
        XCTAssertEqual(training.last, 61)   // targets 61, 62, 63: the last training points
        XCTAssertEqual(validation, Array(64...77))
        XCTAssertEqual(test, Array(80...97))

        // The windows hold exactly the W values before each origin, oldest first, and the targets the H after it.
        let values = (0..<100).map(Double.init)
        let scaling = FeatureScaling(means: [0], deviations: [1])
        for target in ForecastTarget.allCases {
            let windowing = ForecastWindowing(table: table(values), window: 10, horizon: 3, target: target, scaling: scaling)
            let x = try windowing.windows([10, 61])
            let y = try windowing.targets([10, 61])
            XCTAssertEqual(x.shape, [10, 2, 1])
            let offset: Float = target == .level ? 0 : 60   // delta windows are relative to the last input, y_60
            let expectedWindow: [Float] = (51...60).map { Float($0) - offset }
            XCTAssertEqual((0..<10).map { x.scalars[$0 * 2 + 1] }, expectedWindow)
            XCTAssertEqual(y.scalars, target == .level ? [10, 11, 12, 61, 62, 63] : [1, 2, 3, 1, 2, 3])
            XCTAssertEqual(windowing.unscale(y, origins: [10, 61]), [[10, 11, 12], [61, 62, 63]])
        }
    }

    func testSaveLoadRoundTripReproducesValidationErrorsAndBaselinesAreExact() throws {
        // Period-4 series with no trend: the seasonal-naive forecast (S = 4) is exact.
        let values = (0..<80).map { [1.0, 3.0, 2.0, 5.0][$0 % 4] }
        var options = smallOptions(epochs: 3, horizon: 2)
        options.window = 8
        options.cell = .gru
        options.layers = 2
        let result = try ForecasterTraining.train(table: table(values), options: options, output: directory + "/m", writtenBy: "test")
        let loaded = try TrainedForecaster.load(from: directory + "/m")
        XCTAssertEqual(loaded.config.split, result.split)
        XCTAssertEqual(loaded.config.regressor.recurrent.layers, 2)
        let origins = ForecastSplit.origins(targetsIn: result.split.trainingEnd..<result.split.validationEnd, window: 8, horizon: 2)
        XCTAssertEqual(origins.count, result.validationWindows)
        let forecasts = try loaded.forecasts(table(values), origins: origins)
        let truth = origins.map { [values[$0], values[$0 + 1]] }
        XCTAssertEqual(ForecastErrors(predictions: forecasts, truth: truth).rmse, result.validationRMSE, accuracy: 1e-4)
        XCTAssertEqual(try loaded.predictNext(table(values)).count, 2)

        let report = try loaded.evaluate(table(values), season: 4)
        XCTAssertEqual(report.seasonalNaive.rmse, 0)
        // Naive: the last observed value y_{o−1} for every step ahead, computed directly.
        let testOrigins = ForecastSplit.origins(targetsIn: report.testRange, window: 8, horizon: 2)
        var squared = 0.0
        for o in testOrigins { for k in 0..<2 { squared += (values[o + k] - values[o - 1]) * (values[o + k] - values[o - 1]) } }
        XCTAssertEqual(report.naive.rmse, (squared / Double(2 * testOrigins.count)).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(report.rmseByStep.count, 2)
    }

    func testBundledSeriesReadsAndBadInputGivesOneClearError() throws {
        let bundled = try XCTUnwrap(Bundle.module.path(forResource: "co2-mauna-loa-monthly", ofType: "csv", inDirectory: "Fixtures"))
        let co2 = try TimeSeriesTable.read(csv: bundled, columns: ["co2"])
        XCTAssertEqual(co2.count, 526)
        XCTAssertEqual(co2.columns[0].first, 316.10)

        let bad = try writeCSV("bad.csv", header: "date,value", rows: ["1,1.5", "2,2.5", "", "3,\"3.5\"", "4,n/a", "5,6"])
        XCTAssertThrowsError(try TimeSeriesTable.read(csv: bad, columns: ["value"])) { error in
            XCTAssertEqual("\(error)", "\(bad):6: column 'value' holds 'n/a', not a number (fill or drop missing values first)")
        }
        let empty = try writeCSV("empty.csv", header: "value", rows: ["1", "2", " ", "3"])
        XCTAssertThrowsError(try TimeSeriesTable.read(csv: empty, columns: ["value"])) { error in
            XCTAssertEqual("\(error)", "\(empty):4: column 'value' holds ' ', not a number (fill or drop missing values first)")
        }
        XCTAssertThrowsError(try TimeSeriesTable.read(csv: bad, columns: ["price"])) { error in
            XCTAssertTrue("\(error)".contains("no column 'price'; the columns are 'date', 'value'"), "\(error)")
        }
        XCTAssertThrowsError(try TimeSeriesTable.read(csv: directory + "/missing.csv", columns: ["value"])) { error in
            XCTAssertTrue("\(error)".hasSuffix("missing.csv: no such file"), "\(error)")
        }

        let series = table(sineWithTrend(count: 50))
        func trainingError(_ change: (inout ForecasterTrainingOptions) -> Void) -> String {
            var options = smallOptions(epochs: 1)
            change(&options)
            do {
                _ = try ForecasterTraining.train(table: series, options: options, output: directory + "/e", writtenBy: "test")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(trainingError { $0.window = 60 },
                       "--window 60 is longer than the series (50 points); use a window shorter than the series")
        XCTAssertEqual(trainingError { $0.horizon = 0 }, "--horizon must be at least 1, got 0")
        XCTAssertTrue(trainingError { $0.window = 40 }.hasPrefix("too few points for the split: 50 points give 32 for training"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/e"), "no model directory after an error")

        let forecaster = try TrainedForecaster.load(from: {
            _ = try ForecasterTraining.train(table: series, options: smallOptions(epochs: 1), output: directory + "/ok", writtenBy: "test")
            return directory + "/ok"
        }())
        XCTAssertThrowsError(try forecaster.predictNext(table(Array(series.columns[0].prefix(5))))) { error in
            XCTAssertTrue("\(error)".contains("needs the last 12"), "\(error)")
        }
        XCTAssertThrowsError(try forecaster.evaluate(table(Array(series.columns[0].prefix(30))), season: 12)) { error in
            XCTAssertTrue("\(error)".contains("too few points for the test part"), "\(error)")
        }
    }
}
