import Foundation
import RNNCore
import RNNText

/// A corpus turned into word ids for GloVe: words split by the library's word-level pipeline
/// (`Tokenizer.reviewNormalizer`: `<br />` removed and lowercase; `Tokenizer.wordPreTokenizer`:
/// whitespace, each punctuation character a word), then a vocabulary of the words seen at least
/// `minCount` times, most frequent first (ties in word order), cut to `maxVocabulary` words.
///
/// Words outside the vocabulary are dropped from the documents before co-occurrences are counted,
/// as the reference GloVe `cooccur` tool does, so they neither count nor take up window positions.
public struct GloVeCorpus: Sendable {
    /// The words by id, most frequent first.
    public let vocabulary: [String]
    /// How often each vocabulary word occurs in the corpus, by id.
    public let wordCounts: [Int]
    /// Each document as vocabulary ids, out-of-vocabulary words removed.
    public let documents: [[Int]]
    /// Words in the corpus before the vocabulary cut, and how many were kept.
    public let totalWords: Int
    public let keptWords: Int
    /// Distinct words before the cut.
    public let distinctWords: Int

    /// Splits `texts` into words and builds the vocabulary. `progress` is called with the number
    /// of texts done, every 5,000 texts and at the end.
    public init(texts: [String], minCount: Int = 5, maxVocabulary: Int? = nil,
                progress: (Int) -> Void = { _ in }) throws {
        guard minCount >= 1 else { throw RNNError("--min-count must be at least 1, got \(minCount)") }
        if let maxVocabulary, maxVocabulary < 1 { throw RNNError("--max-vocab must be positive, got \(maxVocabulary)") }
        let splitter = Tokenizer(model: try WordLevelModel(vocabulary: Vocabulary(["[UNK]"])),
                                 normalizer: Tokenizer.reviewNormalizer, preTokenizer: Tokenizer.wordPreTokenizer)
        // First pass: provisional ids in order of first appearance, and their counts.
        var provisionalIds: [String: Int] = [:]
        var provisionalWords: [String] = []
        var counts: [Int] = []
        var provisionalDocuments: [[Int32]] = []
        provisionalDocuments.reserveCapacity(texts.count)
        var totalWords = 0
        for (index, text) in texts.enumerated() {
            let words = splitter.words(in: text)
            var document: [Int32] = []
            document.reserveCapacity(words.count)
            for scalars in words {
                let word = String(String.UnicodeScalarView(scalars))
                let id: Int
                if let known = provisionalIds[word] {
                    id = known
                } else {
                    id = provisionalWords.count
                    provisionalIds[word] = id
                    provisionalWords.append(word)
                    counts.append(0)
                }
                counts[id] += 1
                document.append(Int32(id))
            }
            totalWords += words.count
            provisionalDocuments.append(document)
            if (index + 1) % 5000 == 0 || index + 1 == texts.count { progress(index + 1) }
        }
        // The vocabulary: frequent enough, most frequent first, ties by word.
        var ranked = provisionalWords.indices.filter { counts[$0] >= minCount }
        ranked.sort { counts[$0] != counts[$1] ? counts[$0] > counts[$1]
                      : provisionalWords[$0].unicodeScalars.lexicographicallyPrecedes(provisionalWords[$1].unicodeScalars) }
        if let maxVocabulary, ranked.count > maxVocabulary { ranked.removeLast(ranked.count - maxVocabulary) }
        guard !ranked.isEmpty else {
            throw RNNError("no word occurs at least \(minCount) times in \(texts.count) documents; lower --min-count or give more data")
        }
        var finalId = [Int](repeating: -1, count: provisionalWords.count)
        for (id, provisional) in ranked.enumerated() { finalId[provisional] = id }
        var documents: [[Int]] = []
        documents.reserveCapacity(provisionalDocuments.count)
        var keptWords = 0
        for document in provisionalDocuments {
            let ids = document.compactMap { provisional -> Int? in
                let id = finalId[Int(provisional)]
                return id >= 0 ? id : nil
            }
            keptWords += ids.count
            documents.append(ids)
        }
        vocabulary = ranked.map { provisionalWords[$0] }
        wordCounts = ranked.map { counts[$0] }
        self.documents = documents
        self.totalWords = totalWords
        self.keptWords = keptWords
        distinctWords = provisionalWords.count
    }

    /// The co-occurrence counts of all documents (windows stop at document ends). `progress` is
    /// called with the number of documents done, about every tenth of the corpus and at the end.
    public func cooccurrences(window: Int, progress: (Int) -> Void = { _ in }) throws -> CooccurrenceCounts {
        var counts = try CooccurrenceCounts(vocabularySize: vocabulary.count, window: window)
        let step = max(documents.count / 10, 1)
        for (index, document) in documents.enumerated() {
            try counts.add(document)
            if (index + 1) % step == 0 || index + 1 == documents.count { progress(index + 1) }
        }
        return counts
    }
}
