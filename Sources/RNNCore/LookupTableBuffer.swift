#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Float32 memory for a large table read at random rows (e.g. `EmbeddingFold`'s projected
/// embedding, 41 MB for V = 20,000 × 512): aligned to 2 MiB and, on Linux, advised to be backed
/// by transparent huge pages, so a random row costs no TLB miss (with 4 KiB pages a 41 MB table
/// spans 10,000 pages, more than the TLB holds). Only grows; contents undefined after growth.
public final class LookupTableBuffer: @unchecked Sendable {
    public private(set) var pointer: UnsafeMutablePointer<Float>
    public private(set) var capacity = 0
    private static let alignment = 2 << 20

    public init() { pointer = malloc(MemoryLayout<Float>.size)!.bindMemory(to: Float.self, capacity: 1) }

    deinit { free(pointer) }

    /// Makes room for `count` floats and returns the base.
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        guard count > capacity else { return pointer }
        free(pointer)
        let bytes = (count * MemoryLayout<Float>.size + Self.alignment - 1) / Self.alignment * Self.alignment
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, Self.alignment, bytes) == 0, let raw else {
            fatalError("out of memory: \(bytes) bytes for a lookup table")
        }
        #if os(Linux)
        _ = madvise(raw, bytes, MADV_HUGEPAGE)  // a hint: without it (or THP off) only slower
        #endif
        pointer = raw.bindMemory(to: Float.self, capacity: bytes / MemoryLayout<Float>.size)
        capacity = bytes / MemoryLayout<Float>.size
        return pointer
    }
}
