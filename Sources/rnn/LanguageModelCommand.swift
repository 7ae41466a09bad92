import ArgumentParser
import Foundation
import RNN
import RNNCore
import RNNTasks

/// `rnn lm`: train language models, evaluate them and generate text.
struct LanguageModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "Language modelling: next-token prediction, perplexity and text generation.",
        subcommands: [LanguageModelTrain.self, LanguageModelGenerate.self, LanguageModelEval.self]
    )
}

struct LanguageModelTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an RNN language model (or the bigram baseline) and save it as a model directory.",
        discussion: """
        Each document (CSV/TSV row, JSON Lines object or line of text) gets the end token <eos>; the model learns
        to predict every next token (teacher forcing), <eos> included. With --corpus the file is one text
        (e.g. Tiny Shakespeare with --tokenizer char): truncated BPTT over windows of --bptt steps, the state
        carried across windows, the last --validation-split of the text for validation.
        --model bigram trains the interpolated Kneser-Ney bigram baseline into the same directory format.
        --objective masked (BERT-style) trains a bidirectional encoder to predict randomly masked tokens
        (--mask-probability of them: 80% read [MASK], 10% a random token, 10% themselves), the loss only at
        those positions; its defaults match rnn classify train (gru, 128 units, 20k words, 400 tokens from
        the end), so rnn classify train --init-encoder can start from it.
        """
    )

    @Option(help: "A .csv/.tsv file (with --text-column), a .jsonl file, or plain text (one document per line, or one corpus with --corpus).")
    var data: String
    @Option(help: "CSV/TSV column or JSON field with the text (default: text).") var textColumn: String?
    @Option(help: "Read at most this many documents.") var limit: Int?
    @Option(help: "Model directory to write (config.json, model.safetensors, tokenizer.json, history).") var out: String
    @Flag(help: "The file is one long text: train with truncated BPTT over a token stream.") var corpus = false
    @Option(help: "rnn (a recurrent network) or bigram (interpolated Kneser-Ney).") var model: LanguageModelKind = .rnn
    @Option(help: "next (predict each next token) or masked (BERT-style masked tokens, bidirectional encoder).")
    var objective: LanguageModelObjective = .next
    @Option(help: "Share of tokens masked per document (--objective masked).") var maskProbability: Float = 0.15
    @Option(help: "word, char, wordpiece, bpe, or a tokenizer.json file.") var tokenizer = "word"
    @Option(help: "Largest vocabulary to train (default: 10000; 20000 with --objective masked).") var vocabSize: Int?
    @Option(help: "Keep words seen at least this often (word, wordpiece, bpe).") var minFrequency = 2
    @Option(help: "rnn, lstm or gru (default: lstm; gru with --objective masked).") var cell: CellType?
    @Option(help: "Stacked recurrent layers.") var layers = 1
    @Option(help: "Hidden units (per direction with --objective masked; default: 256, 128 masked).") var hidden: Int?
    @Option(help: "Embedding dimension (default: --hidden when tied, else 128).") var embeddingDim: Int?
    @Flag(inversion: .prefixedNo, help: "Share the embedding with the output layer (needs --embedding-dim = --hidden).")
    var tieEmbeddings = true
    @Option(help: "Dropout on embeddings, between layers and before the output.") var dropout: Float = 0.4
    @Option(help: "Truncated-BPTT window in steps (--corpus).") var bptt = 64
    @Option(help: "Documents per batch (lanes of the stream with --corpus; default: 32, 64 masked).") var batchSize: Int?
    @Option(help: "Training epochs.") var epochs = 20
    @Option(help: "Stop after this many epochs without a lower validation loss (0: never).") var patience = 2
    @Option(help: "sgd, adam, adamw, rmsprop or adagrad.") var optimizer: OptimizerKind = .adam
    @Option(help: "Learning rate.") var lr: Float = 3e-3
    @Option(help: "constant, cosine or plateau learning-rate schedule.") var schedule: ScheduleKind = .constant
    @Option(help: "Clip gradients to this global norm (0: off).") var clipNorm: Float = 5
    @Option(help: "Fraction held out for validation (documents: chosen with the seed; --corpus: the end of the text).")
    var validationSplit = 0.1
    @Option(help: "Keep the first this many tokens of each document; also the longest prompt (default: 64; masked: the last 400).")
    var maxLength: Int?
    @Option(help: "K output heads predicting the next K tokens from each position (embeddings untied).") var predictAhead = 1
    @Option(help: "CSV/TSV column or JSON field whose label conditions each document through the initial state.")
    var conditionColumn: String?
    @OptionGroup var runOptions: TrainingRunOptions

    func run() throws {
        try runOptions.run { collective in
            var options = LanguageModelTrainingOptions()
            options.resume = runOptions.resume
            options.predictAhead = predictAhead
            options.conditionColumn = conditionColumn
            options.model = model
            options.objective = objective
            options.maskProbability = maskProbability
            let masked = objective == .masked
            options.corpus = corpus
            options.tokenizer = try TokenizerChoice(tokenizer)
            options.vocabularySize = vocabSize ?? (masked ? 20_000 : 10_000)
            options.minFrequency = minFrequency
            options.cell = cell ?? (masked ? .gru : .lstm)
            options.layers = layers
            let hidden = hidden ?? (masked ? 128 : 256)
            options.hiddenSize = hidden
            // Several heads, a condition or the masked objective: separate output layers, never tied to the embedding.
            let tied = tieEmbeddings && predictAhead == 1 && conditionColumn == nil && !masked
            options.embeddingDimension = embeddingDim ?? (tied ? hidden : 128)
            options.tieEmbeddings = tied
            options.dropout = dropout
            options.bptt = bptt
            options.batchSize = batchSize ?? (masked ? 64 : 32)
            options.maxLength = maxLength ?? (masked ? 400 : 64)
            options.validationSplit = validationSplit
            options.seed = runOptions.seed
            options.training.epochs = epochs
            options.training.patience = patience > 0 ? patience : nil
            options.training.optimizer = optimizer
            options.training.learningRate = lr
            options.training.schedule = schedule
            options.training.clipNorm = clipNorm > 0 ? clipNorm : nil
            let progress = ProgressReporter(totalEpochs: epochs)
            let source = TextSource(path: data, textColumn: textColumn, limit: limit)
            InterruptSignal.install()
            let result = try LanguageModelTraining.train(source: source, options: options, output: out, log: progress.log,
                                                         onEvent: progress.handle, writtenBy: swiftRNNVersion,
                                                         collective: collective, stopRequested: { InterruptSignal.isRequested })
            guard collective.isLeader else { return }
            if runOptions.json {
                var object: [String: Any] = ["model": out, "kind": model.rawValue, "seconds": result.seconds,
                                             "training_tokens": result.trainingTokens, "validation_tokens": result.validationTokens,
                                             "vocabulary_size": result.vocabularySize, "epochs_run": result.history.count]
                object["objective"] = objective.rawValue
                if let masked = result.masked { object["validation"] = masked.metrics } else
                if let validation = result.validation { object["validation"] = validation.metrics }
                if !result.heads.isEmpty {
                    object["heads"] = result.heads.map { ["head": $0.head, "cross_entropy": $0.crossEntropy, "accuracy": $0.accuracy] }
                }
                if let bigram = result.bigramValidation { object["bigram_validation"] = bigram.metrics }
                if let summary = result.summary { object["parameters"] = summary.totalParameters }
                try printJSON(object)
            } else {
                if let summary = result.summary { print(summary.render()) }
                if let masked = result.masked {
                    print(String(format: "validation (masked tokens): cross-entropy %.4f nats, accuracy %.4f on %d masked tokens",
                                 masked.crossEntropy, masked.accuracy, masked.tokens))
                } else if let validation = result.validation {
                    print(String(format: "validation (%@): cross-entropy %.4f nats/token, perplexity %.2f, %.3f bits/token on %d tokens",
                                 model.rawValue, validation.crossEntropy, validation.perplexity, validation.bitsPerToken, validation.tokens))
                }
                for head in result.heads {
                    print(String(format: "  head %d (token t+%d): cross-entropy %.4f, accuracy %.3f", head.head, head.head,
                                 head.crossEntropy, head.accuracy))
                }
                if model == .rnn, let bigram = result.bigramValidation {
                    print(String(format: "bigram baseline (interpolated Kneser-Ney, same split): perplexity %.2f", bigram.perplexity))
                }
                print(String(format: "saved %@ (%.0f s)", out, result.seconds))
            }
        }
    }
}

struct LanguageModelGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt until the end token or --max-tokens.",
        discussion: "Prompt words the vocabulary does not know are read as [UNK]. --top-k 1 is greedy decoding; --beam N runs beam search ranked by length-normalised log-probability."
    )

    @Option(help: "Model directory (rnn or bigram).") var model: String
    @Option(help: "The beginning of the text.") var prompt = ""
    @Option(help: "Generate at most this many tokens (the end token included).") var maxTokens = 40
    @Option(help: "Sampling temperature, > 0.") var temperature = 0.8
    @Option(help: "Sample among the k most probable tokens.") var topK: Int?
    @Option(help: "Nucleus sampling: the most probable tokens up to this total probability, in (0, 1].") var topP: Double?
    @Option(help: "Beam search with this many beams.") var beam: Int?
    @Option(help: "Number of samples.") var samples = 1
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Flag(help: "Allow the unknown token [UNK] in generated text.") var allowUnknown = false
    @Option(help: "The label to write for (a model trained with --condition-column).") var condition: String?
    @Option(help: "Emit up to this many tokens per model step (a --predict-ahead model: heads 1 … n sample, then all are fed back).")
    var tokensPerStep = 1
    @Option(help: ArgumentHelp("Measure only: generate this many times (seeds seed, seed+1, ...), print the speed.", visibility: .hidden))
    var timingRuns = 0
    @Option(help: "BLAS threads.") var threads = 1
    @Flag(help: "One JSON object per sample: text, tokens, stopped.") var json = false

    func run() throws {
        try reportingErrors {
            BLAS.setThreads(threads)
            var options = GenerationOptions()
            options.maxTokens = maxTokens
            options.temperature = temperature
            options.topK = topK
            options.topP = topP
            options.beamWidth = beam
            options.samples = samples
            options.seed = seed
            options.allowUnknown = allowUnknown
            options.condition = condition
            options.tokensPerStep = tokensPerStep
            try options.validate()
            let languageModel = try TrainedLanguageModel.load(from: model)
            if timingRuns > 0 {
                let start = DispatchTime.now().uptimeNanoseconds
                var tokens = 0
                for run in 0..<timingRuns {
                    options.seed = seed &+ UInt64(run)
                    tokens += try languageModel.generate(prompt: prompt, options: options).reduce(0) { $0 + $1.ids.count }
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                print(String(format: "%d runs, %d tokens in %.3f s: %.0f tokens/s", timingRuns, tokens, seconds, Double(tokens) / seconds))
                return
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let results = try languageModel.generate(prompt: prompt, options: options)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            for result in results {
                if json {
                    try printJSON(["text": result.text, "tokens": result.tokens, "stopped": result.stopped.rawValue,
                                   "log_probability": result.logProbability])
                } else {
                    print(result.text + (result.stopped == .maxTokens ? " …" : ""))
                }
            }
            fflush(nil)  // the samples before the timing line
            let tokens = results.reduce(0) { $0 + $1.ids.count }
            let ended = results.filter { $0.stopped == .endToken }.count
            FileHandle.standardError.write(Data(String(format: "%d tokens in %.3f s (%.0f tokens/s); %d of %d stopped at the end token\n",
                                                       tokens, seconds, Double(tokens) / max(seconds, 1e-9), ended, results.count).utf8))
        }
    }
}

struct LanguageModelEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Cross-entropy (nats per token), perplexity and bits per token on new data."
    )

    @Option(help: "Model directory (rnn or bigram).") var model: String
    @Option(help: "Data read as in training: documents, or one corpus for a --corpus model.") var data: String
    @Option(help: "CSV/TSV column or JSON field with the text (default: the training column, else text).") var textColumn: String?
    @Option(help: "Read at most this many documents.") var limit: Int?
    @Option(help: "Seed of the masks of a masked model (--objective masked): the same seed scores the same positions.")
    var maskSeed: UInt64 = 0
    @Option(help: "BLAS threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            BLAS.setThreads(threads)
            if try LanguageModelObjective.of(modelAt: model) == .masked {
                try evaluateMasked()
                return
            }
            let languageModel = try TrainedLanguageModel.load(from: model)
            let column = textColumn ?? languageModel.configFile.training["text_column"]
            let source = TextSource(path: data, textColumn: column, limit: limit)
            let heads = try languageModel.evaluateHeads(source: source)
            let result = LanguageModelEvaluation(crossEntropy: heads[0].crossEntropy, tokens: heads[0].tokens)
            let unit = languageModel.configFile.training["tokenizer"] == "char" ? "character" : "token"
            let several = languageModel.heads > 1 || !languageModel.conditions.isEmpty
            if json {
                var object: [String: Any] = ["cross_entropy": result.crossEntropy, "perplexity": result.perplexity,
                                             "bits_per_\(unit)": result.bitsPerToken, "tokens": result.tokens, "model": languageModel.describe]
                if several {
                    object["heads"] = heads.map { ["head": $0.head, "cross_entropy": $0.crossEntropy, "accuracy": $0.accuracy, "tokens": $0.tokens] }
                }
                try printJSON(object)
            } else {
                print(String(format: "cross-entropy %.4f nats/%@  perplexity %.2f  %.4f bits/%@  (%d tokens; %@)",
                             result.crossEntropy, unit, result.perplexity, result.bitsPerToken, unit, result.tokens, languageModel.describe))
                if several {
                    for head in heads {
                        print(String(format: "  head %d (token t+%d): cross-entropy %.4f nats, accuracy %.3f on %d tokens",
                                     head.head, head.head, head.crossEntropy, head.accuracy, head.tokens))
                    }
                }
            }
        }
    }
}

extension LanguageModelKind: ExpressibleByArgument {}
extension LanguageModelObjective: ExpressibleByArgument {}

extension LanguageModelEval {
    /// `rnn lm eval` on a masked model: cross-entropy and accuracy at masked positions.
    func evaluateMasked() throws {
        let masked = try TrainedMaskedLanguageModel.load(from: model)
        let column = textColumn ?? masked.configFile.training["text_column"]
        let result = try masked.evaluate(source: TextSource(path: data, textColumn: column, limit: limit), maskSeed: maskSeed)
        if json {
            try printJSON(["masked_cross_entropy": result.crossEntropy, "masked_accuracy": result.accuracy,
                           "masked_perplexity": result.metrics["masked_perplexity"]!, "masked_tokens": result.tokens,
                           "mask_seed": maskSeed, "model": masked.describe])
        } else {
            print(String(format: "masked tokens: cross-entropy %.4f nats, accuracy %.4f  (%d masked tokens, mask seed %llu; %@)",
                         result.crossEntropy, result.accuracy, result.tokens, maskSeed, masked.describe))
        }
    }
}
