import ArgumentParser
import Foundation
import RNN
import RNNCore
import RNNTasks
import RNNText

/// `rnn translate`: train, evaluate and use encoder–decoder translation models.
struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Sequence to sequence: an encoder–decoder with attention, beam search and BLEU.",
        discussion: "rnn translate --model DIR [TEXT ...] translates (standard input lines when no TEXT is given).",
        subcommands: [TranslateRun.self, TranslateTrain.self, TranslateEval.self, TranslateToyData.self],
        defaultSubcommand: TranslateRun.self
    )
}

/// Decoding options shared by `translate` and `translate eval`.
struct DecodingOptions: ParsableArguments {
    @Option(help: "Beam width (1: greedy).") var beam = 5
    @Option(help: "Length normalisation: rank hypotheses by log P / length^ALPHA.") var lengthPenalty = 1.0
    @Option(help: "Longest output in tokens (default: 2 × source length + 10).") var maxOutput: Int?
    @Option(help: "Sentences decoded together.") var batchSize = 64

    var search: BeamSearchOptions {
        BeamSearchOptions(beamSize: beam, lengthPenalty: lengthPenalty, maxLength: maxOutput, batchSize: batchSize)
    }
}

struct TranslateRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Translate sentences (arguments, or standard input lines).")

    @Option(help: "Model directory.") var model: String
    @OptionGroup var decoding: DecodingOptions
    @Flag(help: "One JSON object per sentence: source, output, score, log_probability.") var json = false
    @Argument(help: "Sentences to translate (default: one per line on standard input).") var text: [String] = []

    func run() throws {
        try reportingErrors {
            let translator = try TrainedTranslator.load(from: model)
            var sentences = text, locations = text.indices.map { "argument \($0 + 1)" }
            if sentences.isEmpty {
                while let line = readLine() { sentences.append(line) }
                locations = sentences.indices.map { "input line \($0 + 1)" }
            }
            guard !sentences.isEmpty else { throw RNNError("nothing to translate: give sentences as arguments or one per line on standard input") }
            let outputs = try translator.translate(sentences, locations: locations, options: decoding.search)
            for (source, output) in zip(sentences, outputs) {
                if json {
                    try printJSON(["source": source, "output": output.text, "score": output.score,
                                   "log_probability": output.logProbability, "tokens": output.tokenCount] as [String: Any])
                } else {
                    print(output.text)
                }
            }
        }
    }
}

struct TranslateTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a translation model on sentence pairs and save it as a model directory.",
        discussion: "Parallel files (--source, --target) or one TSV file of source<TAB>target lines (--source only). The directory holds config.json (task translate), model.safetensors, the tokenizer(s) and the training history; OUT/checkpoint is written after every epoch."
    )

    @Option(help: "Source sentences, one per line (or a two-column TSV when --target is not given).") var source: String
    @Option(help: "Target sentences, line by line parallel to --source.") var target: String?
    @Option(help: "Model directory to write.") var out: String
    @Option(help: "Validation source file (default: hold out --validation-split of the training pairs).") var valSource: String?
    @Option(help: "Validation target file.") var valTarget: String?
    @Option(help: "lstm or gru.") var cell: CellType = .gru
    @Option(help: "Encoder and decoder layers.") var layers = 1
    @Option(help: "Units per encoder direction and of the decoder.") var hidden = 256
    @Flag(inversion: .prefixedNo, help: "Bidirectional encoder.") var bidirectional = true
    @Option(help: "Embedding dimension.") var embeddingDim = 256
    @Option(help: "bahdanau (additive), luong (multiplicative) or none.") var attention: AttentionKind = .bahdanau
    @Option(help: "Width of the additive attention scorer (default: --hidden).") var attentionSize: Int?
    @Option(help: "word, char, wordpiece, bpe, or a tokenizer.json file (both sides).") var tokenizer = "word"
    @Option(help: "Source-side tokenizer (overrides --tokenizer).") var sourceTokenizer: String?
    @Option(help: "Target-side tokenizer (overrides --tokenizer).") var targetTokenizer: String?
    @Flag(help: "One tokenizer and vocabulary for both sides.") var sharedVocab = false
    @Option(help: "Largest vocabulary to train per side.") var vocabSize = 32_000
    @Option(help: "Keep tokens seen at least this often.") var minFrequency = 2
    @Option(help: "Longest sentence in tokens (longer ones are an error).") var maxLength = 100
    @Option(help: "Dropout on embeddings and the attentional state.") var dropout: Float = 0.1
    @Option(help: "Probability of feeding the model's own prediction instead of the reference (scheduled sampling).") var scheduledSampling = 0.0
    @Option(help: "sgd, adam, adamw, rmsprop or adagrad.") var optimizer: OptimizerKind = .adam
    @Option(help: "Learning rate.") var lr: Float = 3e-3
    @Option(help: "Clip gradients to this global norm (0: off).") var clipNorm: Float = 5
    @Option(help: "constant, cosine or plateau learning-rate schedule.") var schedule: ScheduleKind = .constant
    @Option(help: "Sentence pairs per batch.") var batchSize = 64
    @Option(help: "Training epochs.") var epochs = 10
    @Option(help: "Stop after this many epochs without a better validation BLEU.") var patience: Int?
    @Option(help: "Fraction of the pairs held out for validation when no --val-source is given.") var validationSplit = 0.03
    @Option(help: "Beam width of the final validation BLEU.") var beam = 5
    @Option(help: "Length normalisation exponent of the final validation BLEU.") var lengthPenalty = 1.0
    @OptionGroup var runOptions: TrainingRunOptions

    func run() throws {
        try runOptions.run { collective in
            var options = TranslationTrainingOptions()
            options.cell = cell
            options.layers = layers
            options.hiddenSize = hidden
            options.bidirectional = bidirectional
            options.embeddingDimension = embeddingDim
            options.attention = attention
            options.attentionSize = attentionSize
            options.tokenizer = try TokenizerChoice(tokenizer)
            options.sourceTokenizer = try sourceTokenizer.map(TokenizerChoice.init)
            options.targetTokenizer = try targetTokenizer.map(TokenizerChoice.init)
            options.sharedVocabulary = sharedVocab
            options.vocabularySize = vocabSize
            options.minFrequency = minFrequency
            options.maxLength = maxLength
            options.dropout = dropout
            options.scheduledSampling = scheduledSampling
            options.batchSize = batchSize
            options.validationSplit = validationSplit
            options.validationSource = valSource
            options.validationTarget = valTarget
            options.beam = BeamSearchOptions(beamSize: beam, lengthPenalty: lengthPenalty, batchSize: 64)
            options.seed = runOptions.seed
            options.resume = runOptions.resume
            options.training.optimizer = optimizer
            options.training.learningRate = lr
            options.training.clipNorm = clipNorm > 0 ? clipNorm : nil
            options.training.schedule = schedule
            options.training.epochs = epochs
            options.training.patience = patience
            let corpus = try ParallelCorpus(source: source, target: target)
            let progress = ProgressReporter(totalEpochs: epochs)
            InterruptSignal.install()
            let result = try TranslationTraining.train(corpus: corpus, options: options, output: out, log: progress.log,
                                                       onEvent: progress.handle, writtenBy: swiftRNNVersion,
                                                       collective: collective, stopRequested: { InterruptSignal.isRequested })
            guard collective.isLeader else { return }
            if runOptions.json {
                var object: [String: Any] = ["model": out, "seconds": result.seconds, "training_pairs": result.trainingPairs,
                                             "validation_pairs": result.validationPairs, "parameters": result.summary.totalParameters,
                                             "epochs": result.history.count]
                if let validation = result.validation {
                    object["validation"] = ["bleu": validation.bleu.score, "cross_entropy": validation.crossEntropy, "beam": beam]
                }
                try printJSON(object)
            } else {
                print(result.summary.render())
                if let validation = result.validation {
                    print(String(format: "validation (beam %d): %@; cross-entropy %.4f nats/token", beam,
                                 validation.bleu.summaryLine, validation.crossEntropy))
                }
                print(String(format: "saved %@ (%.0f s)", out, result.seconds))
            }
        }
    }
}

struct TranslateEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Corpus BLEU (sacreBLEU defaults) and per-token cross-entropy on parallel files."
    )

    @Option(help: "Model directory.") var model: String
    @Option(help: "Source sentences, one per line (or a two-column TSV when --target is not given).") var source: String
    @Option(help: "Reference translations, line by line parallel to --source.") var target: String?
    @OptionGroup var decoding: DecodingOptions
    @Option(help: "Write the translations here, one per line.") var output: String?
    @Flag(help: "Print one JSON object: bleu, precisions, bp, sys_len, ref_len, cross_entropy, ...") var json = false

    func run() throws {
        try reportingErrors {
            let translator = try TrainedTranslator.load(from: model)
            let corpus = try ParallelCorpus(source: source, target: target)
            let start = Date()
            let report = try translator.evaluate(corpus, options: decoding.search)
            let seconds = Date().timeIntervalSince(start)
            if let output {
                try AtomicFile.write(Data((report.hypotheses.joined(separator: "\n") + "\n").utf8), to: output)
            }
            let bleu = report.bleu
            if json {
                try printJSON([
                    "bleu": bleu.score, "precisions": bleu.precisions, "bp": bleu.bp, "sys_len": bleu.sysLen, "ref_len": bleu.refLen,
                    "counts": bleu.counts, "totals": bleu.totals, "signature": bleu.signature,
                    "cross_entropy": report.crossEntropy, "target_tokens": report.targetTokens, "sentences": corpus.count,
                    "beam": decoding.beam, "length_penalty": decoding.lengthPenalty, "seconds": seconds,
                ] as [String: Any])
            } else {
                print(bleu.summaryLine)
                print(bleu.signature)
                print(String(format: "cross-entropy %.4f nats/token (perplexity %.2f) on %d target tokens; beam %d, %.1f s",
                             report.crossEntropy, exp(report.crossEntropy), report.targetTokens, decoding.beam, seconds))
            }
        }
    }
}

struct TranslateToyData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "toy-data",
        abstract: "Write the transposition toy task: random symbol sequences and their reversal.",
        discussion: "Writes OUT/train.src, train.tgt, val.src, val.tgt. Train with and without attention to see why attention matters on long inputs."
    )

    @Option(help: "Directory to write.") var out: String
    @Option(help: "Training pairs.") var trainCount = 20_000
    @Option(help: "Validation pairs.") var valCount = 500
    @Option(help: "Shortest sequence.") var minLength = 3
    @Option(help: "Longest sequence.") var maxLength = 20
    @Option(help: "Alphabet size: the first N of a … z.") var symbols = 10
    @Option(help: "Random seed.") var seed: UInt64 = 1

    func run() throws {
        try reportingErrors {
            guard trainCount >= 1, valCount >= 1 else { throw RNNError("--train-count and --val-count must be at least 1") }
            guard (1...26).contains(symbols) else { throw RNNError("--symbols must be in 1…26, got \(symbols)") }
            let task = try TranspositionTask(symbols: (0..<symbols).map { String(UnicodeScalar(UInt8(97 + $0))) },
                                             minLength: minLength, maxLength: maxLength)
            try task.write(to: out, trainCount: trainCount, validationCount: valCount, seed: seed)
            print("wrote \(out)/train.{src,tgt} (\(trainCount) pairs) and \(out)/val.{src,tgt} (\(valCount) pairs)")
        }
    }
}

extension AttentionKind: ExpressibleByArgument {}
