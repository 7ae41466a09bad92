/// One document for classification or language modelling: its text and, when the data set
/// has one, its label (a class-folder name, a CSV cell, a JSON field) as written in the file.
public struct TextExample: Equatable, Hashable, Sendable {
    public var text: String
    public var label: String?

    public init(text: String, label: String? = nil) {
        self.text = text
        self.label = label
    }
}

/// One sentence for sequence tagging: its words and one tag per word (`words.count == tags.count`).
public struct TaggedSentence: Equatable, Hashable, Sendable {
    public var words: [String]
    public var tags: [String]

    public init(words: [String], tags: [String]) {
        precondition(words.count == tags.count, "TaggedSentence: \(words.count) words but \(tags.count) tags")
        self.words = words
        self.tags = tags
    }
}

/// What a reader does with bytes that are not valid UTF-8.
public enum InvalidUTF8Handling: Sendable, Equatable {
    /// Throw one error naming the file, the line and the byte offset of the first bad byte (the default:
    /// a Latin-1 file read as UTF-8 silently loses characters otherwise).
    case fail
    /// Replace each invalid sequence with U+FFFD, as `String(decoding:as:)` does.
    case replace
}
