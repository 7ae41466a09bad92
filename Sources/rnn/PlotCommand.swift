import ArgumentParser
import Foundation
import RNN
import RNNCore
import RNNTasks

/// `rnn plot`: training curves of a run (its `history.json`) as an SVG file.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw the loss and metric curves of a training run (MODEL_DIR/history.json) as SVG."
    )

    @Argument(help: "A history.json file, or a model directory that holds one.") var history: String
    @Option(help: "SVG file to write.") var out: String

    func run() throws {
        try reportingErrors {
            var path = history
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                path += "/history.json"
            }
            guard let data = FileContents.read(atPath: path) else {
                throw RNNError.invalidFile(path, "cannot read; give a history.json or a model directory written by `rnn ... train`")
            }
            let records: [EpochRecord]
            do {
                records = try JSONDecoder().decode([EpochRecord].self, from: data)
            } catch {
                throw RNNError.invalidFile(path, "not a training history (a JSON list of epoch records)")
            }
            guard !records.isEmpty else { throw RNNError.invalidFile(path, "holds no epochs") }
            var losses = [LinePlot.Series(name: "train loss", points: records.map { (Double($0.epoch), $0.trainLoss) })]
            let validation = records.compactMap { record in record.validationLoss.map { (Double(record.epoch), $0) } }
            if !validation.isEmpty { losses.append(LinePlot.Series(name: "validation loss", points: validation)) }
            let metricNames = Set(records.flatMap { $0.metrics.keys }).sorted()
            let metrics = metricNames.map { name in
                LinePlot.Series(name: name, points: records.compactMap { record in record.metrics[name].map { (Double(record.epoch), $0) } })
            }
            let title = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
            try LinePlot(title: "\(title): loss", xLabel: "epoch", yLabel: "loss", series: losses).write(to: out)
            say("wrote \(out)")
            if !metrics.isEmpty {
                let metricsPath = out.hasSuffix(".svg") ? String(out.dropLast(4)) + "-metrics.svg" : out + "-metrics.svg"
                try LinePlot(title: "\(title): validation metrics", xLabel: "epoch", yLabel: "value", series: metrics).write(to: metricsPath)
                say("wrote \(metricsPath)")
            }
        }
    }
}
