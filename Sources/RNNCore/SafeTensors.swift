import Foundation

/// Reading and writing the safetensors format: an 8-byte little-endian header length N, N bytes
/// of JSON header (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`),
/// then the raw little-endian tensor bytes, which the offsets must cover exactly, without holes or
/// overlaps. Files are memory-mapped when read; every inconsistency is a one-line `RNNError`.
public struct SafeTensors: Sendable {
    public enum DType: String, Sendable, CaseIterable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

        public var byteCount: Int {
            switch self {
            case .f64, .i64: 8
            case .f32, .i32: 4
            case .f16, .bf16, .i16: 2
            case .i8, .u8, .bool: 1
            }
        }
    }

    public struct Entry: Sendable, Equatable {
        public let dtype: DType
        public let shape: [Int]
        /// Byte range within the data section.
        public let range: Range<Int>
    }

    /// Where the bytes came from, for messages.
    public let source: String
    public let metadata: [String: String]
    public let entries: [String: Entry]
    private let bytes: Data
    private let dataStart: Int

    /// Tensor names, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// Reads (memory-maps) a file.
    public init(contentsOf path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw RNNError.invalidFile(path, "no such file")
        }
        let data: Data
        do {
            data = try FileContents.read(URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw RNNError.invalidFile(path, "cannot read (\(error.localizedDescription))")
        }
        try self.init(bytes: data, source: path)
    }

    /// Parses bytes already in memory; `source` names them in error messages.
    public init(bytes: Data, source: String = "safetensors") throws {
        func fail(_ reason: String) -> RNNError {
            RNNError.invalidFile(source, "not a valid safetensors file: \(reason)")
        }
        let bytes = bytes.startIndex == 0 ? bytes : Data(bytes)
        guard bytes.count >= 8 else { throw fail("shorter than its 8-byte header length") }
        var headerLength: UInt64 = 0
        for index in 0..<8 { headerLength |= UInt64(bytes[index]) << (8 * UInt64(index)) }
        guard headerLength <= 100_000_000 else { throw fail("header length \(headerLength) is too large") }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw fail("header length \(headerLength) exceeds the file size \(bytes.count) (truncated file?)")
        }
        let headerEnd = 8 + Int(headerLength)
        let header = bytes[8..<headerEnd]
        guard header.first == UInt8(ascii: "{") else { throw fail("header does not start with '{'") }
        guard String(data: header, encoding: .utf8) != nil else { throw fail("header is not UTF-8") }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: header)
        } catch {
            throw fail("header is not valid JSON")
        }
        guard let object = json as? [String: Any] else { throw fail("header is not a JSON object") }

        let dataLength = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let pairs = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (key, item) in pairs {
                    guard let text = item as? String else { throw fail("__metadata__.\(key) is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let fields = value as? [String: Any] else { throw fail("entry '\(name)' is not an object") }
            guard let dtypeName = fields["dtype"] as? String else { throw fail("entry '\(name)' has no dtype") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw fail("entry '\(name)' has unsupported dtype \(dtypeName)")
            }
            guard let shapeValues = fields["shape"] as? [Any] else { throw fail("entry '\(name)' has no shape") }
            var shape: [Int] = []
            var elementCount = 1
            for dimension in shapeValues {
                guard let size = exactInt(dimension), size >= 0, size <= Int(Int32.max) else {
                    throw fail("entry '\(name)' has an invalid shape")
                }
                shape.append(size)
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: size)
                guard !overflow, product <= Int(Int32.max) * 16 else { throw fail("entry '\(name)' is too large") }
                elementCount = product
            }
            guard let offsets = fields["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = exactInt(offsets[0]), let end = exactInt(offsets[1]),
                  begin >= 0, begin <= end, end <= dataLength
            else {
                throw fail("entry '\(name)' has data_offsets outside the \(dataLength)-byte data section")
            }
            guard end - begin == elementCount * dtype.byteCount else {
                throw fail("entry '\(name)' holds \(end - begin) bytes but \(dtypeName) \(shapeString(shape)) needs \(elementCount * dtype.byteCount)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, range: begin..<end)
        }
        // The data section must be covered exactly: no holes, no overlaps.
        var position = 0
        for entry in entries.values.sorted(by: { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }) {
            guard entry.range.lowerBound == position else {
                throw fail(entry.range.lowerBound < position ? "tensor byte ranges overlap" : "tensor byte ranges leave a hole")
            }
            position = entry.range.upperBound
        }
        guard position == dataLength else { throw fail("\(dataLength - position) bytes after the last tensor") }

        self.source = source
        self.metadata = metadata
        self.entries = entries
        self.bytes = bytes
        self.dataStart = headerEnd
    }

    /// The entry called `name`, or an error listing what the file has.
    public func entry(_ name: String) throws -> Entry {
        guard let entry = entries[name] else {
            let known = names.prefix(12).joined(separator: ", ")
            throw RNNError.invalidFile(source, "no tensor named '\(name)' (has: \(known)\(entries.count > 12 ? ", ..." : ""))")
        }
        return entry
    }

    /// A tensor converted to Float32 (from any floating or integer dtype).
    public func tensor(_ name: String) throws -> Tensor {
        let entry = try entry(name)
        let count = entry.shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress!.advanced(by: dataStart + entry.range.lowerBound)
            for index in 0..<count {
                values[index] = Self.loadFloat(base, index: index, dtype: entry.dtype)
            }
        }
        return try Tensor(shape: entry.shape, scalars: values)
    }

    /// An integer tensor (I64, I32, ..., or a float tensor holding whole numbers) as `[Int]`.
    public func integers(_ name: String) throws -> [Int] {
        let entry = try entry(name)
        let count = entry.shape.reduce(1, *)
        return bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress!.advanced(by: dataStart + entry.range.lowerBound)
            return (0..<count).map { index in
                switch entry.dtype {
                case .i64: Int(Int64(littleEndian: base.loadUnaligned(fromByteOffset: index * 8, as: Int64.self)))
                case .i32: Int(Int32(littleEndian: base.loadUnaligned(fromByteOffset: index * 4, as: Int32.self)))
                case .i16: Int(Int16(littleEndian: base.loadUnaligned(fromByteOffset: index * 2, as: Int16.self)))
                case .i8: Int(base.load(fromByteOffset: index, as: Int8.self))
                case .u8, .bool: Int(base.load(fromByteOffset: index, as: UInt8.self))
                default: Int(Self.loadFloat(base, index: index, dtype: entry.dtype))
                }
            }
        }
    }

    private static func loadFloat(_ base: UnsafeRawPointer, index: Int, dtype: DType) -> Float {
        switch dtype {
        case .f32: Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
        case .f64: Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))))
        case .f16: halfToFloat(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)))
        case .bf16: Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))) << 16)
        case .i64: Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: index * 8, as: Int64.self)))
        case .i32: Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: index * 4, as: Int32.self)))
        case .i16: Float(Int16(littleEndian: base.loadUnaligned(fromByteOffset: index * 2, as: Int16.self)))
        case .i8: Float(base.load(fromByteOffset: index, as: Int8.self))
        case .u8, .bool: Float(base.load(fromByteOffset: index, as: UInt8.self))
        }
    }

    // MARK: Writing

    /// Serializes Float32 tensors (in the given order) and string metadata.
    public static func serialize(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws -> Data {
        var names = Set<String>()
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, tensor) in tensors {
            guard !name.isEmpty, name != "__metadata__", names.insert(name).inserted else {
                throw RNNError("safetensors: invalid or duplicate tensor name '\(name)'")
            }
            let byteCount = tensor.count * 4
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + byteCount]] as [String: Any]
            offset += byteCount
        }
        var headerBytes = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }
        var data = Data(capacity: 8 + headerBytes.count + offset)
        var length = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(headerBytes)
        for (_, tensor) in tensors {
            tensor.withUnsafeBufferPointer { buffer in
                #if _endian(little)
                data.append(UnsafeBufferPointer(start: UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self), count: buffer.count * 4))
                #else
                for value in buffer { var bits = value.bitPattern.littleEndian; withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) } }
                #endif
            }
        }
        return data
    }

    /// Writes a safetensors file atomically.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to path: String) throws {
        try AtomicFile.write(serialize(tensors, metadata: metadata), to: path)
    }
}

/// A JSON number that is a whole number, as Int.
private func exactInt(_ value: Any) -> Int? {
    if let number = value as? NSNumber {
        // Reject fractions and absurd magnitudes.
        let double = number.doubleValue
        guard double.rounded() == double, abs(double) < 9e15 else { return nil }
        return Int(double)
    }
    return nil
}

/// IEEE 754 binary16 → Float.
func halfToFloat(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = Int((bits >> 10) & 0x1F)
    let mantissa = UInt32(bits & 0x3FF)
    if exponent == 0 {
        let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 31 {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | (UInt32(exponent + 112) << 23) | (mantissa << 13))
}
