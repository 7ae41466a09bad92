import Foundation

/// Files are written atomically: to a temporary file beside the target, flushed, then renamed
/// over it, and the directory is flushed so the rename itself survives a power loss. An
/// interrupted run leaves either the old file or the new one, never half of one.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RNNError.invalidFile(path, "directory \(directory) does not exist; create it first")
        }
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
            throw RNNError.invalidFile(path, "cannot write in \(directory) (read-only or no permission?)")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw RNNError.invalidFile(path, "write failed (\(error.localizedDescription)); is the disk full?")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw RNNError.invalidFile(path, "cannot replace file: \(reason)")
        }
        try synchronizeDirectory(directory, after: path)
    }

    /// Flushes a directory's entries to disk (fsync on the directory), so renames in it are
    /// durable; `changed` names what was renamed, for the message when it fails.
    public static func synchronizeDirectory(_ directory: String, after changed: String) throws {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else {
            throw RNNError.invalidFile(changed, "written, but its directory \(directory) cannot be opened to flush it (\(String(cString: strerror(errno))))")
        }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw RNNError.invalidFile(changed, "written, but flushing its directory \(directory) failed (\(String(cString: strerror(errno)))); the file may not survive a power loss")
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}
