import Foundation
import RNNCore

/// Decoding of file bytes to `String` under an `InvalidUTF8Handling` policy, with errors that
/// point at the file, line and byte where the first invalid sequence starts.
enum UTF8Decoding {
    /// `bytes` as a String. `path` and `firstLine` (the file line of `bytes[0]`) place the error.
    static func string(_ bytes: UnsafeBufferPointer<UInt8>, handling: InvalidUTF8Handling,
                       path: String, firstLine: Int, byteOffset: Int = 0) throws -> String {
        let decoded = String(decoding: bytes, as: UTF8.self)
        if handling == .replace || sameBytes(decoded, bytes) { return decoded }
        let bad = firstInvalidOffset(bytes) ?? 0
        var line = firstLine
        for index in 0..<bad where bytes[index] == 0x0A { line += 1 }
        throw RNNError("\(path):\(line): invalid UTF-8 at byte \(byteOffset + bad); "
            + "convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8) or read it with invalidUTF8: .replace")
    }

    /// `bytes` as a String (array convenience).
    static func string(_ bytes: [UInt8], handling: InvalidUTF8Handling, path: String, firstLine: Int) throws -> String {
        try bytes.withUnsafeBufferPointer { try string($0, handling: handling, path: path, firstLine: firstLine) }
    }

    /// Whether decoding reproduced the input exactly (so no replacement happened).
    private static func sameBytes(_ decoded: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var decoded = decoded
        guard decoded.utf8.count == bytes.count else { return false }
        return decoded.withUTF8 { utf8 in
            guard let left = utf8.baseAddress, let right = bytes.baseAddress else { return bytes.isEmpty }
            return memcmp(left, right, bytes.count) == 0
        }
    }

    /// Offset of the first byte that starts an invalid UTF-8 sequence, or nil if all are valid.
    static func firstInvalidOffset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .error: return offset
            case .emptyInput: return nil
            }
        }
    }
}
