import Foundation
import RNNCore
import XCTest

final class SafeTensorsTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "safetensors-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testWriteThenReadIsBitExact() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, -2, 3.5, .leastNonzeroMagnitude, -0.0, 1e30])
        let b = try Tensor(shape: [4], scalars: [0.1, 0.2, 0.3, 0.4])
        let path = directory + "/model.safetensors"
        try SafeTensors.write([("layer.weight", a), ("layer.bias", b)], metadata: ["format": "pt"], to: path)
        let file = try SafeTensors(contentsOf: path)
        XCTAssertEqual(file.names, ["layer.bias", "layer.weight"])
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(try file.tensor("layer.weight").scalars.map(\.bitPattern), a.scalars.map(\.bitPattern))
        XCTAssertEqual(try file.tensor("layer.bias"), b)
        // The header is padded to 8 bytes, as the reference implementation writes it.
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(Int(data[0]) % 8, 0)
        // No temporary file is left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["model.safetensors"])
    }

    func testReadsPyTorchFixtureWithInt64Lengths() throws {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("lstm_L2_bi_var_s114.safetensors")
        let file = try SafeTensors(contentsOf: url.path)
        XCTAssertEqual(file.metadata["mode"], "LSTM")
        XCTAssertEqual(try file.entry("lengths").dtype, .i64)
        XCTAssertEqual(try file.integers("lengths").count, 3)
        XCTAssertEqual(try file.tensor("weight_ih_l1").shape, [28, 14])
    }

    private func header(_ json: String, data: [UInt8]) -> Data {
        var bytes = Data()
        var length = UInt64(json.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(json.utf8))
        bytes.append(contentsOf: data)
        return bytes
    }

    func testCorruptFilesGiveOneLineErrors() throws {
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "shorter than its 8-byte header length"),
            (header("{}", data: []).prefix(9), "exceeds the file size"),
            (header("[1]", data: []), "does not start with '{'"),
            (header("{\"a\": ", data: []), "not valid JSON"),
            (header(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]), "needs 8"),
            (header(#"{"a": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]), "unsupported dtype Q9"),
            (header(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 8]}}"#, data: [0, 0, 0, 0]), "outside the 4-byte data section"),
            (header(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}"#,
                    data: [UInt8](repeating: 0, count: 6)), "overlap"),
            (header(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, data: [UInt8](repeating: 0, count: 8)), "hole"),
            (header(#"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]), "invalid shape"),
        ]
        for (bytes, expected) in cases {
            XCTAssertThrowsError(try SafeTensors(bytes: bytes, source: "x.safetensors")) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("x.safetensors: not a valid safetensors file: "), message)
                XCTAssertTrue(message.contains(expected), "\(message) should mention \(expected)")
                XCTAssertFalse(message.contains("\n"))
            }
        }
        XCTAssertThrowsError(try SafeTensors(contentsOf: directory + "/missing.safetensors")) { error in
            XCTAssertTrue("\(error)".hasSuffix("missing.safetensors: no such file"))
        }
    }

    /// Inputs the safetensors fuzz target (scripts/fuzz.sh) stopped on, in Fixtures/fuzz/: each is
    /// rejected with one line. (empty-file: Foundation leaked a 4 KiB buffer per empty file read.)
    func testFuzzFindingsAreRejectedWithOneLine() throws {
        let folder = try XCTUnwrap(Bundle.module.path(forResource: "fuzz", ofType: nil, inDirectory: "Fixtures"))
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".safetensors") }
        XCTAssertFalse(names.isEmpty)
        for name in names {
            XCTAssertThrowsError(try SafeTensors(contentsOf: folder + "/" + name), name) { error in
                XCTAssertTrue(error is RNNError, "\(name): \(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    func testTruncatedFileIsRejected() throws {
        let path = directory + "/t.safetensors"
        try SafeTensors.write([("w", Tensor(shape: [10], repeating: 1))], to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SafeTensors(bytes: data.prefix(data.count - 4), source: path))
    }

    func testHalfPrecisionConversion() throws {
        // 1.0 = 0x3C00, -2.5 = 0xC100, smallest subnormal 2^-24 = 0x0001, bf16 1.5 = 0x3FC0
        let file = try SafeTensors(bytes: header(#"{"h": {"dtype": "F16", "shape": [3], "data_offsets": [0, 6]}, "b": {"dtype": "BF16", "shape": [1], "data_offsets": [6, 8]}}"#,
                                                 data: [0x00, 0x3C, 0x00, 0xC1, 0x01, 0x00, 0xC0, 0x3F]))
        XCTAssertEqual(try file.tensor("h").scalars, [1, -2.5, Float(sign: .plus, exponent: -24, significand: 1)])
        XCTAssertEqual(try file.tensor("b").scalars, [1.5])
    }
}
