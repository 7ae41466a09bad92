import Foundation
import RNNCore

/// Reads text examples from a JSON Lines file: one JSON object per line, the text in the string
/// field `textField` and, optionally, the label in `labelField` (a string, or a whole number, which
/// becomes its decimal string). Blank lines are skipped; other fields are ignored. The file is
/// streamed line by line; every error names the file and line.
public struct JSONLinesReader: Sendable {
    public var path: String
    public var textField: String
    public var labelField: String?
    /// Stop after this many examples; nil reads the whole file.
    public var limit: Int?

    public init(path: String, textField: String, labelField: String? = nil, limit: Int? = nil) {
        self.path = path
        self.textField = textField
        self.labelField = labelField
        self.limit = limit
    }

    /// Reads all examples (up to `limit`).
    public func read() throws -> [TextExample] {
        var examples: [TextExample] = []
        try forEach { examples.append($0) }
        return examples
    }

    /// Streams the examples in file order.
    public func forEach(_ body: (TextExample) throws -> Void) throws {
        let reader = try LineReader(path: path)
        var count = 0
        while limit.map({ count < $0 }) ?? true, let raw = try reader.nextLine() {
            let line = droppingCarriageReturn(raw)
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let location = "\(path):\(reader.lineNumber)"
            let object: [String: Any]
            do {
                guard let parsed = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                    throw RNNError("\(location): expected a JSON object ({...}) on each line")
                }
                object = parsed
            } catch let error as RNNError {
                throw error
            } catch {
                throw RNNError("\(location): invalid JSON; each line must hold one complete JSON object")
            }
            guard let value = object[textField] else {
                throw RNNError("\(location): no field '\(textField)'; the fields are \(fieldList(object))")
            }
            guard let text = value as? String else {
                throw RNNError("\(location): field '\(textField)' must be a string")
            }
            var label: String?
            if let labelField {
                guard let value = object[labelField] else {
                    throw RNNError("\(location): no field '\(labelField)'; the fields are \(fieldList(object))")
                }
                label = try labelString(value, field: labelField, at: location)
            }
            try body(TextExample(text: text, label: label))
            count += 1
        }
    }

    private func fieldList(_ object: [String: Any]) -> String {
        object.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
    }

    private func labelString(_ value: Any, field: String, at location: String) throws -> String {
        if let string = value as? String { return string }
        if let number = value as? NSNumber {
            // Foundation gives JSON true/false as NSNumber with type code "c"; those are not labels.
            switch number.objCType.pointee {
            case CChar(UInt8(ascii: "c")): break
            case CChar(UInt8(ascii: "d")), CChar(UInt8(ascii: "f")):
                if let whole = Int64(exactly: number.doubleValue) { return String(whole) }
            default: return String(number.int64Value)
            }
        }
        throw RNNError("\(location): field '\(field)' must be a string or a whole number")
    }
}
