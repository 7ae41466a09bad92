import ArgumentParser
import Foundation
import RNN
import RNNCore
import RNNTasks

/// `rnn compare`: several configurations on the same data, split and seed, side by side.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train several configurations on the same split and seed; write a table and curves.",
        discussion: """
        --task classify: a configuration is CELL[-bi][-POOL], e.g. rnn-last, lstm-mean, gru-bi-mean, lstm-bi-max, gru-bi-mean-max: the cell \
        (rnn, lstm, gru), bidirectional or not, and the pooling (last = architecture 1, mean = architecture 2, max, mean-max). \
        --task lm: a configuration is a cell (rnn, lstm, gru); the metric is validation perplexity, next to the bigram's. \
        Every other option applies to all of them.
        """
    )

    @Option(help: "classify or lm.") var task = "classify"
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Comma-separated configurations (default for classify: all cells with last and mean pooling; for lm: rnn,lstm,gru).")
    var configs: String?
    @Option(help: "Folder for the models, table.md, results.json and curves.svg.") var out: String
    @Option(help: "Hidden units per direction.") var hidden = 128
    @Option(help: "Embedding dimension.") var embeddingDim = 128
    @Option(help: "Largest vocabulary.") var vocabSize = 20_000
    @Option(help: "Tokens kept per text.") var maxLength = 400
    @Option(help: "Training epochs.") var epochs = 3
    @Option(help: "Learning rate.") var lr: Float = 2e-3
    @Option(help: "Examples per batch.") var batchSize = 64
    @Option(help: "Validation fraction.") var validationSplit = 0.1
    @Option(help: "Random seed (the same for every configuration).") var seed: UInt64 = 1

    struct Variant {
        var name: String
        var cell: CellType
        var bidirectional: Bool
        var pooling: PoolingMode
    }

    /// `--task lm`: one language model per cell on the same documents, split and seed.
    func compareLanguageModels(_ variants: [Variant]) throws {
        if let bad = variants.first(where: { $0.bidirectional || $0.name.contains("-") }) {
            throw RNNError("--task lm: configuration '\(bad.name)' must be just a cell (rnn, lstm or gru)")
        }
        var rows: [[String: Any]] = []
        var curves: [LinePlot.Series] = []
        var bigramPerplexity: Double?
        for variant in variants {
            var options = LanguageModelTrainingOptions()
            options.cell = variant.cell
            options.hiddenSize = hidden
            options.embeddingDimension = hidden
            options.vocabularySize = vocabSize
            options.batchSize = batchSize
            options.validationSplit = validationSplit
            options.seed = seed
            options.training.epochs = epochs
            options.training.learningRate = lr
            let progress = ProgressReporter(totalEpochs: epochs)
            progress.log("== \(variant.name)")
            let result = try LanguageModelTraining.train(source: dataOptions.source, options: options, output: out + "/" + variant.name,
                                                         log: progress.log, onEvent: progress.handle, writtenBy: swiftRNNVersion)
            bigramPerplexity = result.bigramValidation?.perplexity ?? bigramPerplexity
            let perplexity = result.validation?.perplexity ?? .nan
            rows.append(["config": variant.name, "validation_perplexity": perplexity,
                         "parameters": result.summary?.totalParameters ?? 0, "seconds": result.seconds])
            curves.append(.init(name: variant.name, points: result.history.compactMap { record in
                record.validationLoss.map { (Double(record.epoch), Foundation.exp($0)) }
            }))
            say(String(format: "%@: validation perplexity %.2f, %.0f s", variant.name, perplexity, result.seconds))
        }
        var table = "| configuration | validation perplexity | parameters | training time |\n|---|---|---|---|\n"
        for row in rows {
            table += String(format: "| %@ | %.2f | %@ | %.0f s |\n", row["config"] as! String, row["validation_perplexity"] as! Double,
                            groupedDigits(row["parameters"] as! Int), row["seconds"] as! Double)
        }
        if let bigramPerplexity { table += String(format: "| bigram (Kneser-Ney) | %.2f | — | — |\n", bigramPerplexity) }
        try writeResults(table: table, rows: rows,
                         plot: LinePlot(title: "validation perplexity per epoch", xLabel: "epoch", yLabel: "perplexity", logY: true, series: curves))
    }

    /// Writes `table.md`, `results.json` and `curves.svg` into the output folder and prints the table.
    func writeResults(table: String, rows: [[String: Any]], plot: LinePlot) throws {
        try AtomicFile.write(table, to: out + "/table.md")
        try AtomicFile.write(JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys]), to: out + "/results.json")
        try plot.write(to: out + "/curves.svg")
        say(table)
        say("wrote \(out)/table.md, results.json, curves.svg")
    }

    func parse(_ text: String) throws -> Variant {
        let parts = text.split(separator: "-").map(String.init)
        guard let first = parts.first, let cell = CellType(rawValue: first) else {
            throw RNNError("--configs: '\(text)' must start with rnn, lstm or gru")
        }
        var variant = Variant(name: text, cell: cell, bidirectional: false, pooling: .last)
        let rest = parts.dropFirst().filter { part in
            if part == "bi" { variant.bidirectional = true }
            return part != "bi"
        }
        if !rest.isEmpty {
            // The pooling may itself hold a dash (mean-max).
            guard let pooling = PoolingMode(rawValue: rest.joined(separator: "-")) else {
                throw RNNError("--configs: unknown part '\(rest.joined(separator: "-"))' in '\(text)'; use bi and one of last, mean, max or mean-max")
            }
            variant.pooling = pooling
        }
        return variant
    }

    func run() throws {
        try reportingErrors {
            guard task == "classify" || task == "lm" else { throw RNNError("--task \(task) is not supported; use classify or lm") }
            let list = configs ?? (task == "lm" ? "rnn,lstm,gru" : "rnn-last,rnn-mean,lstm-last,lstm-mean,gru-last,gru-mean,gru-bi-mean")
            let variants = try list.split(separator: ",").map { try parse($0.trimmingCharacters(in: .whitespaces)) }
            guard !variants.isEmpty else { throw RNNError("--configs is empty") }
            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            } catch {
                throw RNNError.invalidFile(out, "cannot create the output folder (\(error.localizedDescription))")
            }
            if task == "lm" {
                try compareLanguageModels(variants)
                return
            }
            var rows: [[String: Any]] = []
            var curves: [LinePlot.Series] = []
            for variant in variants {
                var options = ClassifierTrainingOptions()
                options.cell = variant.cell
                options.bidirectional = variant.bidirectional
                options.pooling = variant.pooling
                options.hiddenSize = hidden
                options.embeddingDimension = embeddingDim
                options.vocabularySize = vocabSize
                options.maxLength = maxLength
                options.batchSize = batchSize
                options.validationSplit = validationSplit
                options.seed = seed
                options.training.epochs = epochs
                options.pretrainEpochs = 0  // the default `auto` would pretrain on reviews; kept fast and comparable
                options.training.learningRate = lr
                let progress = ProgressReporter(totalEpochs: epochs)
                progress.log("== \(variant.name)")
                let result = try ClassificationTraining.train(source: dataOptions.source, options: options, output: out + "/" + variant.name,
                                                              log: progress.log, onEvent: progress.handle, writtenBy: swiftRNNVersion)
                let accuracy = result.validation?.accuracy ?? .nan
                rows.append(["config": variant.name, "cell": variant.cell.rawValue, "bidirectional": variant.bidirectional,
                             "pooling": variant.pooling.rawValue, "validation_accuracy": accuracy,
                             "validation_f1": result.validation?.f1 ?? .nan, "parameters": result.summary.totalParameters,
                             "seconds": result.seconds])
                curves.append(.init(name: variant.name, points: result.history.compactMap { record in
                    record.metrics["accuracy"].map { (Double(record.epoch), $0) }
                }))
                say(String(format: "%@: validation accuracy %.4f, %d parameters, %.0f s", variant.name, accuracy,
                           result.summary.totalParameters, result.seconds))
            }
            var table = "| configuration | cell | directions | pooling | validation accuracy | F1 | parameters | training time |\n"
            table += "|---|---|---|---|---|---|---|---|\n"
            for row in rows {
                table += String(format: "| %@ | %@ | %@ | %@ | %.4f | %.4f | %@ | %.0f s |\n",
                                row["config"] as! String, row["cell"] as! String, (row["bidirectional"] as! Bool) ? "2" : "1",
                                row["pooling"] as! String, row["validation_accuracy"] as! Double, row["validation_f1"] as! Double,
                                groupedDigits(row["parameters"] as! Int), row["seconds"] as! Double)
            }
            try writeResults(table: table, rows: rows,
                             plot: LinePlot(title: "validation accuracy per epoch", xLabel: "epoch", yLabel: "accuracy", series: curves))
        }
    }
}
