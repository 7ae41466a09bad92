import Foundation
import RNNCore
import RNNText

/// Where labelled or unlabelled texts come from, chosen by the path:
/// a folder of class sub-folders, `.csv`, `.tsv`, `.jsonl` / `.json`, or plain text (one
/// document per line).
public struct TextSource: Sendable, Equatable {
    public var path: String
    /// Column (CSV/TSV) or field (JSON Lines) holding the text.
    public var textColumn: String?
    /// Column or field holding the label (classification).
    public var labelColumn: String?
    public var limit: Int?

    public init(path: String, textColumn: String? = nil, labelColumn: String? = nil, limit: Int? = nil) {
        self.path = path
        self.textColumn = textColumn
        self.labelColumn = labelColumn
        self.limit = limit
    }

    enum Kind { case folder, csv, tsv, jsonLines, plainText }

    func kind() throws -> Kind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RNNError.invalidFile(path, "no such file or folder")
        }
        if isDirectory.boolValue { return .folder }
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "csv": return .csv
        case "tsv", "tab": return .tsv
        case "jsonl", "json", "ndjson": return .jsonLines
        default: return .plainText
        }
    }

    /// Labelled examples for classification, with the sorted class names.
    public func labelledExamples() throws -> (texts: [String], labels: [Int], classNames: [String]) {
        let examples: [TextExample]
        switch try kind() {
        case .folder:
            let dataset = try ClassFolderReader(root: path, limitPerClass: limit).read()
            return (dataset.examples.map(\.text), dataset.labelIndices, dataset.classNames)
        case .csv, .tsv:
            let (text, label) = try columns(defaultText: "text", defaultLabel: "label")
            let reader = try kind() == .csv ? DelimitedTextReader.csv(path: path, textColumn: text, labelColumn: label, limit: limit)
                                            : DelimitedTextReader.tsv(path: path, textColumn: text, labelColumn: label, limit: limit)
            examples = try reader.read()
        case .jsonLines:
            let (text, label) = try columns(defaultText: "text", defaultLabel: "label")
            examples = try JSONLinesReader(path: path, textField: text, labelField: label, limit: limit).read()
        case .plainText:
            throw RNNError.invalidFile(path, "plain text has no labels; give a folder of class folders, a CSV/TSV with --label-column, or JSON Lines")
        }
        guard !examples.isEmpty else { throw RNNError.invalidFile(path, "no examples") }
        let classNames = Set(examples.compactMap(\.label)).sorted()
        guard classNames.count >= 2 else {
            throw RNNError.invalidFile(path, "needs at least two classes, found \(classNames.count) (\(classNames.joined(separator: ", ")))")
        }
        let index = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
        return (examples.map(\.text), examples.map { index[$0.label ?? ""] ?? 0 }, classNames)
    }

    /// Unlabelled documents (language modelling): rows of a CSV/TSV/JSONL text column, the lines of
    /// a text file, or every file of a folder.
    public func documents() throws -> [String] {
        var texts: [String]
        switch try kind() {
        case .folder:
            texts = try ClassFolderReader(root: path, limitPerClass: limit).read().examples.map(\.text)
        case .csv, .tsv:
            let (text, _) = try columns(defaultText: "text", defaultLabel: nil)
            let reader = try kind() == .csv ? DelimitedTextReader.csv(path: path, textColumn: text, limit: limit)
                                            : DelimitedTextReader.tsv(path: path, textColumn: text, limit: limit)
            texts = try reader.read().map(\.text)
        case .jsonLines:
            let (text, _) = try columns(defaultText: "text", defaultLabel: nil)
            texts = try JSONLinesReader(path: path, textField: text, limit: limit).read().map(\.text)
        case .plainText:
            texts = try PlainTextReader(path: path, limit: limit).readLines().map(\.text)
        }
        guard !texts.isEmpty else { throw RNNError.invalidFile(path, "no documents (empty data set)") }
        return texts
    }

    /// The whole file as one text (character-level corpora such as Tiny Shakespeare).
    public func corpus() throws -> String {
        guard try kind() == .plainText else { throw RNNError.invalidFile(path, "a single corpus must be a plain text file") }
        let text = try PlainTextReader(path: path).readCorpus()
        guard !text.isEmpty else { throw RNNError.invalidFile(path, "is empty") }
        return text
    }

    private func columns(defaultText: String, defaultLabel: String?) throws -> (String, String?) {
        (textColumn ?? defaultText, labelColumn ?? defaultLabel)
    }
}
