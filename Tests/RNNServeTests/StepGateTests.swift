import Foundation
import XCTest
@testable import RNNServe

final class StepGateTests: XCTestCase {
    /// Six threads taking turns on two slots: never more than two inside at once, and every
    /// thread gets through all of its steps.
    func testAtMostSlotsGenerationsComputeAtOnce() {
        let gate = StepGate(slots: 2, slice: .zero)
        let log = InsideLog()
        let group = DispatchGroup()
        for _ in 0..<6 {
            group.enter()
            Thread {
                gate.enter(firstToken: true)
                var enteredAt = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<200 {
                    log.step()
                    gate.yield(enteredAt: &enteredAt)
                }
                gate.leave()
                group.leave()
            }.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + 30), .success, "a thread never got a slot back")
        XCTAssertEqual(log.steps, 6 * 200)
        XCTAssertLessThanOrEqual(log.mostInside, 2)
    }

    /// With the one slot taken, a generation waiting for its first token goes before one that
    /// was already waiting between tokens.
    func testAGenerationWaitingForItsFirstTokenGoesFirst() throws {
        let gate = StepGate(slots: 1)
        let order = OrderLog()
        gate.enter(firstToken: true)
        let group = DispatchGroup()
        func waiter(_ name: String, firstToken: Bool) {
            group.enter()
            Thread {
                gate.enter(firstToken: firstToken)
                order.append(name)
                gate.leave()
                group.leave()
            }.start()
        }
        waiter("between tokens", firstToken: false)
        try waitUntil { gate.waiting == 1 }
        waiter("first token", firstToken: true)
        try waitUntil { gate.waiting == 2 }
        gate.leave()
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(order.names, ["first token", "between tokens"])
    }

    /// Alone, `yield` keeps the slot (no waiting generation to hand it to); with a generation
    /// waiting between tokens, the slot is kept until the slice is used up.
    func testYieldKeepsTheSlotAloneAndWithinTheSlice() throws {
        let gate = StepGate(slots: 1, slice: .seconds(3600))
        gate.enter(firstToken: true)
        var enteredAt = DispatchTime.now().uptimeNanoseconds
        let entered = enteredAt
        gate.yield(enteredAt: &enteredAt)
        XCTAssertEqual(enteredAt, entered, "nobody waits: no hand-over")
        let group = DispatchGroup()
        group.enter()
        Thread {
            gate.enter(firstToken: false)
            gate.leave()
            group.leave()
        }.start()
        try waitUntil { gate.waiting == 1 }
        gate.yield(enteredAt: &enteredAt)
        XCTAssertEqual(enteredAt, entered, "within the slice: no hand-over")
        XCTAssertEqual(gate.waiting, 1)
        gate.leave()
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
    }

    private func waitUntil(_ condition: () -> Bool) throws {
        let deadline = Date() + 10
        while !condition() {
            guard Date() < deadline else { throw GateTimeout() }
            Thread.sleep(forTimeInterval: 0.001)
        }
    }
}

private struct GateTimeout: Error, CustomStringConvertible {
    var description: String { "the waiting thread did not queue within 10 s" }
}

private final class InsideLog: @unchecked Sendable {
    private let lock = NSLock()
    private var inside = 0
    private(set) var mostInside = 0
    private(set) var steps = 0

    func step() {
        lock.withLock { inside += 1; mostInside = max(mostInside, inside); steps += 1 }
        Thread.sleep(forTimeInterval: 0.0001)
        lock.withLock { inside -= 1 }
    }
}

private final class OrderLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ name: String) { lock.withLock { list.append(name) } }
    var names: [String] { lock.withLock { list } }
}
