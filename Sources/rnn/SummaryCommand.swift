import ArgumentParser
import Foundation
import RNN
import RNNCore
import RNNTasks

/// `rnn summary`: the layer table of a saved model, with parameter counts.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Show a model's layers, output shapes and parameter counts (equal to PyTorch's)."
    )

    @Option(help: "Model directory.") var model: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            let header = try ModelDirectory.header(at: model)
            let summary: ModelSummary
            switch header.task {
            case "classify":
                summary = try TrainedClassifier.load(from: model).model.summary()
            case "lm" where try LanguageModelObjective.of(modelAt: model) == .masked:
                summary = try TrainedMaskedLanguageModel.load(from: model).model.summary()
            case "lm":
                summary = try TrainedLanguageModel.load(from: model).summary()
            case "tag":
                summary = try TrainedTagger.load(from: model).model.summary()
            default:
                throw RNNError("\(model): summaries of '\(header.task)' models are not supported by this build")
            }
            if json {
                try printJSON(["task": header.task, "total_parameters": summary.totalParameters,
                               "trainable_parameters": summary.trainableParameters,
                               "layers": summary.rows.map { ["name": $0.name, "type": $0.kind, "output_shape": $0.outputShape,
                                                             "parameters": $0.parameterCount] as [String: Any] }])
            } else {
                print("\(model): \(header.task) model written by swift-rnn \(header.writtenBy)")
                print(summary.render())
            }
        }
    }
}
