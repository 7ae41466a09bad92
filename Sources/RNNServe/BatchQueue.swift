import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs one model's forward passes on one dedicated thread, gathering the requests that arrive
/// together into one pass.
///
/// A model is not safe for concurrent forward passes (its layers keep per-pass buffers), so all
/// passes over it happen here, one at a time. The first request of a batch waits at most
/// `batchWait` for others; a batch holds at most `maxBatch` inputs. At most `capacity` inputs
/// wait at once: more are refused at once with 429. A request whose deadline has passed
/// when its batch is formed is answered 504 without running. `close()` lets the thread finish
/// every request already queued, then stop. The thread runs `limits.batchThreadNice` nicer than
/// the others (Linux), so that generations' steps go first when the CPU is contended.
final class BatchQueue<Input: Sendable, Output: Sendable>: @unchecked Sendable {
    private struct Job {
        var inputs: [Input]
        var arrival: Date
        var deadline: Date
        var continuation: CheckedContinuation<[Output], any Error>
    }

    private let condition = NSCondition()
    // Guarded by `condition`:
    private var jobs: [Job] = []
    private var queuedInputs = 0
    private var closed = false
    private var finished = false

    private let batchWait: TimeInterval
    private let maxBatch: Int
    private let capacity: Int
    private let timeout: TimeInterval
    private let nice: Int32
    /// One output per input, in order; called on the queue's thread only.
    private let process: ([Input]) throws -> [Output]

    private var batchesRun = 0
    private var inputsRun = 0

    /// Batches run so far and the inputs they held.
    var statistics: (batches: Int, inputs: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (batchesRun, inputsRun)
    }

    init(name: String, limits: ServeLimits, process: @escaping ([Input]) throws -> [Output]) {
        self.batchWait = limits.batchWait.seconds
        self.maxBatch = max(limits.maxBatchTexts, 1)
        self.capacity = max(limits.queueCapacity, 1)
        self.timeout = limits.requestTimeout.seconds
        self.nice = min(max(limits.batchThreadNice, 0), 19)
        self.process = process
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// The outputs for `inputs`, computed in some batch; throws 429 when the queue is full.
    func submit(_ inputs: [Input]) async throws -> [Output] {
        guard !inputs.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            if closed {
                continuation.resume(throwing: APIError.shuttingDown)
            } else if queuedInputs + inputs.count > capacity {
                continuation.resume(throwing: APIError.overloaded)
            } else {
                let now = Date()
                jobs.append(Job(inputs: inputs, arrival: now, deadline: now + timeout, continuation: continuation))
                queuedInputs += inputs.count
                condition.signal()
            }
        }
    }

    /// Stops taking requests; the thread answers those queued, then ends. Waits for that.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        lowerThreadPriority(by: nice)
        while let batch = nextBatch() {
            let now = Date()
            var live: [Job] = []
            for job in batch {
                if job.deadline < now { job.continuation.resume(throwing: APIError.timedOut) } else { live.append(job) }
            }
            guard !live.isEmpty else { continue }
            condition.lock()
            batchesRun += 1
            inputsRun += live.reduce(0) { $0 + $1.inputs.count }
            condition.unlock()
            do {
                let outputs = try process(live.flatMap(\.inputs))
                var start = 0
                for job in live {
                    job.continuation.resume(returning: Array(outputs[start..<start + job.inputs.count]))
                    start += job.inputs.count
                }
            } catch {
                // One bad input must not fail its neighbours: run each request alone.
                for job in live {
                    job.continuation.resume(with: Result { try process(job.inputs) })
                }
            }
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for work, then up to `batchWait` after the oldest request for more, and takes up to
    /// `maxBatch` inputs (always at least one request). Nil once closed and drained.
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty && !closed { condition.wait() }
        guard let first = jobs.first else { return nil }
        let until = first.arrival + batchWait
        while queuedInputs < maxBatch && !closed && Date() < until {
            _ = condition.wait(until: until)
        }
        var taken: [Job] = [], count = 0
        while let job = jobs.first, taken.isEmpty || count + job.inputs.count <= maxBatch {
            taken.append(jobs.removeFirst())
            count += job.inputs.count
        }
        queuedInputs -= count
        return taken
    }
}

/// Raises the calling thread's nice value by `increment` (lowers its priority). On Linux the nice
/// value belongs to the thread (`setpriority(PRIO_PROCESS, 0, …)` changes only the caller), and
/// raising it needs no privilege. Elsewhere, nothing.
func lowerThreadPriority(by increment: Int32) {
    #if os(Linux)
    guard increment > 0 else { return }
    let which = __priority_which_t(PRIO_PROCESS.rawValue)
    _ = setpriority(which, 0, min(getpriority(which, 0) + increment, 19))
    #endif
}

/// The calling thread's nice value (Linux; 0 elsewhere).
func threadNice() -> Int32 {
    #if os(Linux)
    return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    #else
    return 0
    #endif
}
