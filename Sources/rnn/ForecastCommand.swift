import ArgumentParser
import Foundation
import RNN
import RNNCore
import RNNTasks

/// `rnn forecast train|eval|predict`: time-series forecasting with a many-to-one recurrent network.
struct ForecastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Forecast a time series (a numeric CSV column) with a recurrent network.",
        discussion: "The series is split in time order: training, then validation (early stopping), then test (the last part, only for eval). A bundled example: Resources/series/co2-mauna-loa-monthly.csv, column co2.",
        subcommands: [ForecastTrain.self, ForecastEval.self, ForecastPredict.self]
    )
}

struct ForecastTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a forecaster on the training part of a series and save it as a model directory.",
        discussion: "Inputs are scaled with the mean and standard deviation of the training part only (saved in config.json). --target delta (default) learns the change from the last observed value, which follows a trend beyond the values seen in training; --target level learns the scaled value itself."
    )

    @Option(help: "CSV file with a header line.") var data: String
    @Option(help: "The numeric column to forecast.") var column: String
    @Option(help: "Extra numeric input columns, comma-separated (inputs only; not forecast).") var features: String?
    @Option(help: "Past steps the network sees.") var window = 24
    @Option(help: "Future steps it predicts at once.") var horizon = 1
    @Option(help: "Model directory to write (config.json, model.safetensors, history).") var out: String
    @Option(help: "delta or level.") var target: ForecastTarget = .delta
    @Option(help: "rnn, lstm or gru.") var cell: CellType = .lstm
    @Option(help: "Stacked recurrent layers.") var layers = 1
    @Option(help: "Hidden units.") var hidden = 32
    @Option(help: "Dropout between stacked layers.") var dropout: Float = 0
    @Option(help: "sgd, adam, adamw, rmsprop or adagrad.") var optimizer: OptimizerKind = .adam
    @Option(help: "Learning rate.") var lr: Float = 3e-3
    @Option(help: "Clip gradients to this global norm (0: off).") var clipNorm: Float = 1
    @Option(help: "Windows per batch.") var batchSize = 32
    @Option(help: "Most training epochs.") var epochs = 200
    @Option(help: "Stop after this many epochs without a lower validation MSE.") var patience = 20
    @Option(help: "Last fraction of the series held out for testing.") var testFraction = 0.2
    @Option(help: "Last fraction of the rest held out for validation.") var validationFraction = 0.2
    @OptionGroup var runOptions: TrainingRunOptions

    func run() throws {
        try runOptions.run(defaultThreads: 1) { collective in
            var options = ForecasterTrainingOptions()
            options.resume = runOptions.resume
            options.column = column
            options.extraColumns = features.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
            options.window = window
            options.horizon = horizon
            options.target = target
            options.cell = cell
            options.layers = layers
            options.hiddenSize = hidden
            options.dropout = dropout
            options.batchSize = batchSize
            options.testFraction = testFraction
            options.validationFraction = validationFraction
            options.seed = runOptions.seed
            options.training.optimizer = optimizer
            options.training.learningRate = lr
            options.training.clipNorm = clipNorm > 0 ? clipNorm : nil
            options.training.epochs = epochs
            options.training.patience = patience
            // Argument checks that need no data come first, so bad options fail fast.
            guard horizon >= 1 else { throw RNNError("--horizon must be at least 1, got \(horizon)") }
            guard window >= 1 else { throw RNNError("--window must be at least 1, got \(window)") }
            let table = try TimeSeriesTable.read(csv: data, columns: [column] + options.extraColumns)
            let progress = ProgressReporter(totalEpochs: epochs, tokenWord: "steps", quiet: runOptions.json)
            InterruptSignal.install()
            let result = try ForecasterTraining.train(table: table, options: options, output: out, log: progress.log,
                                                      onEvent: progress.handle, writtenBy: swiftRNNVersion,
                                                      collective: collective, stopRequested: { InterruptSignal.isRequested })
            guard collective.isLeader else { return }
            let bestEpoch = result.history.min { ($0.validationLoss ?? .infinity) < ($1.validationLoss ?? .infinity) }?.epoch ?? 0
            if runOptions.json {
                try printJSON(["model": out, "seconds": result.seconds, "epochs": result.history.count, "best_epoch": bestEpoch,
                               "validation_rmse": result.validationRMSE, "training_windows": result.trainingWindows,
                               "validation_windows": result.validationWindows, "parameters": result.summary.totalParameters])
            } else {
                say(result.summary.render())
                say(String(format: "validation RMSE %.4f (best epoch %d of %d); saved %@ (%.1f s)",
                           result.validationRMSE, bestEpoch, result.history.count, out, result.seconds))
            }
        }
    }
}

struct ForecastEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "RMSE and MAE on the test part (after the training and validation parts) next to naive baselines."
    )

    @Option(help: "Model directory.") var model: String
    @Option(help: "CSV file: the series the model was trained on (or it extended).") var data: String
    @Option(help: "Season length for the seasonal-naive baseline (12 for monthly data).") var season = 12
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            let forecaster = try TrainedForecaster.load(from: model)
            let table = try forecaster.readSeries(csv: data)
            let report = try forecaster.evaluate(table, season: season)
            if json {
                func errors(_ e: ForecastErrors) -> [String: Double] { ["rmse": e.rmse, "mae": e.mae] }
                try printJSON(["model": errors(report.model), "naive": errors(report.naive),
                               "seasonal_naive": errors(report.seasonalNaive), "season": report.season,
                               "forecasts": report.forecasts, "horizon": forecaster.config.horizon,
                               "test_first_point": report.testRange.lowerBound + 1, "test_last_point": report.testRange.upperBound,
                               "rmse_by_step": report.rmseByStep])
            } else {
                say("test points \(report.testRange.lowerBound + 1)–\(report.testRange.upperBound) of '\(forecaster.config.columns[0])': "
                    + "\(report.forecasts) forecasts of \(forecaster.config.horizon) step(s)")
                say("                           RMSE        MAE")
                for (name, errors) in [("model", report.model), ("naive (last value)", report.naive),
                                       ("seasonal naive (S=\(report.season))", report.seasonalNaive)] {
                    say(name.padding(toLength: 26, withPad: " ", startingAt: 0)
                        + String(format: " %10.4f %10.4f", errors.rmse, errors.mae))
                }
                if report.rmseByStep.count > 1 {
                    say("model RMSE by step ahead: " + report.rmseByStep.map { String(format: "%.4f", $0) }.joined(separator: " "))
                }
            }
        }
    }
}

struct ForecastPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "The next H values after the end of the series; optionally an SVG of history and forecast."
    )

    @Option(help: "Model directory.") var model: String
    @Option(help: "CSV file with the series (its last W points are the input).") var data: String
    @Option(help: "SVG file to write: the recent history and the forecast.") var plot: String?
    @Option(help: "History points to draw in the plot.") var history = 120
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            let forecaster = try TrainedForecaster.load(from: model)
            let table = try forecaster.readSeries(csv: data)
            let next = try forecaster.predictNext(table)
            let n = table.count
            if json {
                try printJSON(["points": n, "forecast": next, "column": forecaster.config.columns[0]])
            } else {
                say("step\tpoint\t\(forecaster.config.columns[0])")
                for (k, value) in next.enumerated() { say("+\(k + 1)\t\(n + k + 1)\t\(value)") }
            }
            if let plot {
                guard history >= 1 else { throw RNNError("--history must be at least 1, got \(history)") }
                let values = table.columns[0]
                let first = max(n - history, 0)
                let past = (first..<n).map { (x: Double($0 + 1), y: values[$0]) }
                let future = [(x: Double(n), y: values[n - 1])] + next.enumerated().map { (x: Double(n + $0.offset + 1), y: $0.element) }
                try LinePlot(title: "\(forecaster.config.columns[0]): forecast of the next \(next.count)", xLabel: "point",
                             yLabel: forecaster.config.columns[0],
                             series: [.init(name: "history", points: past), .init(name: "forecast", points: future)]).write(to: plot)
                if !json { say("wrote \(plot)") }
            }
        }
    }
}

extension ForecastTarget: ExpressibleByArgument {}
