import Foundation

/// Whole-file reads. Foundation's `Data(contentsOf:)` and `FileManager.contents(atPath:)` leak a
/// 4 KiB buffer for every empty file they read (Swift 6.3 on Linux; found by the fuzz targets,
/// see RELIABILITY.md), so an empty regular file is answered here without them.
public enum FileContents {
    /// The file's bytes, or nil when it cannot be read (as `FileManager.contents(atPath:)`).
    public static func read(atPath path: String) -> Data? {
        if isEmptyRegularFile(path) { return Data() }
        return FileManager.default.contents(atPath: path)
    }

    /// The file's bytes; throws Foundation's error when it cannot be read (as `Data(contentsOf:options:)`).
    public static func read(_ url: URL, options: Data.ReadingOptions = []) throws -> Data {
        if isEmptyRegularFile(url.path) { return Data() }
        return try Data(contentsOf: url, options: options)
    }

    private static func isEmptyRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && info.st_size == 0
    }
}
