import Foundation
import RNNCore
import XCTest
@testable import RNNTasks

/// BLEU against numbers from the real sacreBLEU 2.6.0: every line of every
/// `Fixtures/sacrebleu/*.bleu.jsonl` (the shared Multi30k cases and `edge-cases.bleu.jsonl`, written by
/// `make_edge_cases.py` in the same folder), plus the 13a tokenizer on tricky strings.
final class BLEUTests: XCTestCase {
    // MARK: sacreBLEU fixtures

    /// One fixture line: hypotheses, reference streams and what sacreBLEU reported for them.
    private struct FixtureCase {
        let file: String
        let name: String
        let hypotheses: [String]
        let references: [[String]]
        let object: [String: Any]

        /// `references` is either one stream (a list of strings) or a list of streams.
        init(file: String, line: Substring) throws {
            self.file = file
            object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(file): not a JSON object")
            name = try XCTUnwrap(object["name"] as? String, "\(file): case without a name")
            hypotheses = try XCTUnwrap(object["hypotheses"] as? [String], "\(file) \(name): no hypotheses")
            if let stream = object["references"] as? [String] {
                references = [stream]
            } else {
                references = try XCTUnwrap(object["references"] as? [[String]], "\(file) \(name): no references")
            }
        }

        func integers(_ key: String) throws -> [Int] {
            try XCTUnwrap(object[key] as? [Int], "\(file) \(name): no \(key)")
        }

        func number(_ key: String) throws -> Double {
            try XCTUnwrap((object[key] as? NSNumber)?.doubleValue, "\(file) \(name): no \(key)")
        }
    }

    private func fixtureFiles() throws -> [URL] {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil), "test bundle has no Fixtures folder")
            .appendingPathComponent("sacrebleu")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasSuffix(".bleu.jsonl") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        XCTAssertTrue(files.contains { $0.lastPathComponent == "multi30k-val.bleu.jsonl" }, "the shared Multi30k fixture is missing")
        return files
    }

    func testEveryFixtureCaseMatchesSacreBLEU() throws {
        var matched = 0, total = 0
        for file in try fixtureFiles() {
            let text = try String(contentsOf: file, encoding: .utf8)
            for line in text.split(separator: "\n") where !line.allSatisfy(\.isWhitespace) {
                total += 1
                let fixture = try FixtureCase(file: file.lastPathComponent, line: line)
                let result = try BLEU().corpusScore(hypotheses: fixture.hypotheses, references: fixture.references)
                let label = "\(fixture.file) \(fixture.name)"
                var ok = true
                func check(_ condition: Bool, _ message: @autoclosure () -> String) {
                    if !condition { ok = false; XCTFail("\(label): \(message())") }
                }
                let (counts, totals) = (try fixture.integers("counts"), try fixture.integers("totals"))
                let (sysLen, refLen) = (Int(try fixture.number("sys_len")), Int(try fixture.number("ref_len")))
                let (score, bp) = (try fixture.number("score"), try fixture.number("bp"))
                check(result.counts == counts, "counts \(result.counts) != sacreBLEU \(counts)")
                check(result.totals == totals, "totals \(result.totals) != sacreBLEU \(totals)")
                check(result.sysLen == sysLen, "sys_len \(result.sysLen) != sacreBLEU \(sysLen)")
                check(result.refLen == refLen, "ref_len \(result.refLen) != sacreBLEU \(refLen)")
                check(abs(result.score - score) <= 0.01, "score \(result.score) != sacreBLEU \(score)")
                check(abs(result.bp - bp) <= 0.01, "bp \(result.bp) != sacreBLEU \(bp)")
                if let signature = fixture.object["signature"] as? String {
                    check(result.signature == signature, "signature \(result.signature) != sacreBLEU \(signature)")
                }
                if let precisions = fixture.object["precisions"] as? [Double] {
                    check(zip(result.precisions, precisions).allSatisfy { abs($0 - $1) <= 1e-9 },
                          "precisions \(result.precisions) != sacreBLEU \(precisions)")
                }
                if let printed = fixture.object["line"] as? String {
                    check(result.summaryLine == printed, "printed \(result.summaryLine) != sacreBLEU \(printed)")
                }
                if ok { matched += 1 }
            }
        }
        print("bleu: \(matched) cases matched")
        XCTAssertGreaterThan(total, 0, "no fixture cases found")
        XCTAssertEqual(matched, total, "\(total - matched) of \(total) cases differ from sacreBLEU")
    }

    // MARK: 13a tokenizer
    // Expected outputs follow from the rules in `Tokenizer13a`'s documentation; each was also
    // confirmed against sacreBLEU 2.6.0's `Tokenizer13a` in a Python venv.

    private let tokenizer = Tokenizer13a()

    func testPeriodsAndCommasSplitExceptInsideNumbers() {
        XCTAssertEqual(tokenizer.tokenize("Hello, world."), "Hello , world .")
        XCTAssertEqual(tokenizer.tokenize("It costs $3.50, or 3,000 yen."), "It costs $ 3.50 , or 3,000 yen .")
        // Only a digit on BOTH sides protects a period or comma; one side is not enough.
        XCTAssertEqual(tokenizer.tokenize("a.b,c 3.b a.3 .5 5. ,x"), "a . b , c 3 . b a . 3 . 5 5 . , x")
        // Non-overlapping left-to-right matches: in "..1" the second period is consumed as the
        // `[^0-9]` of no match and stays attached to the digit.
        XCTAssertEqual(tokenizer.tokenize("a..b... 1.. ..1"), "a . . b . . . 1 . . . .1")
    }

    func testDashesSplitOnlyAfterADigit() {
        XCTAssertEqual(tokenizer.tokenize("1990-2000 was a decade."), "1990 - 2000 was a decade .")
        XCTAssertEqual(tokenizer.tokenize("well-known co-operation -- dash - here"), "well-known co-operation -- dash - here")
        XCTAssertEqual(tokenizer.tokenize("3-4-5 a-3 3- -3"), "3 - 4 - 5 a-3 3 - -3")
    }

    func testASCIIPunctuationAndSymbolsSplitButApostrophesStay() {
        XCTAssertEqual(tokenizer.tokenize("Don't stop: \"quoted\" (parens) [brackets] {braces}!?"),
                       "Don't stop : \" quoted \" ( parens ) [ brackets ] { braces } ! ?")
        XCTAssertEqual(
            tokenizer.tokenize("e-mail: user@example.com / path\\to ~home^ `tick` _under_ |pipe| 50% #1 *star* +plus =eq"),
            "e-mail : user @ example . com / path \\ to ~ home ^ ` tick ` _ under _ | pipe | 50 % # 1 * star * + plus = eq")
    }

    func testHTMLEntitiesAreDecodedInOrderOnePassEach() {
        // &amp;lt; → &lt; (after the &amp; pass) → < (the &lt; pass comes later); &nbsp; is not decoded.
        XCTAssertEqual(tokenizer.tokenize("&quot;Tom &amp; Jerry&quot; &lt;b&gt; &amp;lt; &nbsp;"),
                       "\" Tom & Jerry \" < b > < & nbsp ;")
    }

    func testSkippedMarkersAndLineBreaks() {
        // One pass: removing the inner marker of "<skip<skipped>ped>" leaves a "<skipped>" that stays.
        XCTAssertEqual(tokenizer.tokenize("keep <skipped> out<skipped>here <skip<skipped>ped>"), "keep outhere < skipped >")
        XCTAssertEqual(tokenizer.tokenize("hyphen-\nated line\nbreak"), "hyphenated line break")
        XCTAssertEqual(tokenizer.tokenize("x-\ny"), "xy")
    }

    func testUnicodeWhitespaceSeparatesAndNonASCIIPunctuationStaysAttached() {
        XCTAssertEqual(tokenizer.tokenize("tabs\tand\u{A0}nbsp\u{3000}ideographic\u{2009}thin"), "tabs and nbsp ideographic thin")
        XCTAssertEqual(tokenizer.tokenize("Ünïcödé café, naïve… “curly” — em"), "Ünïcödé café , naïve… “curly” — em")
        // Zero-width space is not whitespace in Python, so it stays inside the token.
        XCTAssertEqual(tokenizer.tokens("a\u{200B}b"), ["a\u{200B}b"])
        XCTAssertEqual(tokenizer.tokens(""), [])
        XCTAssertEqual(tokenizer.tokens("   "), [])
    }

    func testTokensKeepTheirCodePoints() {
        // "é" precomposed and decomposed are equal Swift strings but different tokens for sacreBLEU.
        let tokens = tokenizer.tokenScalars("caf\u{E9} cafe\u{301}")
        XCTAssertEqual(tokens.count, 2)
        XCTAssertNotEqual(tokens[0], tokens[1])
        let result = try? BLEU().corpusScore(hypotheses: ["caf\u{E9}"], references: [["cafe\u{301}"]])
        XCTAssertEqual(result?.counts, [0, 0, 0, 0])
    }

    // MARK: scoring rules

    func testClosestReferenceLengthTiesToTheShorter() {
        XCTAssertEqual(BLEU.closestReferenceLength(to: 5, among: [6, 4]), 4)
        XCTAssertEqual(BLEU.closestReferenceLength(to: 5, among: [4, 6]), 4)
        XCTAssertEqual(BLEU.closestReferenceLength(to: 5, among: [9, 7, 2]), 7)
    }

    func testScoreFromStatisticsFollowsExponentialSmoothing() {
        // Orders 3 and 4 have no match: they count 1/2 and 1/4 of a match.
        let result = BLEU.score(counts: [7, 3, 0, 0], totals: [9, 7, 5, 4], sysLen: 9, refLen: 7)
        XCTAssertEqual(result.precisions[2], 100.0 / (2 * 5), accuracy: 1e-12)
        XCTAssertEqual(result.precisions[3], 100.0 / (4 * 4), accuracy: 1e-12)
        XCTAssertEqual(result.score, 21.36435031981171, accuracy: 1e-9)
        XCTAssertEqual(BLEU.score(counts: [0, 0, 0, 0], totals: [4, 3, 2, 1], sysLen: 4, refLen: 4).score, 0)
        XCTAssertEqual(BLEU.score(counts: [1, 0, 0, 0], totals: [1, 0, 0, 0], sysLen: 0, refLen: 3).bp, 0)
    }

    // MARK: bad input

    func testStreamsOfDifferentLengthsAreOneClearError() {
        XCTAssertThrowsError(try BLEU().corpusScore(hypotheses: ["a", "b"], references: [["a", "b"], ["a"]])) { error in
            XCTAssertEqual(error as? RNNError, RNNError("BLEU: reference stream 2 has 1 sentences but there are 2 hypotheses"))
        }
        XCTAssertThrowsError(try BLEU().corpusScore(hypotheses: [], references: [[]]))
        XCTAssertThrowsError(try BLEU().corpusScore(hypotheses: ["a"], references: []))
    }

    // MARK: files, as the `sacrebleu` command reads them

    private func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bleu-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func testReadSentencesSplitsOnlyAtNewlineAndStripsTrailingWhitespace() throws {
        let crlf = try temporaryFile("crlf.txt", Array("one two \r\nthree\r\n\nfour\rfive".utf8))
        XCTAssertEqual(try BLEU.readSentences(path: crlf), ["one two", "three", "", "four\rfive"])
        XCTAssertEqual(try BLEU.readSentences(path: try temporaryFile("empty.txt", [])), [])
        XCTAssertEqual(try BLEU.readSentences(path: try temporaryFile("blank.txt", [0x0A])), [""])
    }

    func testFileErrorsNameTheFiles() throws {
        let hypotheses = try temporaryFile("hyp.txt", Array("a b\nc d\n".utf8))
        let references = try temporaryFile("ref.txt", Array("a b\n".utf8))
        XCTAssertThrowsError(try BLEU().corpusScore(hypothesisFile: hypotheses, referenceFiles: [hypotheses, references])) { error in
            XCTAssertEqual((error as? RNNError)?.message,
                           "\(hypotheses) has 2 lines but \(references) has 1; BLEU needs one reference line per hypothesis line")
        }
        let invalid = try temporaryFile("latin1.txt", [0x63, 0x61, 0x66, 0xE9, 0x0A])
        XCTAssertThrowsError(try BLEU.readSentences(path: invalid)) { error in
            XCTAssertEqual((error as? RNNError)?.message, "\(invalid): not valid UTF-8 text")
        }
        XCTAssertThrowsError(try BLEU.readSentences(path: "/nonexistent/bleu.txt")) { error in
            XCTAssertTrue(error is RNNError)
        }
        let empty = try temporaryFile("none.txt", [])
        XCTAssertThrowsError(try BLEU().corpusScore(hypothesisFile: empty, referenceFiles: [empty])) { error in
            XCTAssertEqual((error as? RNNError)?.message, "\(empty): no lines to score")
        }
    }

    /// The whole Multi30k validation set (1,014 lines), when `../shared` is present: a perfect copy
    /// scores 100, and the time is printed.
    func testMulti30kValidationSetAgainstItself() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.deletingLastPathComponent().appendingPathComponent("shared/data/multi30k/val.en").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("\(path) is absent; this test needs the shared Multi30k data")
        }
        let sentences = try BLEU.readSentences(path: path)
        XCTAssertEqual(sentences.count, 1014)
        let start = Date()
        let result = try BLEU().corpusScore(hypotheses: sentences, references: [sentences])
        print("bleu: Multi30k val (\(sentences.count) lines) scored in \(String(format: "%.1f", Date().timeIntervalSince(start) * 1000)) ms")
        XCTAssertEqual(result.score, 100, accuracy: 1e-9)
        XCTAssertEqual(result.counts, result.totals)
    }
}
