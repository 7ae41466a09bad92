import ArgumentParser
import Foundation
import RNN
import RNNCore
import RNNTasks

/// `rnn diagnose`: make training dynamics visible.
struct DiagnoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Diagnostics: vanishing and exploding gradients.",
        subcommands: [DiagnoseGradients.self]
    )
}

struct DiagnoseGradients: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradients",
        abstract: "‖∂L/∂h_t‖ for every step t, per cell type, at initialisation and after training on a long-range task.",
        discussion: "The task: the class is the first of --length tokens, so the gradient must travel the whole sequence back. Also shows a relu RNN with large recurrent weights exploding, and what clipping does."
    )

    @Option(name: [.customLong("cells"), .customLong("cell")], help: "Cells to compare, comma-separated (--cell lstm for one).")
    var cells = "rnn,lstm,gru"
    @Option(help: "Sequence length T.") var length = 20
    @Option(help: "Hidden units.") var hidden = 32
    @Option(help: "Training steps (batches of 32).") var steps = 1000
    @Option(help: "Learning rate (Adam).") var lr: Float = 1e-2
    @Option(help: "Recurrent weight gain for the exploding-gradient case.") var explodingGain: Float = 1.5
    @Option(help: "Clip norm shown for the exploding case.") var clipNorm: Float = 5
    @Option(help: "SVG plot to write (a second file, -exploding.svg, shows the exploding case).") var out = "gradients.svg"
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            let cellTypes = try cells.split(separator: ",").map { name -> CellType in
                guard let cell = CellType(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw RNNError("unknown cell '\(name)' in --cells; use rnn, lstm or gru")
                }
                return cell
            }
            guard !cellTypes.isEmpty else { throw RNNError("--cells is empty") }
            var settings = GradientDiagnostics.Settings()
            settings.length = length
            settings.hiddenSize = hidden
            settings.trainingSteps = steps
            settings.learningRate = lr
            settings.seed = seed
            let log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
            let results = try GradientDiagnostics.run(cells: cellTypes, settings: settings, log: log)
            let exploding = try GradientDiagnostics.exploding(settings: settings, gain: explodingGain, clipNorm: clipNorm)

            let curves = results.flatMap { [$0.initial, $0.trained] }
            try LinePlot(title: "‖∂L/∂h_t‖, loss at the last step (T = \(length))", xLabel: "time step t", yLabel: "gradient norm",
                         logY: true, series: curves.map { curve in
                             .init(name: "\(curve.cell.rawValue) \(curve.phase)", points: curve.norms.enumerated().map { (Double($0.offset), Double($0.element)) })
                         }).write(to: out)
            let explodingPath = out.hasSuffix(".svg") ? String(out.dropLast(4)) + "-exploding.svg" : out + "-exploding.svg"
            try LinePlot(title: "relu RNN, recurrent weights × \(explodingGain): gradients explode going back", xLabel: "time step t",
                         yLabel: "gradient norm", logY: true,
                         series: [.init(name: "relu rnn", points: exploding.norms.enumerated().map { (Double($0.offset), Double($0.element)) })])
                .write(to: explodingPath)

            if json {
                try printJSON([
                    "length": length,
                    "cells": results.map { ["cell": $0.cell.rawValue, "accuracy": $0.accuracy, "initial_norms": $0.initial.norms.map(Double.init), "initial_survival": Double($0.initial.survival),
                                            "trained_survival": Double($0.trained.survival),
                                            "trained_norms": $0.trained.norms.map(Double.init)] as [String: Any] },
                    "exploding": ["gain": Double(explodingGain), "norms": exploding.norms.map(Double.init),
                                  "global_norm_before_clipping": Double(exploding.normBefore), "global_norm_after_clipping": Double(exploding.normAfter)],
                    "plots": [out, explodingPath],
                ])
                return
            }
            let marks = Array(Set([0, length / 4, length / 2, 3 * length / 4, length - 1])).sorted()
            say("‖∂L/∂h_t‖ (loss on the last step; t = 0 is the token that decides the answer)")
            say("cell   phase     " + marks.map { "t=\($0)".padding(toLength: 11, withPad: " ", startingAt: 0) }.joined() + "h_0/h_T-1  accuracy")
            for result in results {
                for curve in [result.initial, result.trained] {
                    let values = marks.map { String(format: "%-11.2e", curve.norms[$0]) }.joined()
                    let accuracy = curve.phase == "trained" ? String(format: "%.3f", result.accuracy) : ""
                    say(curve.cell.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
                        + curve.phase.padding(toLength: 10, withPad: " ", startingAt: 0) + values
                        + String(format: "%-11.2e", curve.survival) + accuracy)
                }
            }
            say(String(format: "chance accuracy: %.3f", 1 / Double(settings.classes)))
            say(String(format: "exploding (relu RNN, gain %.2f): ‖∂L/∂h_0‖ = %.3g vs ‖∂L/∂h_T-1‖ = %.3g; global norm %.3g, after clipping to %.1f: %.3g",
                       explodingGain, exploding.norms.first ?? 0, exploding.norms.last ?? 0, exploding.normBefore, clipNorm, exploding.normAfter))
            say("wrote \(out) and \(explodingPath)")
        }
    }
}
