import ArgumentParser
import Foundation
import RNNCore
import RNNTasks

/// `rnn bleu`: corpus BLEU of a system's output, computed as the `sacrebleu` command does by
/// default (13a tokenization, exponential smoothing, cased).
struct BLEUCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bleu",
        abstract: "Score translations with corpus BLEU exactly as sacreBLEU 2.x does by default.",
        discussion: """
            One sentence per line, detokenized. Give --references once per reference set; every \
            file needs as many lines as the hypotheses. The text output is sacreBLEU's score line \
            followed by its signature.
            """
    )

    @Option(help: ArgumentHelp("The system output, one sentence per line.", valueName: "FILE"))
    var hypotheses: String

    @Option(help: ArgumentHelp("A reference translation file, one sentence per line (repeat for several references).",
                               valueName: "FILE"))
    var references: [String]

    @Flag(help: "Print one JSON object: bleu, precisions, bp, sys_len, ref_len, counts, totals, signature.")
    var json = false

    func run() throws {
        try reportingErrors {
            let result = try BLEU().corpusScore(hypothesisFile: hypotheses, referenceFiles: references)
            if json {
                try printJSON([
                    "bleu": result.score, "precisions": result.precisions, "bp": result.bp,
                    "sys_len": result.sysLen, "ref_len": result.refLen,
                    "counts": result.counts, "totals": result.totals, "signature": result.signature,
                ] as [String: Any])
            } else {
                print(result.summaryLine)
                print(result.signature)
            }
        }
    }
}
