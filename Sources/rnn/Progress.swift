import Foundation
import RNN

/// Shows training progress: a live bar on a terminal (rate, loss, ETA), plain log lines when
/// standard error is a file or pipe (every tenth of an epoch, at most every few seconds), and an
/// epoch summary line either way. Everything goes to standard error; results go to standard output.
final class ProgressReporter {
    private let interactive: Bool
    private let totalEpochs: Int
    private let tokenWord: String
    private var lastPlainLine = 0.0
    private var lastDraw = 0.0
    private let quiet: Bool

    init(totalEpochs: Int, tokenWord: String = "tok", quiet: Bool = false) {
        self.interactive = isatty(2) == 1
        self.totalEpochs = totalEpochs
        self.tokenWord = tokenWord
        self.quiet = quiet
    }

    func log(_ message: String) {
        guard !quiet else { return }
        if interactive { write("\r\u{1B}[K") }
        write(message + "\n")
    }

    func handle(_ event: TrainingEvent) {
        guard !quiet else { return }
        switch event {
        case let .batch(epoch, batch, batches, loss, gradientNorm, rate, elapsed):
            let remaining = elapsed / Double(batch) * Double(batches - batch)
            if interactive {
                guard elapsed - lastDraw > 0.1 || batch == batches else { return }
                lastDraw = elapsed
                let width = 24, filled = Int(Double(width) * Double(batch) / Double(batches))
                let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
                write("\r\u{1B}[Kepoch \(epoch)/\(totalEpochs) \(bar) \(batch)/\(batches)  \(compact(rate)) \(tokenWord)/s  loss \(String(format: "%.4f", loss))  grad \(String(format: "%.2f", gradientNorm))  ETA \(clock(remaining))")
            } else {
                let tenth = max(batches / 10, 1)
                guard batch % tenth == 0 || batch == batches, elapsed - lastPlainLine >= 5 || batch == batches else { return }
                lastPlainLine = elapsed
                write("epoch \(epoch)/\(totalEpochs) batch \(batch)/\(batches)  \(compact(rate)) \(tokenWord)/s  loss \(String(format: "%.4f", loss))  grad \(String(format: "%.2f", gradientNorm))  ETA \(clock(remaining))\n")
            }
        case .epoch(let record):
            lastPlainLine = 0
            lastDraw = 0
            var line = "epoch \(record.epoch)/\(totalEpochs): train loss \(String(format: "%.4f", record.trainLoss))"
            if let validation = record.validationLoss { line += ", validation loss \(String(format: "%.4f", validation))" }
            for (name, value) in record.metrics.sorted(by: { $0.key < $1.key }) {
                line += ", \(name) \(String(format: value < 10 ? "%.4f" : "%.2f", value))"
            }
            line += String(format: ", grad norm %.2f, %.0f s, %@ %@/s", record.meanGradientNorm, record.seconds, compact(record.tokensPerSecond), tokenWord)
            log(line)
        }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// 12345 → "12.3k"
func compact(_ value: Double) -> String {
    if value >= 1e6 { return String(format: "%.2fM", value / 1e6) }
    if value >= 1e3 { return String(format: "%.1fk", value / 1e3) }
    return String(format: "%.0f", value)
}

/// 75 → "1:15"
func clock(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let total = Int(seconds.rounded())
    return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
                         : String(format: "%d:%02d", total / 60, total % 60)
}

/// One JSON object on a line, keys sorted.
func printJSON(_ object: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
