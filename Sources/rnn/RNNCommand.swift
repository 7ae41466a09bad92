import ArgumentParser
import Foundation
import RNN
import RNNCore

/// The `rnn` command-line tool: a thin layer of commands over the library.
@main
struct RNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rnn",
        abstract: "Recurrent neural networks in Swift: train, evaluate and use RNN, LSTM and GRU models.",
        version: swiftRNNVersion,
        subcommands: [DemoCommand.self, ClassifyCommand.self, LanguageModelCommand.self, TagCommand.self, TokenizeCommand.self, TokenizerCommand.self, GloVeCommand.self, SummaryCommand.self, PlotCommand.self, DiagnoseCommand.self, CompareCommand.self, BLEUCommand.self, ForecastCommand.self, InfoCommand.self, BenchCommand.self, LayerBenchCommand.self]
    )
}

/// The version written into every model's config.json.
let swiftRNNVersion = "0.1.0"

/// Prints a line to standard output and flushes it, so results interleave correctly with the
/// progress lines on standard error.
func say(_ line: String) {
    print(line)
    fflush(nil)  // all C streams; `stdout` itself is not concurrency-safe to name
}

/// Runs `body`; a library error becomes one line on standard error and exit status 1,
/// never a stack trace.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as RNNError {
        FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
        throw ExitCode.failure
    }
}
