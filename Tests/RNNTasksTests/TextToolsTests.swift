import Foundation
import RNNCore
import RNNTasks
import RNNText
import XCTest

/// The logic behind `rnn tokenize`, `rnn tokenizer train` and `rnn glove`.
final class TextToolsTests: XCTestCase {
    private var temporaryFolder: URL!

    override func setUpWithError() throws {
        temporaryFolder = FileManager.default.temporaryDirectory.appendingPathComponent("TextToolsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporaryFolder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: temporaryFolder)
    }

    private func write(_ bytes: [UInt8], name: String) throws -> String {
        let path = temporaryFolder.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func twoTopicsPath() throws -> String {
        let fixtures = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil), "test bundle has no Fixtures folder")
        return fixtures.appendingPathComponent("two-topics.txt").path
    }

    private let reviews = ["A fine movie, a fine cast.", "The movie was bad!<br />Bad acting.", "Fine acting; bad plot."]

    // MARK: - Input lines

    func testInputLinesStripLineEndsAndNameTheLineWithInvalidUTF8() throws {
        let path = try write(Array("first\r\nsecond\n\n".utf8) + [0x61, 0xFF, 0x62, 0x0A] + Array("after".utf8), name: "input.txt")
        let lines = try InputLines(path: path)
        XCTAssertEqual(try lines.next(), "first")
        XCTAssertEqual(try lines.next(), "second")
        XCTAssertEqual(try lines.next(), "")
        XCTAssertEqual(lines.lineNumber, 3)
        assertOneLineError(try lines.next(), contains: ["input.txt line 4", "invalid UTF-8", "at byte 1"])
        XCTAssertEqual(try lines.next(), "after", "a line without a final newline is still a line")
        XCTAssertNil(try lines.next())
        assertOneLineError(try InputLines(path: temporaryFolder.appendingPathComponent("missing.txt").path), contains: ["no such file"])
    }

    // MARK: - rnn tokenize line formats

    func testJSONLinesTextField() throws {
        XCTAssertEqual(try TokenizeLines.text(ofJSONLine: #"{"id": 3, "text": "caf\u00e9 \"ok\""}"#, location: "line 1"), "café \"ok\"")
        XCTAssertEqual(try TokenizeLines.text(ofJSONLine: #"{"review": "x"}"#, field: "review", location: "line 1"), "x")
        assertOneLineError(try TokenizeLines.text(ofJSONLine: "{\"text\": ", location: "standard input line 2"),
                           contains: ["standard input line 2", "invalid JSON"])
        assertOneLineError(try TokenizeLines.text(ofJSONLine: "[1, 2]", location: "line 3"), contains: ["line 3", "not a JSON object"])
        assertOneLineError(try TokenizeLines.text(ofJSONLine: "plain text", location: "line 3"), contains: ["each line must look like {\"text\": \"...\"}"])
        assertOneLineError(try TokenizeLines.text(ofJSONLine: #"{"body": "x"}"#, location: "line 4"), contains: ["line 4", "no \"text\" field"])
        assertOneLineError(try TokenizeLines.text(ofJSONLine: #"{"text": 5}"#, location: "line 5"), contains: ["\"text\" field must be a string"])
    }

    func testEncodingAsJSONLineAndIdLine() throws {
        let tokenizer = try Tokenizer.trainWordLevel(on: reviews)
        let encoding = tokenizer.encode("Fine \"movie\"")
        let line = TokenizeLines.jsonLine(encoding)
        XCTAssertFalse(line.contains("\n"))
        let parsed = try JSONValue.parse(Array(line.utf8), context: "output")
        XCTAssertEqual(parsed.objectValue?.map(\.0), ["ids", "tokens"])
        XCTAssertEqual(parsed["ids"]?.arrayValue?.compactMap(\.intValue), encoding.ids)
        XCTAssertEqual(parsed["tokens"]?.arrayValue?.compactMap(\.stringValue), ["fine", "[UNK]", "movie", "[UNK]"])
        XCTAssertEqual(TokenizeLines.idLine([4, 0, 17]), "4 0 17")
        XCTAssertEqual(TokenizeLines.idLine([]), "")
    }

    func testIdLinesParseRoundTripAndRejectTyposAndUnknownIds() throws {
        let tokenizer = try Tokenizer.trainWordLevel(on: reviews)
        let ids = tokenizer.encode("a fine movie").ids
        XCTAssertEqual(try TokenizeLines.ids(ofLine: TokenizeLines.idLine(ids), tokenizer: tokenizer, location: "line 1"), ids)
        XCTAssertEqual(tokenizer.decode(try TokenizeLines.ids(ofLine: TokenizeLines.idLine(ids), tokenizer: tokenizer, location: "l")),
                       "a fine movie")
        XCTAssertEqual(try TokenizeLines.ids(ofLine: "[2, 3]\t4 ", tokenizer: tokenizer, location: "line 1"), [2, 3, 4])
        XCTAssertEqual(try TokenizeLines.ids(ofLine: "", tokenizer: tokenizer, location: "line 1"), [])
        assertOneLineError(try TokenizeLines.ids(ofLine: "2 x3", tokenizer: tokenizer, location: "standard input line 7"),
                           contains: ["standard input line 7", "'x3' is not a token id"])
        assertOneLineError(try TokenizeLines.ids(ofLine: "2 -1", tokenizer: tokenizer, location: "line 1"), contains: ["'-1' is not a token id"])
        assertOneLineError(try TokenizeLines.ids(ofLine: "2 999", tokenizer: tokenizer, location: "line 1"),
                           contains: ["token id 999 is not in the tokenizer's vocabulary (\(tokenizer.vocabSize) tokens)"])
    }

    // MARK: - rnn tokenizer train

    func testTokenizerKindsParseAndTrainFilesThatReload() throws {
        XCTAssertEqual(try TrainableTokenizerKind(parsing: "WordPiece"), .wordpiece)
        assertOneLineError(try TrainableTokenizerKind(parsing: "sentencepiece"),
                           contains: ["unknown tokenizer kind 'sentencepiece'", "word, char, wordpiece, bpe"])
        assertOneLineError(try TrainableTokenizerKind.bpe.train(on: reviews, vocabSize: nil), contains: ["--vocab-size is required for --kind bpe"])
        assertOneLineError(try TrainableTokenizerKind.word.train(on: reviews, vocabSize: 0), contains: ["--vocab-size must be positive"])
        assertOneLineError(try TrainableTokenizerKind.word.train(on: reviews, vocabSize: nil, minFrequency: 0), contains: ["--min-frequency"])

        let word = try TrainableTokenizerKind.word.train(on: reviews, vocabSize: nil)
        XCTAssertEqual(word.idToToken(0), "[PAD]")
        XCTAssertNotNil(word.tokenToId("fine"), "seen twice: kept at the default minimum frequency 2")
        XCTAssertNil(word.tokenToId("plot"), "seen once: dropped at the default minimum frequency 2")
        XCTAssertEqual(try TrainableTokenizerKind.word.train(on: reviews, vocabSize: 4).vocabSize, 4)
        let characters = try TrainableTokenizerKind.char.train(on: reviews, vocabSize: nil)
        XCTAssertNotNil(characters.tokenToId(";"), "characters seen once are kept by default")

        for kind in TrainableTokenizerKind.allCases {
            let tokenizer = try kind.train(on: reviews, vocabSize: 300)
            let path = temporaryFolder.appendingPathComponent("\(kind.rawValue).json").path
            try tokenizer.save(to: path)
            let reloaded = try Tokenizer(contentsOf: path)
            XCTAssertEqual(reloaded.vocabSize, tokenizer.vocabSize, "\(kind)")
            XCTAssertEqual(reloaded.encode("a fine movie").ids, tokenizer.encode("a fine movie").ids, "\(kind)")
            XCTAssertEqual(reloaded.decode(reloaded.encode("bad acting").ids), "bad acting", "\(kind)")
        }
    }

    func testBenchmarkCountsTokensAndTakesTheMedian() throws {
        let tokenizer = try Tokenizer.trainWordLevel(on: reviews, minFrequency: 1)
        let result = try TokenizationBenchmark.run(tokenizer, on: reviews, runs: 3)
        XCTAssertEqual(result.secondsPerRun.count, 3)
        XCTAssertEqual(result.cpuSecondsPerRun.count, 3)
        XCTAssertTrue(result.cpuSecondsPerRun.allSatisfy { $0 >= 0 })
        XCTAssertEqual(result.texts, 3)
        XCTAssertEqual(result.tokens, reviews.map { tokenizer.encode($0).count }.reduce(0, +))
        XCTAssertEqual(result.bytes, reviews.map(\.utf8.count).reduce(0, +))
        XCTAssertEqual(TokenizationBenchmark.median([3, 1, 2]), 2)
        XCTAssertEqual(TokenizationBenchmark.median([4, 1, 2, 3]), 2.5)
        XCTAssertEqual(result.medianSeconds, TokenizationBenchmark.median(result.secondsPerRun))
        assertOneLineError(try TokenizationBenchmark.run(tokenizer, on: reviews, runs: 0), contains: ["--runs must be at least 1"])
        assertOneLineError(try TokenizationBenchmark.run(tokenizer, on: [], runs: 1), contains: ["no texts"])
    }

    func testOutputFileCheckedBeforeWork() throws {
        XCTAssertNoThrow(try OutputFile.checkWritable(temporaryFolder.appendingPathComponent("new.json").path))
        assertOneLineError(try OutputFile.checkWritable(temporaryFolder.appendingPathComponent("missing/new.json").path),
                           contains: ["missing/new.json", "does not exist; create it first"])
        assertOneLineError(try OutputFile.checkWritable(temporaryFolder.path), contains: ["is a folder"])
    }

    // MARK: - GloVe

    func testGloVeCorpusVocabularyOrderCutsAndDroppedWords() throws {
        let texts = ["The cat sat.<br />The cat ran!", "the dog sat", "a dog"]
        let corpus = try GloVeCorpus(texts: texts, minCount: 2)
        // the ×3; cat, dog, sat ×2 (ties in word order); '.', '!', ran, a ×1 dropped.
        XCTAssertEqual(corpus.vocabulary, ["the", "cat", "dog", "sat"])
        XCTAssertEqual(corpus.wordCounts, [3, 2, 2, 2])
        XCTAssertEqual(corpus.documents, [[0, 1, 3, 0, 1], [0, 2, 3], [2]])
        XCTAssertEqual(corpus.totalWords, 13)
        XCTAssertEqual(corpus.keptWords, 9)
        XCTAssertEqual(corpus.distinctWords, 8)
        XCTAssertEqual(try GloVeCorpus(texts: texts, minCount: 2, maxVocabulary: 2).vocabulary, ["the", "cat"])
        XCTAssertEqual(try GloVeCorpus(texts: texts, minCount: 2, maxVocabulary: 2).documents, [[0, 1, 0, 1], [0], []])

        // Dropped words take no window positions: "sat" is next to the second "the".
        let counts = try corpus.cooccurrences(window: 1)
        XCTAssertEqual(counts[3, 0], 1)   // "sat . the" in document 1 became "sat the"
        XCTAssertEqual(counts[0, 1], 2)
        XCTAssertEqual(counts[2, 0], 1)

        assertOneLineError(try GloVeCorpus(texts: texts, minCount: 4), contains: ["no word occurs at least 4 times in 3 documents"])
        assertOneLineError(try GloVeCorpus(texts: texts, minCount: 0), contains: ["--min-count must be at least 1"])
        assertOneLineError(try GloVeCorpus(texts: texts, maxVocabulary: 0), contains: ["--max-vocab must be positive"])
    }

    /// The whole `rnn glove train` pipeline on a two-topic corpus: the vectors file written and read
    /// back, and each word's nearest neighbour from its own topic.
    func testGloVePipelineSeparatesTopicsAndSavesVectors() throws {
        let texts = try TextSource(path: try twoTopicsPath()).documents()
        XCTAssertEqual(texts.count, 60)
        var progress: [Int] = []
        let corpus = try GloVeCorpus(texts: texts, minCount: 5) { progress.append($0) }
        XCTAssertEqual(progress, [60])
        XCTAssertFalse(corpus.vocabulary.contains("<"), "<br /> is removed before splitting")
        XCTAssertTrue(corpus.vocabulary.contains("."))
        var documentsDone: [Int] = []
        let counts = try corpus.cooccurrences(window: 4) { documentsDone.append($0) }
        XCTAssertEqual(documentsDone.last, 60)
        let result = try GloVeTrainer(dimension: 10, epochs: 30, seed: 1).train(counts, vocabulary: corpus.vocabulary)
        XCTAssertLessThan(result.lossPerEpoch.last!, result.lossPerEpoch.first!)
        let path = temporaryFolder.appendingPathComponent("vectors.txt").path
        try result.vectors.save(to: path)
        let vectors = try WordVectorsReader(path: path).read()
        XCTAssertEqual(vectors.count, corpus.vocabulary.count)
        XCTAssertEqual(vectors.dimension, 10)
        let animals: Set = ["cat", "dog", "mouse", "purrs", "barks", "fur", "tail", "paws"]
        let vehicles: Set = ["car", "truck", "bus", "drives", "wheels", "fuel", "engine", "road"]
        for word in ["cat", "dog", "car", "truck"] {
            let nearest = try vectors.nearestNeighbours(of: word, count: 3).map(\.word).filter { $0 != "." }
            let topic = animals.contains(word) ? animals : vehicles
            XCTAssertTrue(topic.contains(nearest[0]), "\(word) → \(nearest)")
        }
    }

    // MARK: - Helpers

    private func assertOneLineError<T>(_ body: @autoclosure () throws -> T, contains fragments: [String],
                                       file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected an error containing \(fragments)", file: file, line: line)
        } catch let error as RNNError {
            XCTAssertFalse(error.message.contains("\n"), "error spans lines: \(error.message)", file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", file: file, line: line)
            }
        } catch {
            XCTFail("expected RNNError, got \(error)", file: file, line: line)
        }
    }
}
