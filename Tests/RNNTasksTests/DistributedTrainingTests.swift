import Foundation
import RNN
import RNNCore
import XCTest

/// Data-parallel training under a real `mpirun` (Open MPI), through the `rnn` executable built
/// beside the tests: N ranks with per-rank batch B/N give the weights of one process with batch
/// B, for every train command; bad input ends with one error; a dead rank stops the job with a
/// message and training resumes, also on a different number of ranks.
/// Skipped, with the reason, when `mpirun` or the `rnn` executable is absent. `swift test` does not
/// link executables: run `swift build` first (`.ci/run` does), or these tests launch a stale `rnn`.
final class DistributedTrainingTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "distributed-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Same weights as one process

    func testClassifyTwoRanksMatchOneProcess() throws {
        try assertRanksMatchOneProcess(["classify", "train", "--pretrain-epochs", "0", "--data", fixture("tiny-sentiment.csv"), "--text-column", "review",
                                        "--label-column", "sentiment", "--hidden", "16", "--embedding-dim", "8", "--dropout", "0",
                                        "--epochs", "2", "--batch-size", "8"])
    }

    /// The masked pretraining stage of `classify train` is split over the ranks too: every rank
    /// corrupts the same global batches and trains on its rows. With dropout off in both stages,
    /// 2 and 3 ranks (dense and sharded step) end with the model of one process. Batches of 5 rows
    /// of the 216 training texts end with a batch of 1 row, so some ranks have no rows in a batch
    /// (and, with 3 ranks, many a rank's 1 or 2 rows hold no masked token).
    func testClassifyWithPretrainingTwoAndThreeRanksMatchOneProcess() throws {
        let arguments = ["classify", "train", "--pretrain-epochs", "1", "--data", fixture("tiny-sentiment.csv"), "--text-column", "review",
                         "--label-column", "sentiment", "--hidden", "8", "--embedding-dim", "8", "--dropout", "0",
                         "--epochs", "1", "--batch-size", "5"]
        try assertRanksMatchOneProcess(arguments + ["--pretrain-dropout", "0"])
        // With the default pretraining dropout (per-rank masks): rank 0 alone logs the stage, once, split.
        let (rnn, mpirun) = try tools()
        let result = try run(mpirun, mpirunFlags + ["-np", "2", rnn] + arguments + ["--out", directory + "/dropout"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr.components(separatedBy: "split over 2 ranks").count - 1, 1, result.stderr)
        XCTAssertEqual(result.stderr.components(separatedBy: "pretraining epoch 1/1: masked cross-entropy").count - 1, 1, result.stderr)
        // The stage and the classifier use the same step: the command says which, once.
        XCTAssertEqual(result.stderr.components(separatedBy: "share this machine's memory").count - 1, 1, result.stderr)
    }

    func testLanguageModelDocumentsAndCorpusTwoRanksMatchOneProcess() throws {
        try assertRanksMatchOneProcess(["lm", "train", "--data", fixture("tiny-jokes.csv"), "--text-column", "Joke", "--hidden", "16",
                                        "--dropout", "0", "--epochs", "3", "--batch-size", "4"])
        try assertRanksMatchOneProcess(["lm", "train", "--data", fixture("two-topics.txt"), "--corpus", "--tokenizer", "char",
                                        "--hidden", "16", "--dropout", "0", "--epochs", "2", "--batch-size", "4", "--bptt", "8"])
    }

    /// Masked (BERT-style) language model: the global batches are corrupted alike on every rank,
    /// which then take their rows and those rows' targets.
    func testMaskedLanguageModelTwoAndThreeRanksMatchOneProcess() throws {
        try assertRanksMatchOneProcess(["lm", "train", "--data", fixture("tiny-sentiment.csv"), "--text-column", "review",
                                        "--objective", "masked", "--hidden", "8", "--embedding-dim", "8", "--dropout", "0",
                                        "--epochs", "2", "--batch-size", "16"], ranks: [2, 3])
    }

    /// Multi-step (3 heads, whose target counts differ between the ranks' rows) and conditioned
    /// language models.
    func testMultiStepAndConditionedLanguageModelsTwoAndThreeRanksMatchOneProcess() throws {
        try assertRanksMatchOneProcess(["lm", "train", "--data", fixture("tiny-jokes.csv"), "--text-column", "Joke", "--hidden", "16",
                                        "--predict-ahead", "3", "--dropout", "0", "--epochs", "3", "--batch-size", "4"], ranks: [2, 3])
        try assertRanksMatchOneProcess(["lm", "train", "--data", fixture("tiny-sentiment.csv"), "--text-column", "review",
                                        "--condition-column", "sentiment", "--predict-ahead", "2", "--hidden", "8", "--embedding-dim", "8",
                                        "--dropout", "0", "--epochs", "2", "--batch-size", "16"], ranks: [2])
    }

    /// With MPI's all-reduce (`--no-shared-memory`), the output layer's all-reduce started during
    /// the backward pass (MPI_Iallreduce) gives, on 2 ranks, bitwise the weights of the blocking
    /// all-reduce after the backward pass (the same products and the same two-term sums per
    /// element); on 3 ranks, those of one process.
    func testOverlappedAllReduceIsBitwiseTheBlockingOne() throws {
        let arguments = ["lm", "train", "--data", fixture("tiny-jokes.csv"), "--text-column", "Joke", "--hidden", "16",
                         "--embedding-dim", "8", "--no-tie-embeddings", "--dropout", "0", "--epochs", "3", "--batch-size", "4",
                         "--no-shared-memory"]
        let outputs = try trainOnTwoRanks(arguments, withAndWithout: ["--blocking-allreduce"],
                                          loggingOnlyWithout: "overlapping the output layer's all-reduce")
        XCTAssertEqual(try maxDifference(outputs[0] + "/model.safetensors", outputs[1] + "/model.safetensors"), 0)
        try assertRanksMatchOneProcess(arguments, ranks: [3])
    }

    /// The shared-memory step (the default with every rank on one machine) averages the gradient
    /// with the all-reduce step's products and two-term sums, so without clipping (whose norm it
    /// sums by parts) 2 ranks give bitwise the weights of MPI's blocking all-reduce; on 3 ranks,
    /// with clipping, those of one process (checked above by every `assertRanksMatchOneProcess`).
    func testSharedMemoryStepIsBitwiseTheAllReduceStep() throws {
        let arguments = ["lm", "train", "--data", fixture("tiny-jokes.csv"), "--text-column", "Joke", "--hidden", "16",
                         "--embedding-dim", "8", "--no-tie-embeddings", "--dropout", "0", "--epochs", "3", "--batch-size", "4",
                         "--clip-norm", "0"]
        let outputs = try trainOnTwoRanks(arguments, withAndWithout: ["--no-shared-memory", "--blocking-allreduce"],
                                          loggingOnlyWithout: "share this machine's memory")
        XCTAssertEqual(try maxDifference(outputs[0] + "/model.safetensors", outputs[1] + "/model.safetensors"), 0)
        XCTAssertEqual(try maxDifference(outputs[0] + "/checkpoint/optimizer.safetensors", outputs[1] + "/checkpoint/optimizer.safetensors"), 0)
    }

    /// Over MPI's all-reduce, sending only the embedding rows some rank's batch used gives, on 2
    /// ranks, bitwise the weights and optimizer state of sending every row (`--dense-allreduce`):
    /// a language model (untied: its output layer's all-reduce overlapped, the embedding in the
    /// rest) and a classifier (one all-reduce after the backward pass).
    func testTouchedRowsAllReduceIsBitwiseTheDenseOne() throws {
        let languageModel = ["lm", "train", "--data", fixture("tiny-jokes.csv"), "--text-column", "Joke", "--hidden", "16",
                             "--embedding-dim", "8", "--no-tie-embeddings", "--dropout", "0", "--epochs", "2", "--batch-size", "4"]
        let classifier = ["classify", "train", "--data", fixture("tiny-sentiment.csv"), "--text-column", "review", "--label-column", "sentiment",
                          "--hidden", "8", "--embedding-dim", "8", "--dropout", "0", "--epochs", "2", "--batch-size", "8",
                          "--pretrain-epochs", "0"]
        for arguments in [languageModel, classifier] {
            let outputs = try trainOnTwoRanks(arguments + ["--no-shared-memory"], withAndWithout: ["--dense-allreduce"],
                                              loggingOnlyWithout: "sends only the embedding rows")
            XCTAssertEqual(try maxDifference(outputs[0] + "/model.safetensors", outputs[1] + "/model.safetensors"), 0, arguments[0])
            XCTAssertEqual(try maxDifference(outputs[0] + "/checkpoint/optimizer.safetensors", outputs[1] + "/checkpoint/optimizer.safetensors"), 0,
                           arguments[0])
        }
    }

    /// No room for the shared-memory window (here: its backing directory cannot be read, so no
    /// free space): one line says so, and the ranks train with MPI's all-reduce instead, to the
    /// same weights as `--no-shared-memory`.
    func testWithoutRoomForTheSharedWindowTheRanksUseTheAllReduce() throws {
        let (rnn, mpirun) = try tools()
        let arguments = ["lm", "train", "--data", fixture("tiny-jokes.csv"), "--text-column", "Joke", "--hidden", "16",
                         "--dropout", "0", "--epochs", "2", "--batch-size", "4"]
        let fallback = directory + "/no-room", reference = directory + "/allreduce"
        let result = try run(mpirun, mpirunFlags + ["-x", "OMPI_MCA_osc_sm_backing_directory", "-np", "2", rnn] + arguments + ["--out", fallback],
                             environment: ["OMPI_MCA_osc_sm_backing_directory": directory + "/missing"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("the ranks use MPI's all-reduce instead"), result.stderr)
        let plain = try run(mpirun, mpirunFlags + ["-np", "2", rnn] + arguments + ["--no-shared-memory", "--out", reference])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(try maxDifference(fallback + "/model.safetensors", reference + "/model.safetensors"), 0)
    }

    func testTagAndForecastTwoRanksMatchOneProcess() throws {
        try assertRanksMatchOneProcess(["tag", "train", "--data", fixture("tiny-tagging.conllu"), "--hidden", "16", "--embedding-dim", "16",
                                        "--char-dim", "8", "--char-hidden", "8", "--dropout", "0", "--epochs", "2", "--batch-size", "6"])
        try assertRanksMatchOneProcess(["forecast", "train", "--data", fixture("co2-mauna-loa-monthly.csv"), "--column", "co2",
                                        "--hidden", "8", "--epochs", "3", "--batch-size", "16"])
    }

    /// Translation (rank 0 decodes the validation set and shares its BLEU with the other ranks).
    func testTranslateTwoRanksMatchOneProcess() throws {
        let source = directory + "/pairs.de", target = directory + "/pairs.en"
        let pairs = [("ein Hund läuft", "a dog runs"), ("zwei Katzen", "two cats"), ("ein Hund", "a dog"), ("zwei Hunde laufen", "two dogs run"),
                     ("eine Katze läuft", "a cat runs"), ("eine Katze", "a cat"), ("zwei Hunde", "two dogs"), ("ein Hund schläft", "a dog sleeps")]
        try (Array(repeating: pairs.map(\.0), count: 3).flatMap { $0 }.joined(separator: "\n") + "\n").write(toFile: source, atomically: true, encoding: .utf8)
        try (Array(repeating: pairs.map(\.1), count: 3).flatMap { $0 }.joined(separator: "\n") + "\n").write(toFile: target, atomically: true, encoding: .utf8)
        try assertRanksMatchOneProcess(["translate", "train", "--source", source, "--target", target, "--hidden", "8", "--embedding-dim", "6",
                                        "--min-frequency", "1", "--dropout", "0", "--epochs", "2", "--batch-size", "6",
                                        "--validation-split", "0.2", "--beam", "2"])
    }

    /// Trains `arguments` on 2 ranks twice, as they are and with `flags`; only the first run's log
    /// says `marker`. Returns the two output directories.
    private func trainOnTwoRanks(_ arguments: [String], withAndWithout flags: [String], loggingOnlyWithout marker: String,
                                 file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let (rnn, mpirun) = try tools()
        return try [[], flags].enumerated().map { index, extra in
            let out = directory + "/two-ranks-\(index)"
            let result = try run(mpirun, mpirunFlags + ["-np", "2", rnn] + arguments + extra + ["--out", out])
            XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
            XCTAssertEqual(result.stderr.contains(marker), extra.isEmpty, result.stderr, file: file, line: line)
            return out
        }
    }

    /// Trains with `arguments` once in one process and once on 2 ranks (3 for classify too, so a
    /// batch of 8 splits unevenly; 2 and 3 with the sharded optimizer step over MPI; 2 and 3 with
    /// the dense all-reduce step (`--no-shared-memory`) instead of the default shared-memory
    /// step), and compares every weight.
    private func assertRanksMatchOneProcess(_ arguments: [String], ranks: [Int] = [2], file: StaticString = #filePath, line: UInt = #line) throws {
        let (rnn, mpirun) = try tools()
        let single = directory + "/single-\(arguments[0])"
        let one = try run(rnn, arguments + ["--out", single, "--threads", "1"])
        XCTAssertEqual(one.status, 0, one.stderr, file: file, line: line)
        let runs: [(ranks: Int, flags: [String])] = arguments[0] == "classify" ? [(2, []), (3, []), (2, ["--sharded-optimizer"]), (3, ["--sharded-optimizer"]), (2, ["--no-shared-memory"]), (3, ["--no-shared-memory"])]
            : ranks.map { ($0, []) }
        for (ranks, flags) in runs {
            let parallel = directory + "/ranks\(ranks)\(flags.joined())-\(arguments[0])"
            let result = try run(mpirun, mpirunFlags + ["-np", "\(ranks)", rnn] + arguments + flags + ["--out", parallel])
            XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
            // Really distributed (not N separate single runs writing the same directory): the
            // history records the time spent in the all-reduce.
            let history = try String(contentsOfFile: parallel + "/history.json", encoding: .utf8)
            XCTAssertTrue(history.contains("allReduceSeconds"), "no all-reduce in \(ranks)-rank history", file: file, line: line)
            let difference = try maxDifference(single + "/model.safetensors", parallel + "/model.safetensors")
            XCTAssertLessThan(difference, 1e-4, "\(arguments[0]) \(arguments[1]): \(ranks) ranks vs one process", file: file, line: line)
        }
    }

    /// The sharded step's reduce-scatter and all-gather over an odd-sized buffer on 3 ranks (parts
    /// of 334, 334 and 333 floats), the all-reduce and the non-blocking all-reduce, checked element
    /// by element.
    func testReduceScatterAndAllGatherOnAnOddBufferOverThreeRanks() throws {
        let (rnn, mpirun) = try tools()
        for flags in [["--sharded"], [], ["--nonblocking"]] {
            let result = try run(mpirun, mpirunFlags + ["-np", "3", rnn, "bench-allreduce", "--floats", "1001", "--repeats", "2", "--verify"] + flags)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("\"verified_calls\":5"), result.stdout + result.stderr)
        }
    }

    // MARK: Bad input

    func testDistributedMPIWithoutLauncherIsOneError() throws {
        let rnn = try rnnExecutable()
        let result = try run(rnn, ["classify", "train", "--pretrain-epochs", "0", "--data", fixture("tiny-sentiment.csv"), "--out", directory + "/x",
                                   "--distributed", "mpi"], environment: ["OMPI_COMM_WORLD_SIZE": nil, "PMIX_RANK": nil])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(errorLines(result.stderr).count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("not started by an MPI launcher"), result.stderr)
    }

    func testRanksWithDifferentOptionsStopWithOneError() throws {
        let (rnn, mpirun) = try tools()
        let common = ["classify", "train", "--pretrain-epochs", "0", "--data", fixture("tiny-sentiment.csv"), "--text-column", "review",
                      "--label-column", "sentiment", "--hidden", "8", "--epochs", "1", "--out", directory + "/x"]
        // Open MPI's MPMD form: rank 0 and rank 1 get different seeds.
        let result = try run(mpirun, mpirunFlags + ["-np", "1", rnn] + common + ["--seed", "1", ":", "-np", "1", rnn] + common + ["--seed", "2"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(errorLines(result.stderr).count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("different options or data"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/x/model.safetensors"))
    }

    /// One rank with the sharded step (or sending every embedding row), the other with the
    /// default one: one error, no wait for the timeout.
    func testRanksWithDifferentStepFlagsStopWithOneError() throws {
        let (rnn, mpirun) = try tools()
        let common = ["classify", "train", "--data", fixture("tiny-sentiment.csv"), "--text-column", "review",
                      "--label-column", "sentiment", "--hidden", "8", "--epochs", "1", "--out", directory + "/x"]
        for flag in ["--sharded-optimizer", "--dense-allreduce"] {
            let result = try run(mpirun, mpirunFlags + ["-np", "1", rnn] + common + [flag, ":", "-np", "1", rnn] + common, timeout: 60)
            XCTAssertNotEqual(result.status, 0, flag)
            XCTAssertEqual(errorLines(result.stderr).count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("different --sharded-optimizer, --blocking-allreduce, --no-shared-memory or --dense-allreduce"),
                          result.stderr)
        }
    }

    func testDataSetSmallerThanRanksIsOneError() throws {
        let (rnn, mpirun) = try tools()
        let data = directory + "/four.csv"
        try "text,label\ngood film,pos\ngreat film,pos\nbad film,neg\nawful film,neg\n".write(toFile: data, atomically: true, encoding: .utf8)
        let result = try run(mpirun, mpirunFlags + ["-np", "3", rnn, "classify", "train", "--pretrain-epochs", "0", "--data", data, "--validation-split", "0.5",
                                                    "--out", directory + "/x"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(errorLines(result.stderr).count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("2 training examples for 3 ranks"), result.stderr)
    }

    func testUnreadableDataOnEveryRankIsOneError() throws {
        let (rnn, mpirun) = try tools()
        let result = try run(mpirun, mpirunFlags + ["-np", "2", rnn, "classify", "train", "--pretrain-epochs", "0", "--data", directory + "/missing.csv",
                                                    "--out", directory + "/x"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(errorLines(result.stderr).count, 1, result.stderr)
    }

    /// A non-finite loss is computed from the summed values, so every rank stops at the same step:
    /// rank 0 says so once, and no rank aborts the others.
    func testNonFiniteLossStopsEveryRankWithOneError() throws {
        let (rnn, mpirun) = try tools()
        let result = try run(mpirun, mpirunFlags + ["-np", "2", rnn, "classify", "train", "--pretrain-epochs", "0", "--data", fixture("tiny-sentiment.csv"),
                                                    "--text-column", "review", "--label-column", "sentiment", "--hidden", "8",
                                                    "--optimizer", "sgd", "--lr", "1e30", "--clip-norm", "0", "--out", directory + "/x"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(errorLines(result.stderr).count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("training stopped"), result.stderr)
        XCTAssertFalse(result.stderr.contains("MPI_ABORT"), result.stderr)
    }

    // MARK: Failure and resumption

    /// Kill rank 1 after the first checkpoint: the job ends with the survivor's message; resuming
    /// on one rank gives the weights of an uninterrupted 2-rank run.
    func testDeadRankStopsTheJobAndTrainingResumesOnOtherRankCount() throws {
        let (rnn, mpirun) = try tools()
        let data = try writeSyntheticReviews(count: 500)
        let arguments = ["classify", "train", "--pretrain-epochs", "0", "--data", data, "--hidden", "16", "--embedding-dim", "8", "--dropout", "0",
                         "--epochs", "3", "--batch-size", "16"]
        let interrupted = directory + "/interrupted"
        let process = try start(mpirun, mpirunFlags + ["-np", "2", rnn] + arguments + ["--out", interrupted])
        let checkpoint = interrupted + "/checkpoint/trainer.json"
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: checkpoint) && process.process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertTrue(process.process.isRunning, "the job ended before a rank could be killed; make the data larger")
        let ranks = childProcesses(of: process.process.processIdentifier)
        XCTAssertEqual(ranks.count, 2, "ranks found: \(ranks)")
        if let victim = ranks.last { kill(victim, SIGKILL) }
        let stopped = try finish(process, timeout: 120)
        XCTAssertNotEqual(stopped.status, 0)
        XCTAssertTrue(stopped.stderr.contains("stopped by the MPI launcher"), stopped.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: interrupted + "/model.safetensors"))

        let resumed = try run(rnn, arguments + ["--out", interrupted, "--resume", "--threads", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming after epoch"), resumed.stderr)

        let uninterrupted = directory + "/uninterrupted"
        let reference = try run(mpirun, mpirunFlags + ["-np", "2", rnn] + arguments + ["--out", uninterrupted])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        let difference = try maxDifference(interrupted + "/model.safetensors", uninterrupted + "/model.safetensors")
        XCTAssertLessThan(difference, 1e-4)
    }

    /// A rank that hangs (stopped with SIGSTOP): the other's watchdog ends the job after
    /// --collective-timeout seconds with a message, instead of waiting forever.
    func testHungRankEndsTheJobAfterTheTimeout() throws {
        let (rnn, mpirun) = try tools()
        let data = try writeSyntheticReviews(count: 1200)
        let process = try start(mpirun, mpirunFlags + ["-np", "2", rnn, "classify", "train", "--pretrain-epochs", "0", "--data", data, "--hidden", "32",
                                                       "--epochs", "50", "--collective-timeout", "3", "--out", directory + "/hung"])
        let deadline = Date().addingTimeInterval(120)
        var ranks: [pid_t] = []
        while ranks.count < 2 && process.process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            ranks = childProcesses(of: process.process.processIdentifier)
        }
        XCTAssertEqual(ranks.count, 2, "ranks found: \(ranks)")
        Thread.sleep(forTimeInterval: 2)  // into training
        if let victim = ranks.last { kill(victim, SIGSTOP) }
        let stopped = try finish(process, timeout: 120)
        XCTAssertNotEqual(stopped.status, 0)
        XCTAssertTrue(stopped.stderr.contains("no answer from the other ranks"), stopped.stderr)
    }

    // MARK: Helpers

    private var mpirunFlags: [String] {
        var flags = ["--oversubscribe", "--bind-to", "none"]
        if geteuid() == 0 { flags.append("--allow-run-as-root") }
        return flags
    }

    private func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name).path
    }

    private func tools() throws -> (rnn: String, mpirun: String) {
        let rnn = try rnnExecutable()
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard let mpirun = (path.split(separator: ":").map { "\($0)/mpirun" } + ["/usr/bin/mpirun"])
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("mpirun not found: install Open MPI (apt-get install libopenmpi-dev openmpi-bin) to run the distributed tests")
        }
        return (rnn, mpirun)
    }

    /// The `rnn` executable of this build (beside the test bundle).
    private func rnnExecutable() throws -> String {
        // Linux: the bundle URL is the build directory itself; macOS: the .xctest bundle in it.
        let bundle = Bundle(for: Self.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("rnn").path }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("no rnn executable at \(candidates[0]): build it first (swift build)")
        }
        return found
    }

    private func writeSyntheticReviews(count: Int) throws -> String {
        var generator = SeededGenerator(seed: 7)
        let positive = ["good", "great", "fine", "lovely", "superb"], negative = ["bad", "awful", "poor", "boring", "dull"]
        let filler = ["the", "a", "movie", "film", "was", "is", "plot", "actor"]
        var lines = ["text,label"]
        for index in 0..<count {
            let isPositive = index % 2 == 0
            let length = 20 + Int(generator.next() % 60)
            let words = (0..<length).map { _ -> String in
                let pool = generator.nextUnitDouble() < 0.3 ? (isPositive ? positive : negative) : filler
                return pool[Int(generator.next() % UInt64(pool.count))]
            }
            lines.append(words.joined(separator: " ") + (isPositive ? ",pos" : ",neg"))
        }
        let path = directory + "/reviews.csv"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func errorLines(_ text: String) -> [Substring] {
        text.split(separator: "\n").filter { $0.hasPrefix("error:") }
    }

    private func maxDifference(_ first: String, _ second: String) throws -> Float {
        let a = try SafeTensors(contentsOf: first), b = try SafeTensors(contentsOf: second)
        XCTAssertEqual(a.names, b.names)
        var largest: Float = 0
        for name in a.names {
            let x = try a.tensor(name).scalars, y = try b.tensor(name).scalars
            XCTAssertEqual(x.count, y.count, name)
            for (u, v) in zip(x, y) { largest = max(largest, abs(u - v) / max(1, abs(u))) }
        }
        return largest
    }

    private struct Started {
        let process: Process
        let output: URL
        let errors: URL
    }

    private func start(_ executable: String, _ arguments: [String], environment: [String: String?] = [:]) throws -> Started {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment
        for (name, value) in environment { variables[name] = value }
        process.environment = variables
        let output = URL(fileURLWithPath: directory + "/\(UUID().uuidString).out")
        let errors = URL(fileURLWithPath: directory + "/\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        return Started(process: process, output: output, errors: errors)
    }

    private func finish(_ started: Started, timeout: Double) throws -> (status: Int32, stdout: String, stderr: String) {
        let deadline = Date().addingTimeInterval(timeout)
        while started.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if started.process.isRunning {
            started.process.terminate()
            started.process.waitUntilExit()
            XCTFail("timed out after \(timeout) s: \(started.process.arguments ?? [])")
        }
        return (started.process.terminationStatus, try String(contentsOf: started.output, encoding: .utf8),
                try String(contentsOf: started.errors, encoding: .utf8))
    }

    private func run(_ executable: String, _ arguments: [String], environment: [String: String?] = [:],
                     timeout: Double = 300) throws -> (status: Int32, stdout: String, stderr: String) {
        try finish(start(executable, arguments, environment: environment), timeout: timeout)
    }

    /// Process ids whose parent is `parent` (Linux /proc).
    private func childProcesses(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && pid_t(fields[1]) == parent
        }.sorted()
    }
}
