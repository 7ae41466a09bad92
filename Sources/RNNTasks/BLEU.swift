import Foundation
import RNNCore

// Corpus BLEU exactly as sacreBLEU 2.x computes it with its defaults:
// `BLEU()` = 13a tokenization, n-grams up to 4, exponential smoothing, cased, no effective order.
//
// Everything here works on Unicode scalars (code points), as Python strings do, never on Swift
// `Character`s or `String` equality: Swift compares strings up to canonical equivalence ("é" as
// one scalar equals "e" + combining accent), Python and sacreBLEU do not.

/// sacreBLEU's default tokenizer `13a`, the tokenization of WMT's `mteval-v13a.pl`.
///
/// Rules, applied in this order to one line:
/// 1. remove `<skipped>`, remove `-\n` (a hyphenated line break), turn every other `\n` into a space;
/// 2. if the line has an `&`: `&quot;` → `"`, then `&amp;` → `&`, then `&lt;` → `<`, then `&gt;` → `>`
///    (one pass each, in that order, so `&amp;lt;` ends as `<`);
/// 3. pad with a space on each side, then four regular-expression passes, each a left-to-right
///    scan of non-overlapping matches:
///    - `[{-~[-\` -&(-+:-@/]` → ` \1 `: split off ASCII punctuation and symbols (not `'`, `-`, `.`, `,`);
///    - `([^0-9])([.,])` → `\1 \2 `: a period or comma not preceded by a digit;
///    - `([.,])([^0-9])` → ` \1 \2`: a period or comma not followed by a digit;
///    - `([0-9])(-)` → `\1 \2 `: a dash preceded by a digit;
/// 4. split on whitespace as Python's `str.split()` does (its `isspace` set, including no-break spaces).
public struct Tokenizer13a: Sendable {
    public init() {}

    /// The tokens of `line`; joined with single spaces they are exactly sacreBLEU's `Tokenizer13a()(line)`.
    public func tokens(_ line: String) -> [String] {
        tokenScalars(line).map { String(String.UnicodeScalarView($0)) }
    }

    /// `tokens(line)` joined with single spaces: sacreBLEU's tokenized line.
    public func tokenize(_ line: String) -> String {
        tokens(line).joined(separator: " ")
    }

    /// The tokens of `line` as code-point arrays, the form BLEU compares them in.
    func tokenScalars(_ line: String) -> [[Unicode.Scalar]] {
        var text = Array(line.unicodeScalars)
        text = replacing(Self.skipped, with: [], in: text)
        text = replacing(Self.hyphenNewline, with: [], in: text)
        text = text.map { $0 == "\n" ? " " : $0 }
        if text.contains("&") {
            for (entity, character) in Self.entities {
                text = replacing(entity, with: [character], in: text)
            }
        }
        text = [" "] + text + [" "]
        text = splitPunctuation(text)
        text = splitPairs(text, first: { !isDigit($0) }, second: isPeriodOrComma, spaceBefore: false)
        text = splitPairs(text, first: isPeriodOrComma, second: { !isDigit($0) }, spaceBefore: true)
        text = splitPairs(text, first: isDigit, second: { $0 == "-" }, spaceBefore: false)
        return text.split(whereSeparator: isPythonWhitespace).map(Array.init)
    }

    private static let skipped = Array("<skipped>".unicodeScalars)
    private static let hyphenNewline = Array("-\n".unicodeScalars)
    private static let entities: [([Unicode.Scalar], Unicode.Scalar)] = [
        (Array("&quot;".unicodeScalars), "\""), (Array("&amp;".unicodeScalars), "&"),
        (Array("&lt;".unicodeScalars), "<"), (Array("&gt;".unicodeScalars), ">"),
    ]

    /// Python's `str.replace`: every non-overlapping occurrence of `target`, left to right, one pass.
    private func replacing(_ target: [Unicode.Scalar], with replacement: [Unicode.Scalar],
                           in text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.count >= target.count, text.contains(target[0]) else { return text }
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if index + target.count <= text.count, text[index] == target[0],
               text[index..<(index + target.count)].elementsEqual(target) {
                result.append(contentsOf: replacement)
                index += target.count
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }

    /// Pass 1: `([\{-\~\[-\` -\&\(-\+\:-\@\/])` → ` \1 `.
    private func splitPunctuation(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(text.count * 2)
        for scalar in text {
            if isPunctuation13a(scalar) {
                result.append(" ")
                result.append(scalar)
                result.append(" ")
            } else {
                result.append(scalar)
            }
        }
        return result
    }

    /// One `re.sub` of a two-character pattern `(A)(B)`: scanning left to right, each `A` followed by
    /// `B` is replaced by `A B ` (or ` A B` when `spaceBefore`), and scanning resumes after the `B`.
    private func splitPairs(_ text: [Unicode.Scalar], first: (Unicode.Scalar) -> Bool,
                            second: (Unicode.Scalar) -> Bool, spaceBefore: Bool) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(text.count + text.count / 2)
        var index = 0
        while index < text.count {
            if index + 1 < text.count, first(text[index]), second(text[index + 1]) {
                if spaceBefore { result.append(" ") }
                result.append(text[index])
                result.append(" ")
                result.append(text[index + 1])
                if !spaceBefore { result.append(" ") }
                index += 2
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }
}

/// The character class `[\{-\~\[-\` -\&\(-\+\:-\@\/]` of mteval-v13a: `{|}~`, `[\]^_` and the backtick,
/// space to `&`, `(` to `+`, `:` to `@`, and `/`.
private func isPunctuation13a(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x7B...0x7E, 0x5B...0x60, 0x20...0x26, 0x28...0x2B, 0x3A...0x40, 0x2F: true
    default: false
    }
}

/// `[0-9]`: ASCII digits only, as in the Python pattern.
private func isDigit(_ scalar: Unicode.Scalar) -> Bool {
    (0x30...0x39).contains(scalar.value)
}

private func isPeriodOrComma(_ scalar: Unicode.Scalar) -> Bool {
    scalar == "." || scalar == ","
}

/// Python's `str.isspace()`, the separators of `str.split()` and `str.rstrip()`.
func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        true
    default:
        false
    }
}

/// Python's `line.rstrip()`: `line` without trailing whitespace (Python's whitespace set).
public func strippingTrailingPythonWhitespace(_ line: String) -> String {
    var scalars = line.unicodeScalars
    while let last = scalars.last, isPythonWhitespace(last) {
        scalars.removeLast()
    }
    return String(scalars)
}

/// A corpus BLEU result with sacreBLEU's sufficient statistics.
public struct BLEUScore: Sendable, Equatable {
    /// BLEU, 0...100.
    public let score: Double
    /// Matched (clipped) n-grams for n = 1...4, summed over the corpus.
    public let counts: [Int]
    /// Hypothesis n-grams for n = 1...4, summed over the corpus.
    public let totals: [Int]
    /// The four n-gram precisions in percent, after exponential smoothing.
    public let precisions: [Double]
    /// Brevity penalty.
    public let bp: Double
    /// Hypothesis tokens in the corpus.
    public let sysLen: Int
    /// Effective reference tokens: per sentence the closest reference length (ties to the shorter).
    public let refLen: Int
    /// sacreBLEU's signature, e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`.
    public let signature: String

    /// `sysLen / refLen` (0 when there are no reference tokens).
    public var ratio: Double { refLen > 0 ? Double(sysLen) / Double(refLen) : 0 }

    /// The line sacreBLEU prints for a score: `BLEU = 30.12 61.2/36.1/23.4/15.0 (BP = 0.953 ratio = 0.954 hyp_len = 3478 ref_len = 3646)`.
    public var summaryLine: String {
        let precisionText = precisions.map { String(format: "%.1f", $0) }.joined(separator: "/")
        return "BLEU = \(String(format: "%.2f", score)) \(precisionText) (BP = \(String(format: "%.3f", bp)) "
            + "ratio = \(String(format: "%.3f", ratio)) hyp_len = \(sysLen) ref_len = \(refLen))"
    }
}

/// Corpus BLEU with sacreBLEU 2.x defaults (see `Tokenizer13a`): n-grams up to 4, exponential
/// smoothing (`smooth_method='exp'`, mteval's: the k-th order with no match counts as 1 / 2^k matches),
/// cased, references combined by the maximum count of each n-gram, effective reference length the
/// closest reference length (ties to the shorter).
public struct BLEU: Sendable {
    /// The highest n-gram order.
    public static let maxOrder = 4
    /// The sacreBLEU release whose numbers and signature this reproduces.
    public static let sacreBLEUVersion = "2.6.0"

    private let tokenizer = Tokenizer13a()

    public init() {}

    /// The signature sacreBLEU prints for `referenceCount` references with these settings.
    public static func signature(referenceCount: Int) -> String {
        "nrefs:\(referenceCount)|case:mixed|eff:no|tok:13a|smooth:exp|version:\(sacreBLEUVersion)"
    }

    /// Corpus BLEU of `hypotheses` against one or more reference streams, each with one
    /// sentence per hypothesis (`references[r][i]` is reference r of hypothesis i).
    public func corpusScore(hypotheses: [String], references: [[String]]) throws -> BLEUScore {
        guard !hypotheses.isEmpty else { throw RNNError("BLEU: there are no hypotheses to score") }
        guard !references.isEmpty else { throw RNNError("BLEU: at least one reference stream is needed") }
        for (index, stream) in references.enumerated() where stream.count != hypotheses.count {
            throw RNNError("BLEU: reference stream \(index + 1) has \(stream.count) sentences but there are \(hypotheses.count) hypotheses")
        }
        var vocabulary = TokenVocabulary()
        var counts = [Int](repeating: 0, count: Self.maxOrder)
        var totals = counts
        var sysLen = 0, refLen = 0
        var referenceCounts: [NGram: Int] = [:]  // per n-gram, its highest count in any reference
        var sentenceCounts: [NGram: Int] = [:]  // one sentence's n-grams, reference or hypothesis
        for (sentence, hypothesis) in hypotheses.enumerated() {
            referenceCounts.removeAll(keepingCapacity: true)
            var referenceLengths: [Int] = []
            for stream in references {
                let ids = vocabulary.ids(tokenizer.tokenScalars(strippingTrailingPythonWhitespace(stream[sentence])))
                referenceLengths.append(ids.count)
                sentenceCounts.removeAll(keepingCapacity: true)
                countNGrams(ids, into: &sentenceCounts)
                referenceCounts.merge(sentenceCounts, uniquingKeysWith: max)
            }
            let ids = vocabulary.ids(tokenizer.tokenScalars(strippingTrailingPythonWhitespace(hypothesis)))
            sentenceCounts.removeAll(keepingCapacity: true)
            countNGrams(ids, into: &sentenceCounts)
            for (ngram, count) in sentenceCounts {
                totals[ngram.order - 1] += count
                counts[ngram.order - 1] += min(count, referenceCounts[ngram] ?? 0)
            }
            sysLen += ids.count
            refLen += Self.closestReferenceLength(to: ids.count, among: referenceLengths)
        }
        let (score, precisions, bp) = Self.score(counts: counts, totals: totals, sysLen: sysLen, refLen: refLen)
        return BLEUScore(score: score, counts: counts, totals: totals, precisions: precisions, bp: bp,
                         sysLen: sysLen, refLen: refLen, signature: Self.signature(referenceCount: references.count))
    }

    /// The reference length closest to `hypothesisLength`; of two equally close, the shorter.
    public static func closestReferenceLength(to hypothesisLength: Int, among lengths: [Int]) -> Int {
        lengths.min { a, b in
            let (da, db) = (abs(a - hypothesisLength), abs(b - hypothesisLength))
            return da != db ? da < db : a < b
        } ?? 0
    }

    /// sacreBLEU's `BLEU.compute_bleu` with `smooth_method='exp'`: BLEU, the four precisions in
    /// percent, and the brevity penalty, from the corpus statistics. The arithmetic follows the
    /// Python expression by expression so that the doubles agree.
    public static func score(counts: [Int], totals: [Int], sysLen: Int, refLen: Int)
        -> (score: Double, precisions: [Double], bp: Double) {
        var bp = 1.0
        if sysLen < refLen {
            bp = sysLen > 0 ? exp(1 - Double(refLen) / Double(sysLen)) : 0
        }
        var precisions = [Double](repeating: 0, count: maxOrder)
        guard counts.contains(where: { $0 != 0 }) else { return (0, precisions, bp) }
        var smoothing = 1.0
        for n in 0..<maxOrder {
            if totals[n] == 0 { break }
            if counts[n] == 0 {
                smoothing *= 2
                precisions[n] = 100 / (smoothing * Double(totals[n]))
            } else {
                precisions[n] = 100 * Double(counts[n]) / Double(totals[n])
            }
        }
        // sacreBLEU's `my_log`: log(0) is floored to -9999999999.
        let logSum = precisions.reduce(0.0) { $0 + ($1 == 0 ? -9_999_999_999 : log($1)) }
        return (bp * exp(logSum / Double(maxOrder)), precisions, bp)
    }

    /// Adds every n-gram of `ids` (n = 1...maxOrder) to `table`.
    private func countNGrams(_ ids: [Int32], into table: inout [NGram: Int]) {
        for order in 1...Self.maxOrder where ids.count >= order {
            for start in 0...(ids.count - order) {
                table[NGram(ids[start..<(start + order)]), default: 0] += 1
            }
        }
    }
}

/// Token → small integer, keyed by code points so that only identical scalar sequences are one token.
private struct TokenVocabulary {
    private var idOfToken: [TokenKey: Int32] = [:]

    mutating func ids(_ tokens: [[Unicode.Scalar]]) -> [Int32] {
        tokens.map { token in
            let key = TokenKey(scalars: token)
            if let id = idOfToken[key] { return id }
            let id = Int32(idOfToken.count)
            idOfToken[key] = id
            return id
        }
    }
}

/// A token's code points as a dictionary key, hashed as one block of bytes (hashing an array
/// element by element was a third of the run time).
private struct TokenKey: Hashable {
    let scalars: [Unicode.Scalar]

    func hash(into hasher: inout Hasher) {
        scalars.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// An n-gram of token ids, n = 1...4; unused slots are -1.
private struct NGram: Hashable {
    let a: Int32, b: Int32, c: Int32, d: Int32
    let order: Int

    init(_ ids: ArraySlice<Int32>) {
        let start = ids.startIndex
        order = ids.count
        a = ids[start]
        b = order > 1 ? ids[start + 1] : -1
        c = order > 2 ? ids[start + 2] : -1
        d = order > 3 ? ids[start + 3] : -1
    }

    /// Two 64-bit words instead of five separate values: the n-gram table is the hot loop.
    func hash(into hasher: inout Hasher) {
        hasher.combine(UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)))
        hasher.combine(UInt64(UInt32(bitPattern: c)) << 32 | UInt64(UInt32(bitPattern: d)))
    }
}

extension BLEU {
    /// The sentences of a UTF-8 text file, one per line, read as the `sacrebleu` command reads
    /// them: lines end only at `\n`, a final `\n` does not start another line, and each line
    /// loses its trailing whitespace (so `\r\n` endings are fine).
    public static func readSentences(path: String) throws -> [String] {
        guard let data = FileContents.read(atPath: path) else {
            throw RNNError.invalidFile(path, "cannot read the file (missing, a folder, or not readable)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw RNNError.invalidFile(path, "not valid UTF-8 text")
        }
        if text.isEmpty { return [] }
        // Split on the scalar "\n", not the Character: Swift reads "\r\n" as one Character.
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        if text.utf8.last == UInt8(ascii: "\n") { lines.removeLast() }
        return lines.map { strippingTrailingPythonWhitespace(String(String.UnicodeScalarView($0))) }
    }

    /// Corpus BLEU of the hypothesis file against one or more reference files, each with one
    /// sentence per line and the same number of lines.
    public func corpusScore(hypothesisFile: String, referenceFiles: [String]) throws -> BLEUScore {
        guard !referenceFiles.isEmpty else { throw RNNError("BLEU: give at least one reference file") }
        let hypotheses = try Self.readSentences(path: hypothesisFile)
        guard !hypotheses.isEmpty else { throw RNNError.invalidFile(hypothesisFile, "no lines to score") }
        var references: [[String]] = []
        for file in referenceFiles {
            let lines = try Self.readSentences(path: file)
            guard lines.count == hypotheses.count else {
                throw RNNError("\(hypothesisFile) has \(hypotheses.count) lines but \(file) has \(lines.count); "
                    + "BLEU needs one reference line per hypothesis line")
            }
            references.append(lines)
        }
        return try corpusScore(hypotheses: hypotheses, references: references)
    }
}
