/// A growable block of Float32 memory owned by one layer or runner: the preallocated home of
/// activations cached for backward and of per-step scratch, so time-step loops never allocate.
///
/// `reserve(_:)` only grows; contents are not preserved when it does. Not thread-safe: a buffer
/// belongs to one layer, and a layer to one training task.
public final class FloatBuffer: @unchecked Sendable {
    public private(set) var pointer: UnsafeMutablePointer<Float>
    public private(set) var capacity: Int
    /// Keeps borrowed memory alive (see `init(borrowing:capacity:owner:)`); nil: the buffer owns it.
    private var owner: AnyObject?

    public init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        self.pointer = .allocate(capacity: self.capacity)
        self.pointer.initialize(repeating: 0, count: self.capacity)
    }

    /// A buffer over memory it does not own (a shared-memory segment, say), kept alive by
    /// `owner`. Never deallocated here; growing past `capacity` moves to owned memory.
    public init(borrowing pointer: UnsafeMutablePointer<Float>, capacity: Int, owner: AnyObject) {
        self.pointer = pointer
        self.capacity = capacity
        self.owner = owner
    }

    deinit { if owner == nil { pointer.deallocate() } }

    /// Makes room for `count` floats (contents undefined after growth) and returns the base.
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            if owner == nil { pointer.deallocate() }
            owner = nil
            capacity = count
            pointer = .allocate(capacity: count)
            pointer.initialize(repeating: 0, count: count)
        }
        return pointer
    }

    /// Makes room for `count` floats and sets them to zero.
    @discardableResult
    public func zeroed(_ count: Int) -> UnsafeMutablePointer<Float> {
        reserve(count)
        pointer.update(repeating: 0, count: count)
        return pointer
    }

    /// The first `count` floats as a tensor of `shape`.
    public func tensor(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, copying: pointer)
    }

    /// Copies a tensor in, growing as needed.
    public func load(_ tensor: Tensor) {
        reserve(tensor.count)
        tensor.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: source.count) }
        }
    }
}
