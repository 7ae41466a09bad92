import Foundation
import RNNCore

/// Documents labelled by the folder they sit in, read by `ClassFolderReader`.
public struct ClassFolderDataset: Equatable, Sendable {
    /// The class-folder names in sorted order; a label's index in this list is its class id.
    public var classNames: [String]
    /// The documents, class by class in `classNames` order, each class's files in sorted name order.
    public var examples: [TextExample]

    /// The class id of every example (its label's index in `classNames`).
    public var labelIndices: [Int] {
        let index = Dictionary(classNames.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        return examples.map { example in example.label.flatMap { index[$0] } ?? -1 }
    }
}

/// Reads a "folder per class" text data set, the layout of Keras `text_dataset_from_directory`
/// and of IMDB (`aclImdb/train/{neg,pos}/*.txt`):
///
///     root/
///       neg/  0_3.txt  1_1.txt ...
///       pos/  0_9.txt  1_7.txt ...
///
/// Every non-hidden sub-folder of `root` is a class (or only those named in `classNames`); its label
/// is the folder name. Every non-hidden regular file directly inside a class folder is one document
/// (nested folders are not descended into). Names are sorted (Swift `String` order), so the example
/// order — and any seeded shuffle of it — is the same on every machine. Files are decoded as UTF-8;
/// invalid bytes throw an error naming the file, or become U+FFFD with `invalidUTF8: .replace`.
public struct ClassFolderReader: Sendable {
    public var root: String
    /// The classes to read, in label order; nil reads every sub-folder, sorted.
    public var classNames: [String]?
    /// Only files whose name ends in `.` + this extension (e.g. "txt"); nil reads every file.
    public var fileExtension: String?
    /// At most this many files per class (the first ones in sorted order); nil reads all.
    public var limitPerClass: Int?
    public var invalidUTF8: InvalidUTF8Handling

    public init(root: String, classNames: [String]? = nil, fileExtension: String? = nil,
                limitPerClass: Int? = nil, invalidUTF8: InvalidUTF8Handling = .fail) {
        self.root = root
        self.classNames = classNames
        self.fileExtension = fileExtension
        self.limitPerClass = limitPerClass
        self.invalidUTF8 = invalidUTF8
    }

    /// Reads every document into memory.
    public func read() throws -> ClassFolderDataset {
        var examples: [TextExample] = []
        let classes = try resolvedClassNames()
        try forEach(classes: classes) { examples.append($0) }
        return ClassFolderDataset(classNames: classes, examples: examples)
    }

    /// Streams the documents in dataset order without keeping them.
    public func forEach(_ body: (TextExample) throws -> Void) throws {
        try forEach(classes: try resolvedClassNames(), body)
    }

    /// The class folders that will be read, checked to exist; at least two.
    public func resolvedClassNames() throws -> [String] {
        guard let kind = FolderEntry.kind(of: root) else {
            throw RNNError.invalidFile(root, "no such folder; give the folder that holds one sub-folder per class")
        }
        guard kind == .folder else {
            throw RNNError.invalidFile(root, "is a file, not a folder; give the folder that holds one sub-folder per class")
        }
        let names: [String]
        if let classNames {
            if let repeated = classNames.first(where: { name in classNames.filter { $0 == name }.count > 1 }) {
                throw RNNError.invalidFile(root, "class '\(repeated)' is listed twice in classNames; list each class once")
            }
            for name in classNames where FolderEntry.kind(of: root + "/" + name) != .folder {
                throw RNNError.invalidFile(root, "has no class folder '\(name)'; the folders are: "
                    + (try listClassFolders().joined(separator: ", ")))
            }
            names = classNames
        } else {
            names = try listClassFolders()
        }
        guard names.count >= 2 else {
            throw RNNError.invalidFile(root, "found \(names.count) class folder(s) (\(names.joined(separator: ", "))); "
                + "a classification data set needs one sub-folder per class, at least two")
        }
        return names
    }

    private func listClassFolders() throws -> [String] {
        try FolderEntry.visibleNames(in: root).filter { FolderEntry.kind(of: root + "/" + $0) == .folder }
    }

    private func forEach(classes: [String], _ body: (TextExample) throws -> Void) throws {
        var buffer: [UInt8] = []
        let suffix = fileExtension.map { "." + $0 }
        for label in classes {
            let folder = root + "/" + label
            var count = 0
            for name in try FolderEntry.visibleNames(in: folder) {
                if let limitPerClass, count >= limitPerClass { break }
                if let suffix, !name.hasSuffix(suffix) { continue }
                let path = folder + "/" + name
                guard let length = try FolderEntry.readRegularFile(path, into: &buffer) else { continue }
                let text = try buffer.withUnsafeBufferPointer {
                    try UTF8Decoding.string(UnsafeBufferPointer(rebasing: $0[0..<length]),
                                            handling: invalidUTF8, path: path, firstLine: 1)
                }
                try body(TextExample(text: text, label: label))
                count += 1
            }
            if count == 0 {
                let what = suffix.map { "no *\($0) files" } ?? "no files"
                throw RNNError.invalidFile(folder, "class folder has \(what); every class needs at least one document")
            }
        }
    }
}

/// Small POSIX helpers for walking folders quickly (one `open`/`fstat`/`read` per file).
enum FolderEntry {
    enum Kind { case file, folder, other }

    /// What `path` is (following symbolic links), or nil if it does not exist.
    static func kind(of path: String) -> Kind? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .folder
        case S_IFREG: return .file
        default: return .other
        }
    }

    /// The names in `folder` that do not start with ".", sorted.
    static func visibleNames(in folder: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw RNNError.invalidFile(folder, "cannot list folder (no permission?)")
        }
    }

    /// Reads the file at `path` into the front of `buffer` (growing it when needed) and returns the
    /// number of bytes read, or nil, reading nothing, if `path` is not a regular file (a nested
    /// folder, a socket). `buffer` is scratch space reused across files.
    static func readRegularFile(_ path: String, into buffer: inout [UInt8]) throws -> Int? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw RNNError.invalidFile(path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        let expected = Int(info.st_size) + 1  // one spare byte, so reaching the end costs no regrowth
        if buffer.count < expected { buffer = [UInt8](repeating: 0, count: max(expected, 2 * buffer.count)) }
        var filled = 0
        while true {
            if filled == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            let got = buffer.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return read(descriptor, base + filled, raw.count - filled)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw RNNError.invalidFile(path, "read failed: \(String(cString: strerror(errno)))")
            }
            if got == 0 { return filled }
            filled += got
        }
    }
}
