import Foundation

/// Hands the cores to running generations one token at a time.
///
/// Every generation has its own thread (`GenerationRunner`), but at most `slots` of them compute
/// at once: a generation enters before its prompt, may hand its slot over between tokens, and
/// leaves when done. Waiting generations enter in arrival order, except that a generation
/// waiting for its *first* token goes before every generation that already has one, and is
/// handed a slot at the next token boundary; the others take turns every `slice` of compute
/// (handing over at every token halved the tokens per second: each hand-over is a thread wake-up).
/// So a new request waits for at most one token step of those running (a fraction of a
/// millisecond) rather than for the kernel scheduler's turn among eight busy threads on two
/// cores, which is what set the first-token tail (p99 23 ms quiet, 96 ms loaded, with 8 streams).
final class StepGate: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var free: Int
    private var nextTicket = 0
    private var firstTokenQueue: [Int] = []
    private var queue: [Int] = []
    private let sliceNanoseconds: UInt64

    init(slots: Int, slice: Duration = .milliseconds(2)) {
        free = max(slots, 1)
        let (seconds, attoseconds) = slice.components
        sliceNanoseconds = UInt64(max(seconds, 0)) * 1_000_000_000 + UInt64(max(attoseconds, 0) / 1_000_000_000)
    }

    /// Waits for a slot; `firstToken`: this generation has produced nothing yet.
    func enter(firstToken: Bool) {
        condition.lock()
        defer { condition.unlock() }
        let ticket = nextTicket
        nextTicket += 1
        if firstToken { firstTokenQueue.append(ticket) } else { queue.append(ticket) }
        while !(free > 0 && isNext(ticket)) { condition.wait() }
        if firstTokenQueue.first == ticket { firstTokenQueue.removeFirst() } else { queue.removeFirst() }
        free -= 1
        condition.broadcast()  // a second free slot may let the next ticket in too
    }

    /// Gives the slot back.
    func leave() {
        condition.lock()
        free += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Between tokens: hands the slot over if a generation waits for its first token, or if one
    /// waits and this one has held the slot for a `slice` since `enteredAt` (updated on re-entry).
    func yield(enteredAt: inout UInt64) {
        let now = DispatchTime.now().uptimeNanoseconds
        condition.lock()
        let handOver = !firstTokenQueue.isEmpty || (!queue.isEmpty && now &- enteredAt >= sliceNanoseconds)
        condition.unlock()
        guard handOver else { return }
        leave()
        enter(firstToken: false)
        enteredAt = DispatchTime.now().uptimeNanoseconds
    }

    /// Generations waiting for a slot (for tests).
    var waiting: Int { condition.withLock { firstTokenQueue.count + queue.count } }

    private func isNext(_ ticket: Int) -> Bool {
        if let first = firstTokenQueue.first { return first == ticket }
        return queue.first == ticket
    }
}

extension StepGate {
    /// A generation's `shouldStop`: yields the slot between tokens (not before the first one,
    /// which was admitted ahead of the others), then asks `stop`.
    func betweenTokens(_ stop: @escaping () -> Bool) -> () -> Bool {
        var firstCall = true
        var enteredAt = DispatchTime.now().uptimeNanoseconds
        return {
            if firstCall { firstCall = false } else { self.yield(enteredAt: &enteredAt) }
            return stop()
        }
    }
}
