import ArgumentParser
import Foundation
import RNNCore

/// `rnn info`: what this build runs on (BLAS library and kernel, threads).
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the version, the BLAS library and kernel in use, and the thread count."
    )

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() throws {
        let info: [String: Any] = [
            "version": swiftRNNVersion,
            "blas_core": BLAS.coreName,
            "blas_threads": BLAS.threads,
            "cpu_cores": ProcessInfo.processInfo.activeProcessorCount,
        ]
        if json {
            let data = try JSONSerialization.data(withJSONObject: info, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("swift-rnn \(swiftRNNVersion)")
            print("BLAS core: \(BLAS.coreName), \(BLAS.threads) thread(s); \(ProcessInfo.processInfo.activeProcessorCount) CPU core(s)")
        }
    }
}
