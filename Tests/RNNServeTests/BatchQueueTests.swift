import Foundation
import XCTest
@testable import RNNServe

final class BatchQueueTests: XCTestCase {
    private func limits(wait: Duration = .milliseconds(2), maxBatch: Int = 64, capacity: Int = 512, timeout: Duration = .seconds(10)) -> ServeLimits {
        var limits = ServeLimits()
        limits.batchWait = wait
        limits.maxBatchTexts = maxBatch
        limits.queueCapacity = capacity
        limits.requestTimeout = timeout
        return limits
    }

    func testRequestsArrivingTogetherShareAPassAndEachGetsItsOwnOutputs() async throws {
        let queue = BatchQueue<Int, Int>(name: "test", limits: limits(wait: .milliseconds(100), maxBatch: 100)) { inputs in inputs.map { $0 * 10 } }
        let results = try await withThrowingTaskGroup(of: (Int, [Int]).self) { group in
            for request in 0..<20 {
                group.addTask { (request, try await queue.submit([request, request + 100])) }
            }
            return try await group.reduce(into: [Int: [Int]]()) { $0[$1.0] = $1.1 }
        }
        for request in 0..<20 { XCTAssertEqual(results[request], [request * 10, (request + 100) * 10]) }
        XCTAssertEqual(queue.statistics.inputs, 40)
        XCTAssertLessThanOrEqual(queue.statistics.batches, 3, "20 requests within a 100 ms window")
        queue.close()
    }

    func testABatchHoldsAtMostMaxBatchInputs() async throws {
        let sizes = SizeLog()
        let queue = BatchQueue<Int, Int>(name: "test", limits: limits(wait: .milliseconds(50), maxBatch: 4)) { inputs in
            sizes.append(inputs.count)
            return inputs
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for request in 0..<10 { group.addTask { _ = try await queue.submit([request]) } }
            try await group.waitForAll()
        }
        XCTAssertEqual(sizes.values.reduce(0, +), 10)
        XCTAssertTrue(sizes.values.allSatisfy { $0 <= 4 }, "\(sizes.values)")
        queue.close()
    }

    func testAFullQueueRefusesWith429AndALateRequestTimesOut() async throws {
        let gate = DispatchSemaphore(value: 0)
        let queue = BatchQueue<Int, Int>(name: "test", limits: limits(wait: .zero, maxBatch: 1, capacity: 2, timeout: .milliseconds(100))) { inputs in
            gate.wait()  // the first pass blocks until released
            return inputs
        }
        async let first = queue.submit([1])
        try await Task.sleep(for: .milliseconds(50))  // the first request is now running
        async let second = queue.submit([2])
        async let third = queue.submit([3])
        try await Task.sleep(for: .milliseconds(50))
        do {
            _ = try await queue.submit([4])
            XCTFail("a full queue accepted a request")
        } catch let error as APIError {
            XCTAssertEqual(error.status, .tooManyRequests)
        }
        try await Task.sleep(for: .milliseconds(150))  // past the 100 ms deadline of the waiting requests
        for _ in 0..<3 { gate.signal() }
        let firstResult = try await first
        XCTAssertEqual(firstResult, [1])
        var outcomes: [Result<[Int], any Error>] = []
        do { outcomes.append(.success(try await second)) } catch { outcomes.append(.failure(error)) }
        do { outcomes.append(.success(try await third)) } catch { outcomes.append(.failure(error)) }
        for (index, pending) in outcomes.enumerated() {
            switch pending {
            case .success: XCTFail("request \(index + 2) ran past its deadline")
            case .failure(let error): XCTAssertEqual((error as? APIError)?.status, .gatewayTimeout)
            }
        }
        queue.close()
    }

    func testOneBadInputFailsOnlyItsOwnRequestAndCloseFinishesQueuedWork() async throws {
        struct Bad: Error {}
        let queue = BatchQueue<Int, Int>(name: "test", limits: limits(wait: .milliseconds(50))) { inputs in
            if inputs.contains(-1) { throw Bad() }
            return inputs
        }
        async let good = queue.submit([1, 2])
        async let bad = queue.submit([-1])
        let goodResult = try await good
        XCTAssertEqual(goodResult, [1, 2])
        do {
            _ = try await bad
            XCTFail("the bad input did not fail")
        } catch is Bad {}

        async let queued = queue.submit([5])
        try await Task.sleep(for: .milliseconds(10))
        queue.close()  // returns once the queued request has been answered
        let queuedResult = try await queued
        XCTAssertEqual(queuedResult, [5])
        do {
            _ = try await queue.submit([6])
            XCTFail("a closed queue accepted a request")
        } catch let error as APIError {
            XCTAssertEqual(error.status, .serviceUnavailable)
        }
    }

    func testGenerationRunnerRefusesBeyondItsCapacity() async throws {
        var limits = ServeLimits()
        limits.concurrentGenerations = 1
        limits.generationQueueCapacity = 2
        let runner = GenerationRunner(limits: limits)
        let gate = DispatchSemaphore(value: 0)
        try runner.start { gate.wait() }
        try runner.start { gate.wait() }
        XCTAssertThrowsError(try runner.start {}) { error in
            XCTAssertEqual((error as? APIError)?.status, .tooManyRequests)
        }
        gate.signal()
        gate.signal()
        runner.close()  // waits for both
        XCTAssertThrowsError(try runner.start {}) { error in
            XCTAssertEqual((error as? APIError)?.status, .serviceUnavailable)
        }
    }
}

/// Batch sizes seen by a process function (called on the queue's thread, read by the test).
private final class SizeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var sizes: [Int] = []
    func append(_ size: Int) { lock.withLock { sizes.append(size) } }
    var values: [Int] { lock.withLock { sizes } }
}


final class BatchQueuePriorityTests: XCTestCase {
    /// Forward passes run on a thread `batchThreadNice` nicer than the caller's, so that under
    /// contention a generation's steps are scheduled first (Linux; elsewhere the nice stays).
    func testTheBatchThreadRunsNicerThanItsCaller() async throws {
        var limits = ServeLimits()
        limits.batchThreadNice = 4
        let queue = BatchQueue<Int, Int32>(name: "test", limits: limits) { inputs in inputs.map { _ in threadNice() } }
        let nice = try await queue.submit([0])[0]
        queue.close()
        #if os(Linux)
        XCTAssertEqual(nice, min(threadNice() + 4, 19))
        #else
        XCTAssertEqual(nice, threadNice())
        #endif
    }
}
