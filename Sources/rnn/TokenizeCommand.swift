import ArgumentParser
import Foundation
import RNNCore
import RNNTasks
import RNNText

/// `rnn tokenize`: text on standard input → token ids on standard output (or back with `--decode`),
/// one line in, one line out.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode lines of standard input with a tokenizer.json (or decode ids back to text).",
        discussion: """
        Each input line is one text; each output line holds its ids separated by spaces. With --jsonl \
        every input line is a JSON object with a "text" field and every output line is \
        {"ids":[...],"tokens":[...]}. With --decode every input line holds ids and the output is their text.

          echo "A fine movie." | rnn tokenize --tokenizer tokenizer.json
          rnn tokenize --tokenizer tokenizer.json --jsonl < reviews.jsonl
          rnn tokenize --tokenizer tokenizer.json --decode < ids.txt
        """
    )

    @Option(help: "A HuggingFace tokenizer.json file.") var tokenizer: String
    @Flag(help: "Read JSON Lines objects with a \"text\" field; print ids and tokens as JSON.") var jsonl = false
    @Option(help: "The JSON field holding the text with --jsonl.") var textField = "text"
    @Flag(name: .customLong("no-special-tokens"), help: "Do not add the post-processor's special tokens ([CLS], [SEP], ...).")
    var noSpecialTokens = false
    @Flag(help: "Read lines of ids and print their text.") var decode = false
    @Flag(help: "With --decode, keep special tokens in the text instead of dropping them.") var keepSpecialTokens = false
    @Option(help: ArgumentHelp("Time encoding every document of a data set (folder, CSV, JSONL or text file); no stdin.",
                               visibility: .hidden))
    var benchmark: String?
    @Option(help: ArgumentHelp("Timed passes over the data with --benchmark (the median is reported).", visibility: .hidden))
    var runs = 5

    func run() throws {
        try reportingErrors {
            let tokenizer = try Tokenizer(contentsOf: self.tokenizer)
            if let benchmark {
                try runBenchmark(tokenizer, data: benchmark)
                return
            }
            guard !(decode && jsonl) else { throw RNNError("--decode and --jsonl cannot be combined; --decode reads lines of ids") }
            let input = try InputLines.standardInput()
            while let line = try input.next() {
                if decode {
                    let ids = try TokenizeLines.ids(ofLine: line, tokenizer: tokenizer, location: input.location)
                    print(tokenizer.decode(ids, skipSpecialTokens: !keepSpecialTokens))
                } else if jsonl {
                    if line.allSatisfy(\.isWhitespace) { continue }
                    let text = try TokenizeLines.text(ofJSONLine: line, field: textField, location: input.location)
                    print(TokenizeLines.jsonLine(tokenizer.encode(text, addSpecialTokens: !noSpecialTokens)))
                } else {
                    print(TokenizeLines.idLine(tokenizer.encode(line, addSpecialTokens: !noSpecialTokens).ids))
                }
            }
        }
    }

    /// `--benchmark DATA`: reads the documents first (not timed), then times `runs` passes of
    /// `Tokenizer.encode` over all of them on this thread.
    private func runBenchmark(_ tokenizer: Tokenizer, data: String) throws {
        let texts = try TextSource(path: data).documents()
        let result = try TokenizationBenchmark.run(tokenizer, on: texts, runs: runs, addSpecialTokens: !noSpecialTokens)
        let median = result.medianSeconds
        func list(_ values: [Double]) -> String { values.map { String(format: "%.3f", $0) }.joined(separator: " ") }
        print(String(format: "%@: %d texts, %.1f MB, %d tokens; median %.3f s wall, %.3f s CPU over %d runs; %@ tokens/s, %.1f MB/s",
                     self.tokenizer, result.texts, Double(result.bytes) / 1e6, result.tokens, median, result.medianCPUSeconds,
                     runs, compact(Double(result.tokens) / median), Double(result.bytes) / 1e6 / median))
        print("  wall: \(list(result.secondsPerRun))\n  CPU:  \(list(result.cpuSecondsPerRun))")
    }
}

/// `rnn tokenizer`: make tokenizer.json files.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train HuggingFace-compatible tokenizers.",
        subcommands: [TokenizerTrain.self]
    )
}

struct TokenizerTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a word, character, WordPiece or byte-level BPE tokenizer and save it as tokenizer.json.",
        discussion: """
        word: lowercase, <br /> removed, words and punctuation (WordLevel); char: every character a token; \
        wordpiece: BERT-style uncased with [CLS] ... [SEP]; bpe: GPT-2 style byte-level. The file loads \
        in Python with tokenizers.Tokenizer.from_file.

          rnn tokenizer train --kind wordpiece --vocab-size 8000 --data aclImdb/train --out tokenizer.json
        """
    )

    @Option(help: "word, char, wordpiece or bpe.") var kind: String
    @Option(help: "Target vocabulary size, special tokens included (required for wordpiece and bpe; a maximum for word and char).")
    var vocabSize: Int?
    @Option(help: "A folder of class folders, a .csv/.tsv/.jsonl file, or a text file with one document per line.")
    var data: String
    @Option(help: "CSV/TSV column or JSON field with the text (default: text).") var textColumn: String?
    @Option(help: "Read at most this many documents (per class for folders).") var limit: Int?
    @Option(help: "Keep words (or merges) seen at least this often (default: 1 for char, 2 otherwise).") var minFrequency: Int?
    @Option(help: "The tokenizer.json file to write.") var out: String

    func run() throws {
        try reportingErrors {
            let kind = try TrainableTokenizerKind(parsing: kind)
            try kind.checkOptions(vocabSize: vocabSize, minFrequency: minFrequency)
            try OutputFile.checkWritable(out)
            let start = Date()
            let texts = try TextSource(path: data, textColumn: textColumn, limit: limit).documents()
            let tokenizer = try kind.train(on: texts, vocabSize: vocabSize, minFrequency: minFrequency)
            try tokenizer.save(to: out)
            print(String(format: "trained a %@ tokenizer on %d documents: %d tokens in the vocabulary, %.1f s; saved %@",
                         kind.rawValue, texts.count, tokenizer.vocabSize, Date().timeIntervalSince(start), out))
        }
    }
}
