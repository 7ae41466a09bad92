/// GPT-2's reversible map from the 256 byte values to printable Unicode scalars: printable
/// Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) map to themselves, the other 68 bytes to U+0100 onward
/// in byte order (so a space, 0x20, becomes `Ġ` U+0120).
enum ByteLevelAlphabet {
    /// `scalarForByte[b]`: the scalar that stands for byte `b`.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt8(b))
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The inverse of `scalarForByte`, indexed by scalar value (all are below U+0144).
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x200)
        for (b, scalar) in scalarForByte.enumerated() { table[Int(scalar.value)] = Int16(b) }
        return table
    }()

    /// The byte a scalar stands for, or nil if it is not in the alphabet.
    @inline(__always)
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = Int(scalar.value)
        guard v < byteForScalar.count else { return nil }
        let b = byteForScalar[v]
        return b < 0 ? nil : UInt8(b)
    }

    /// The scalars standing for the UTF-8 bytes of `text`.
    static func encode(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for c in text {
            let v = c.value
            if v < 0x80 {
                out.append(scalarForByte[Int(v)])
            } else {
                for byte in UTF8.encode(c)! { out.append(scalarForByte[Int(byte)]) }
            }
        }
        return out
    }

    /// All 256 scalars, in byte order: the initial alphabet of a byte-level BPE.
    static var alphabet: [Unicode.Scalar] { scalarForByte }
}
