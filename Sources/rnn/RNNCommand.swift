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
        subcommands: [ClassifyCommand.self, InfoCommand.self, BenchCommand.self, LayerBenchCommand.self,
                      TokenizeCommand.self, TokenizerCommand.self, GloVeCommand.self]
    )
}

/// The version written into every model's config.json.
let swiftRNNVersion = "0.1.0"

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
