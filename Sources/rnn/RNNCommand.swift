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
        subcommands: [
            DemoCommand.self,
            ClassifyCommand.self,
            LanguageModelCommand.self,
            TagCommand.self,
            TranslateCommand.self,
            ForecastCommand.self,
            ServeCommand.self,
            TokenizeCommand.self,
            TokenizerCommand.self,
            GloVeCommand.self,
            SummaryCommand.self,
            PlotCommand.self,
            DiagnoseCommand.self,
            CompareCommand.self,
            BLEUCommand.self,
            InfoCommand.self,
            BenchCommand.self,
            LayerBenchCommand.self,
            AllReduceBenchCommand.self,
        ]
    )

    /// Parses and runs the command. A mistake on the command line (unknown option, bad value,
    /// missing argument) is one line, `error: ... (see rnn ... --help)`, and exit status 64;
    /// `--help` and `--version` print as usual.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid command line"
                FileHandle.standardError.write(Data("error: \(message) (see `\(helpHint())`)\n".utf8))
                Foundation.exit(code.rawValue)
            }
            exit(withError: error)
        }
    }

    /// `rnn <subcommands> --help` for the words given on the command line before any option.
    private static func helpHint() -> String {
        let words = CommandLine.arguments.dropFirst().prefix { !$0.hasPrefix("-") }
        return (["rnn"] + words.prefix(2)).joined(separator: " ") + " --help"
    }
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
    } catch let interrupted as TrainingInterrupted {
        FileHandle.standardError.write(Data("\(interrupted.message)\n".utf8))
        throw ExitCode(interruptedExitCode)
    }
}
