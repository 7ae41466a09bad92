import Foundation

/// Runs generations, each on a thread of its own, at most `concurrentGenerations` at once;
/// at most `generationQueueCapacity` are admitted (running or waiting), more are refused with
/// 429. Generation is CPU-bound and long (many steps), so it stays off Swift's cooperative
/// threads, which serve the HTTP connections. Of the running generations, as many as there are
/// cores compute at once, taking turns token by token (`steps`), new ones first.
final class GenerationRunner: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var admitted = 0
    private var running = 0
    private var closed = false

    private let concurrency: Int
    private let capacity: Int
    /// Turns on the cores; each generation's `shouldStop` should come from `steps.betweenTokens`.
    let steps = StepGate(slots: ProcessInfo.processInfo.activeProcessorCount)

    init(limits: ServeLimits) {
        concurrency = max(limits.concurrentGenerations, 1)
        capacity = max(limits.generationQueueCapacity, concurrency)
    }

    /// Starts `work` on its own thread once a slot is free; throws 429 (full) or 503 (closing) at once.
    func start(_ work: @escaping @Sendable () -> Void) throws {
        condition.lock()
        defer { condition.unlock() }
        if closed { throw APIError.shuttingDown }
        guard admitted < capacity else { throw APIError.overloaded }
        admitted += 1
        let thread = Thread { [self] in
            condition.lock()
            while running >= concurrency { condition.wait() }
            running += 1
            condition.unlock()
            steps.enter(firstToken: true)
            work()
            steps.leave()
            condition.lock()
            running -= 1
            admitted -= 1
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "generate"
        thread.start()
    }

    /// `work`'s result, computed on its own thread.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            do {
                try start { continuation.resume(with: Result { try work() }) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Refuses new generations and waits for those admitted to finish.
    func close() {
        condition.lock()
        closed = true
        while admitted > 0 { condition.wait() }
        condition.unlock()
    }
}

/// A flag one thread sets and another reads (a client that went away, a generation to stop).
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
