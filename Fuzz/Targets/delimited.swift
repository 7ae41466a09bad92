// Fuzz target: the CSV and TSV readers (quoting, header, field counts, UTF-8 checks).
import Foundation
import RNNCore
import RNNText

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDelimited(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    let path = scratchPath("data.csv")
    input.write(to: path)
    let readers: [DelimitedTextReader] = [
        .csv(path: path, textColumn: "text", labelColumn: "label"),
        .tsv(path: path, textColumn: "text", labelColumn: "label"),
        .csv(path: path, textColumn: "Joke"),
        DelimitedTextReader(path: path, delimiter: UInt8(ascii: ","), quoting: false, textColumn: "text",
                            invalidUTF8: .replace),
    ]
    for reader in readers {
        expectingOnlyRNNErrors("DelimitedTextReader.columnNames") { _ = try reader.columnNames() }
        expectingOnlyRNNErrors("DelimitedTextReader.read") { _ = try reader.read() }
    }
    return 0
}
