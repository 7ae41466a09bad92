import Foundation
import RNN
import RNNCore

/// Everything `rnn forecast train` takes besides the data file.
public struct ForecasterTrainingOptions: Sendable {
    /// The column to forecast.
    public var column = "value"
    /// Extra numeric columns fed to the network beside the forecast column (inputs only).
    public var extraColumns: [String] = []
    /// Past steps the network sees (W) and future steps it predicts (H).
    public var window = 24
    public var horizon = 1
    public var target: ForecastTarget = .delta
    public var cell: CellType = .lstm
    public var layers = 1
    public var hiddenSize = 32
    public var dropout: Float = 0
    public var batchSize = 32
    /// The last fraction of the series held out for testing, and the last fraction of the rest
    /// held out for validation (early stopping).
    public var testFraction = 0.2
    public var validationFraction = 0.2
    public var seed: UInt64 = 1
    /// Continue from `OUT/checkpoint` (written after every epoch, and on Ctrl-C) instead of starting
    /// afresh; the data, seed and options must be those of the interrupted run (`--epochs` may be larger).
    public var resume = false
    public var training = TrainingOptions()

    public init() {
        training.epochs = 200
        training.patience = 20
        training.learningRate = 3e-3
        training.clipNorm = 1
    }
}

/// A forecaster's `config.json` model object: the network and how data becomes its input.
public struct ForecasterConfig: Codable, Sendable, Equatable {
    public var regressor: RegressorConfig
    /// Column names: the forecast column first, then the extra inputs.
    public var columns: [String]
    public var window: Int
    public var horizon: Int
    public var target: ForecastTarget
    /// Mean and std of each column over the training part only.
    public var scaling: FeatureScaling
    /// The split of the series the model was trained on; test points start at `validationEnd`.
    public var split: ForecastSplit
}

/// Error measures over every test forecast (every origin, every step ahead), in series units.
public struct ForecastErrors: Sendable, Equatable {
    public var rmse: Double
    public var mae: Double

    init(predictions: [[Double]], truth: [[Double]]) {
        var squared = 0.0, absolute = 0.0, count = 0
        for (predicted, actual) in zip(predictions, truth) {
            for (p, y) in zip(predicted, actual) {
                squared += (p - y) * (p - y)
                absolute += abs(p - y)
                count += 1
            }
        }
        rmse = count > 0 ? (squared / Double(count)).squareRoot() : 0
        mae = count > 0 ? absolute / Double(count) : 0
    }
}

/// `rnn forecast eval`: the model next to the two baselines on the same test forecasts.
public struct ForecastReport: Sendable {
    public var model: ForecastErrors
    /// ŷ_{o+k} = y_{o−1}: the last observed value, repeated.
    public var naive: ForecastErrors
    /// ŷ_{o+k} = y_{o+k−S·⌈(k+1)/S⌉}: the value one season (S steps) earlier that is already observed.
    public var seasonalNaive: ForecastErrors
    public var season: Int
    /// Forecast origins and the points they cover.
    public var forecasts: Int
    public var testRange: Range<Int>
    /// Model RMSE for each step ahead (k = 1…H).
    public var rmseByStep: [Double]
}

/// A trained forecaster: the network and its data configuration.
public final class TrainedForecaster {
    public let model: SequenceRegressor
    public let config: ForecasterConfig
    public let configFile: ModelConfigFile<ForecasterConfig>

    init(model: SequenceRegressor, configFile: ModelConfigFile<ForecasterConfig>) {
        self.model = model
        self.config = configFile.model
        self.configFile = configFile
    }

    public static func load(from path: String) throws -> TrainedForecaster {
        let file = try ModelDirectory.config(at: path, task: "forecast", as: ForecasterConfig.self)
        let config = file.model
        guard config.columns.count == config.regressor.featureCount, config.scaling.means.count == config.columns.count,
              config.scaling.deviations.count == config.columns.count, config.regressor.outputCount == config.horizon else {
            throw RNNError.invalidFile(path + "/" + ModelDirectory.configFile, "columns, scaling and network sizes do not agree")
        }
        var generator = SeededGenerator(seed: 0)
        let model = try SequenceRegressor(config.regressor, generator: &generator)
        try ModelDirectory.loadWeights(into: model.store, from: path)
        return TrainedForecaster(model: model, configFile: file)
    }

    /// Reads the model's columns from a CSV file.
    public func readSeries(csv path: String) throws -> TimeSeriesTable {
        try TimeSeriesTable.read(csv: path, columns: config.columns)
    }

    private func windowing(_ table: TimeSeriesTable) -> ForecastWindowing {
        ForecastWindowing(table: table, window: config.window, horizon: config.horizon, target: config.target, scaling: config.scaling)
    }

    /// Forecasts (in series units) from each origin, in batches.
    public func forecasts(_ table: TimeSeriesTable, origins: [Int], batchSize: Int = 256) throws -> [[Double]] {
        let windowing = windowing(table)
        var results: [[Double]] = []
        for start in stride(from: 0, to: origins.count, by: batchSize) {
            let part = Array(origins[start..<min(start + batchSize, origins.count)])
            results += windowing.unscale(try model.predict(windowing.windows(part)), origins: part)
        }
        return results
    }

    /// The H values after the end of the series.
    public func predictNext(_ table: TimeSeriesTable) throws -> [Double] {
        guard table.count >= config.window else {
            throw RNNError("\(table.path): \(table.count) points, but the model needs the last \(config.window) (its window) to forecast")
        }
        return try forecasts(table, origins: [table.count])[0]
    }

    /// Test errors of the model and the baselines, on the points from the model's test start
    /// (`split.validationEnd`, never seen in training or validation) to the end of `table`.
    public func evaluate(_ table: TimeSeriesTable, season: Int) throws -> ForecastReport {
        guard season >= 1 else { throw RNNError("--season must be at least 1, got \(season)") }
        let testRange = config.split.validationEnd..<max(table.count, config.split.validationEnd)
        let origins = ForecastSplit.origins(targetsIn: testRange, window: config.window, horizon: config.horizon)
        guard !origins.isEmpty else {
            throw RNNError("\(table.path): too few points for the test part: the model's test part starts at point \(config.split.validationEnd + 1) and needs \(config.horizon) points (its horizon), the file has \(table.count)")
        }
        let H = config.horizon
        let values = table.columns[0]
        guard origins[0] - season >= 0 else {
            throw RNNError("--season \(season) reaches before the start of the series; use a shorter season")
        }
        let truth = origins.map { o in (0..<H).map { values[o + $0] } }
        let predictions = try forecasts(table, origins: origins)
        let naive = origins.map { o in [Double](repeating: values[o - 1], count: H) }
        let seasonal = origins.map { o in
            (0..<H).map { k in values[o + k - season * ((k + season) / season)] }
        }
        let rmseByStep = (0..<H).map { k in
            ForecastErrors(predictions: predictions.map { [$0[k]] }, truth: truth.map { [$0[k]] }).rmse
        }
        return ForecastReport(model: ForecastErrors(predictions: predictions, truth: truth),
                              naive: ForecastErrors(predictions: naive, truth: truth),
                              seasonalNaive: ForecastErrors(predictions: seasonal, truth: truth),
                              season: season, forecasts: origins.count, testRange: testRange, rmseByStep: rmseByStep)
    }
}

/// What training produced, besides the saved directory.
public struct ForecasterTrainingResult: Sendable {
    public var history: [EpochRecord]
    public var split: ForecastSplit
    public var trainingWindows: Int
    public var validationWindows: Int
    /// Validation RMSE in series units, with the best weights.
    public var validationRMSE: Double
    public var seconds: Double
    public var summary: ModelSummary
}

/// `rnn forecast train`: read, split chronologically, scale with training statistics, train
/// with early stopping on the validation MSE, save.
public enum ForecasterTraining {
    public static func train(table: TimeSeriesTable, options: ForecasterTrainingOptions, output: String,
                             log: (String) -> Void = { _ in }, onEvent: (TrainingEvent) -> Void = { _ in },
                             writtenBy: String, collective: any Collective = SingleProcessCollective(),
                             stopRequested: @escaping () -> Bool = { false }) throws -> ForecasterTrainingResult {
        let log = collective.isLeader ? log : { _ in }, onEvent = collective.isLeader ? onEvent : { _ in }
        let start = DispatchTime.now().uptimeNanoseconds
        try options.training.validate()
        if collective.isLeader { try ModelDirectory.checkWritable(output) }  // rank 0 alone writes the model
        guard options.batchSize >= 1 else { throw RNNError("--batch-size must be at least 1, got \(options.batchSize)") }
        guard options.hiddenSize >= 1 else { throw RNNError("--hidden must be at least 1, got \(options.hiddenSize)") }
        let split = try ForecastSplit.chronological(count: table.count, window: options.window, horizon: options.horizon,
                                                    validationFraction: options.validationFraction, testFraction: options.testFraction)
        let scaling = FeatureScaling.fit(table.columns, end: split.trainingEnd)
        let windowing = ForecastWindowing(table: table, window: options.window, horizon: options.horizon,
                                          target: options.target, scaling: scaling)
        let trainingOrigins = ForecastSplit.origins(targetsIn: 0..<split.trainingEnd, window: options.window, horizon: options.horizon)
        let validationOrigins = ForecastSplit.origins(targetsIn: split.trainingEnd..<split.validationEnd, window: options.window,
                                                      horizon: options.horizon)
        log("read \(table.count) points of '\(table.names[0])' from \(table.path): training 1–\(split.trainingEnd) "
            + "(\(trainingOrigins.count) windows), validation \(split.trainingEnd + 1)–\(split.validationEnd) "
            + "(\(validationOrigins.count) windows), test \(split.validationEnd + 1)–\(split.count) held out")

        var fingerprint = Fingerprint()
        fingerprint.add(String(describing: options))
        for column in table.columns { fingerprint.add(column) }
        try collective.checkStart(fingerprint: fingerprint.value, items: trainingOrigins.count, itemName: "training windows")

        var generator = SeededGenerator(seed: options.seed)
        var recurrent = RecurrentConfig(cell: options.cell, inputSize: table.columns.count, hiddenSize: options.hiddenSize,
                                        layers: options.layers, dropout: options.layers > 1 ? options.dropout : 0)
        if options.cell == .lstm { recurrent.forgetBias = 1 }
        let config = ForecasterConfig(regressor: RegressorConfig(recurrent: recurrent, outputCount: options.horizon),
                                      columns: table.names, window: options.window, horizon: options.horizon,
                                      target: options.target, scaling: scaling, split: split)
        let model = try SequenceRegressor(config.regressor, generator: &generator)
        let validationWindows = try windowing.windows(validationOrigins)
        let validationTargets = try windowing.targets(validationOrigins)

        // Distributed: each rank takes every N-th window of each global batch and of validation.
        let myValidationOrigins = collective.shardRows(count: validationOrigins.count).map { validationOrigins[$0] }
        let validationShard = myValidationOrigins.isEmpty ? nil
            : (try windowing.windows(myValidationOrigins), try windowing.targets(myValidationOrigins))
        let run = try TaskTrainingRun(store: model.store, options: options.training, generator: generator, seed: options.seed,
                                      output: output, config: config, configFile: "forecaster.json", resume: options.resume,
                                      collective: collective, stopRequested: stopRequested, log: log)
        let trainer = run.trainer
        let history = try run.fit(
            batches: { generator in
                let shuffled = trainingOrigins.shuffled(using: &generator)
                return try stride(from: 0, to: shuffled.count, by: options.batchSize).map { first in
                    let global = Array(shuffled[first..<min(first + options.batchSize, shuffled.count)])
                    let part = collective.shardRows(count: global.count).map { global[$0] }
                    return part.isEmpty ? nil : (try windowing.windows(part), try windowing.targets(part))
                }
            },
            step: { item, generator in try model.trainStep(windows: item.0, targets: item.1, generator: &generator) },
            validate: {
                let mse: Double
                if collective.isDistributed {
                    let local = try validationShard.map { try model.meanSquaredError(windows: $0.0, targets: $0.1) } ?? 0
                    let totals = try collective.sum([local * Double(myValidationOrigins.count), Double(myValidationOrigins.count)])
                    mse = totals[0] / max(totals[1], 1)
                } else {
                    mse = try model.meanSquaredError(windows: validationWindows, targets: validationTargets)
                }
                return ValidationResult(loss: mse, metrics: ["rmse": mse.squareRoot() * scaling.deviations[0]])
            },
            monitor: "loss", higherIsBetter: false, onEvent: onEvent)

        let validationMSE = try model.meanSquaredError(windows: validationWindows, targets: validationTargets)
        let validationRMSE = validationMSE.squareRoot() * scaling.deviations[0]
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let trainingRecord: [String: String] = [
            "data": table.path, "batch_size": "\(options.batchSize)", "epochs": "\(options.training.epochs)",
            "patience": options.training.patience.map { "\($0)" } ?? "none",
            "optimizer": options.training.optimizer.rawValue, "learning_rate": "\(options.training.learningRate)",
            "clip_norm": options.training.clipNorm.map { "\($0)" } ?? "none", "seed": "\(options.seed)",
            "test_fraction": "\(options.testFraction)", "validation_fraction": "\(options.validationFraction)",
            "training_windows": "\(trainingOrigins.count)", "validation_windows": "\(validationOrigins.count)",
            "best_epoch": trainer.best.map { "\($0.epoch)" } ?? "last",
        ]
        let file = ModelConfigFile(task: "forecast", model: config, training: trainingRecord,
                                   metrics: ["validation_rmse": validationRMSE, "validation_mse_scaled": validationMSE,
                                             "training_seconds": seconds],
                                   writtenBy: writtenBy)
        try run.saveModel(file, store: model.store, history: history)
        return ForecasterTrainingResult(history: history, split: split, trainingWindows: trainingOrigins.count,
                                        validationWindows: validationOrigins.count, validationRMSE: validationRMSE,
                                        seconds: seconds, summary: model.summary())
    }
}
