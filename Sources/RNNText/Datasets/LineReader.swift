import Foundation
import RNNCore

/// Reads a file one line at a time with `getline`, reusing one buffer, so a file of any size is
/// streamed in constant memory. Each line is handed out without its `\n` (a `\r` before it is kept;
/// callers that accept CRLF strip it). The buffer is only valid until the next call.
final class LineReader {
    let path: String
    /// 1-based number of the line last returned by `nextLine()` (0 before the first).
    private(set) var lineNumber = 0
    /// Byte offset in the file of the start of the line last returned.
    private(set) var lineStartOffset = 0
    private var nextOffset = 0
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0
    /// The file's size when opened: an end of file before it means the file shrank while being
    /// read (truncated or rewritten in place by another program), which is an error, not a short data set.
    private let openedSize: Int

    /// Opens `path` for reading; throws a one-line error if it is missing, a folder or unreadable.
    init(path: String) throws {
        try FileChecks.requireRegularFile(path)
        guard let file = fopen(path, "rb") else {
            throw RNNError.invalidFile(path, "cannot open: \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.file = file
        var info = stat()
        openedSize = fstat(fileno(file), &info) == 0 ? Int(info.st_size) : 0
    }

    deinit {
        free(buffer)
        fclose(file)
    }

    /// The next line's bytes (without `\n`), or nil at the end of the file.
    func nextLine() throws -> UnsafeBufferPointer<UInt8>? {
        let length = getline(&buffer, &capacity, file)
        guard length >= 0, let buffer else {
            if ferror(file) != 0 {
                throw RNNError.invalidFile(path, "read failed after line \(lineNumber): \(String(cString: strerror(errno)))")
            }
            if nextOffset < openedSize {
                throw RNNError.invalidFile(path, "ended after \(nextOffset) of its \(openedSize) bytes: the file changed while it was being read")
            }
            return nil
        }
        lineNumber += 1
        lineStartOffset = nextOffset
        nextOffset += length
        var count = length
        if count > 0, buffer[count - 1] == 0x0A { count -= 1 }
        return buffer.withMemoryRebound(to: UInt8.self, capacity: max(count, 1)) {
            UnsafeBufferPointer(start: $0, count: count)
        }
    }
}

/// The checks every reader makes on the path it is given, so they all fail the same way.
enum FileChecks {
    /// Throws unless `path` names an existing regular file (or a symbolic link to one).
    static func requireRegularFile(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RNNError.invalidFile(path, "no such file; check the path")
        }
        guard !isDirectory.boolValue else {
            throw RNNError.invalidFile(path, "is a folder, not a file; give the path of a file inside it")
        }
    }

    /// The bytes of a whole file, for readers that need all of it at once.
    static func readAll(_ path: String) throws -> [UInt8] {
        try requireRegularFile(path)
        guard let data = FileContents.read(atPath: path) else {
            throw RNNError.invalidFile(path, "cannot read (no permission?)")
        }
        return [UInt8](data)
    }
}

/// Strips one trailing `\r` (the CR of a CRLF line end).
@inline(__always)
func droppingCarriageReturn(_ line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
    guard let last = line.last, last == 0x0D else { return line }
    return UnsafeBufferPointer(rebasing: line.dropLast())
}
