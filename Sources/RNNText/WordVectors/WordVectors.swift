import RNNCore

/// Pretrained word embeddings: one `dimension`-long vector per word (GloVe, word2vec).
/// Load them with `WordVectorsReader`, match them to a model's vocabulary with `match(vocabulary:)`,
/// and write them back with `save(to:)`.
public struct WordVectors: Equatable, Sendable {
    public let dimension: Int
    public let vectors: [String: [Float]]

    /// Vectors that must all have `dimension` (> 0) elements.
    public init(dimension: Int, vectors: [String: [Float]]) throws {
        guard dimension > 0 else { throw RNNError("word vectors: dimension must be positive, got \(dimension)") }
        if let (word, vector) = vectors.first(where: { $0.value.count != dimension }) {
            throw RNNError("word vectors: '\(word)' has \(vector.count) values, expected \(dimension)")
        }
        self.dimension = dimension
        self.vectors = vectors
    }

    public var count: Int { vectors.count }

    /// The vector of `word` exactly as written, or nil.
    public subscript(word: String) -> [Float]? { vectors[word] }

    /// One vector per vocabulary id: the vector of the token as written if there is one, otherwise of
    /// its lowercase form, otherwise zeros (reported in `missingIDs`, for the caller to initialise).
    public func match(vocabulary tokens: [String]) -> VocabularyMatch {
        var rows: [[Float]] = []
        rows.reserveCapacity(tokens.count)
        var exact = 0, lowercased = 0
        var missing: [Int] = []
        let zeros = [Float](repeating: 0, count: dimension)
        for (id, token) in tokens.enumerated() {
            if let vector = vectors[token] {
                rows.append(vector)
                exact += 1
            } else if let vector = vectors[token.lowercased()] {
                rows.append(vector)
                lowercased += 1
            } else {
                rows.append(zeros)
                missing.append(id)
            }
        }
        return VocabularyMatch(tokens: tokens, vectors: rows, exactMatches: exact, lowercaseMatches: lowercased, missingIDs: missing)
    }

    /// The `count` words most similar to `word` by cosine similarity, most similar first (`word` itself left out).
    public func nearestNeighbours(of word: String, count: Int = 10) throws -> [WordNeighbour] {
        guard let vector = vectors[word] else {
            throw RNNError("word vectors: no vector for '\(word)'; check its spelling and case")
        }
        return try nearestNeighbours(to: vector, count: count, excluding: [word])
    }

    /// The `count` words whose vectors are most similar to `vector` by cosine similarity; ties are
    /// ordered by word, so the answer is the same on every run.
    public func nearestNeighbours(to vector: [Float], count: Int = 10, excluding: Set<String> = []) throws -> [WordNeighbour] {
        guard vector.count == dimension else {
            throw RNNError("word vectors: query has \(vector.count) values, expected \(dimension)")
        }
        guard count > 0 else { return [] }
        var best: [WordNeighbour] = []  // sorted, most similar first; at most `count`
        best.reserveCapacity(count + 1)
        for (word, candidate) in vectors where !excluding.contains(word) {
            let neighbour = WordNeighbour(word: word, similarity: Self.cosineSimilarity(vector, candidate))
            if best.count == count, let last = best.last, !neighbour.ranksBefore(last) { continue }
            let position = best.firstIndex { neighbour.ranksBefore($0) } ?? best.count
            best.insert(neighbour, at: position)
            if best.count > count { best.removeLast() }
        }
        return best
    }

    /// cos(a, b) = a·b / (|a| |b|); 0 when either vector is all zeros.
    public static func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "cosineSimilarity: \(a.count) vs \(b.count) values")
        var dot: Float = 0, normA: Float = 0, normB: Float = 0
        for index in a.indices {
            dot += a[index] * b[index]
            normA += a[index] * a[index]
            normB += b[index] * b[index]
        }
        let norms = (normA * normB).squareRoot()
        return norms > 0 ? dot / norms : 0
    }

    /// Writes the vectors in GloVe text format (`word v1 ... vD` per line, words sorted, each value
    /// in the shortest form that reads back to the same Float), atomically.
    public func save(to path: String) throws {
        var text = ""
        text.reserveCapacity(vectors.count * (dimension * 11 + 12))
        for word in vectors.keys.sorted() {
            guard !word.isEmpty, !word.unicodeScalars.contains(where: { $0.properties.isWhitespace }) else {
                throw RNNError.invalidFile(path, "cannot save the word '\(word)': GloVe text format needs words without spaces")
            }
            text += word
            for value in vectors[word] ?? [] {
                text += " "
                text += value.description
            }
            text += "\n"
        }
        try AtomicFile.write(text, to: path)
    }
}

/// How a vocabulary matched a set of word vectors.
public struct VocabularyMatch: Equatable, Sendable {
    /// The vocabulary, by id.
    public let tokens: [String]
    /// One vector per id (zeros where the token was not found).
    public let vectors: [[Float]]
    /// Ids found exactly as written, and only in lowercase form.
    public let exactMatches: Int
    public let lowercaseMatches: Int
    /// Ids with no vector, in id order.
    public let missingIDs: [Int]

    public var total: Int { tokens.count }
    public var found: Int { exactMatches + lowercaseMatches }
    /// found / total (1 for an empty vocabulary).
    public var coverage: Double { total == 0 ? 1 : Double(found) / Double(total) }
    /// The tokens with no vector, in id order.
    public var missingTokens: [String] { missingIDs.map { tokens[$0] } }
    /// The vectors as one row-major (vocabulary size, dimension) matrix, ready for an embedding table.
    public var flattened: [Float] { vectors.flatMap { $0 } }
}

/// A word and its cosine similarity to a query.
public struct WordNeighbour: Equatable, Sendable {
    public let word: String
    public let similarity: Float

    /// Higher similarity first; equal similarities in word order.
    func ranksBefore(_ other: WordNeighbour) -> Bool {
        similarity != other.similarity ? similarity > other.similarity : word < other.word
    }
}
