import Foundation
import RNN
import RNNCore
import XCTest

/// Update rules on `QuadraticProblem` (L(θ) = Σ ½ cᵢ θᵢ², gradient cᵢθᵢ, two parameters), against
/// (1) each update recurrence written out again in Double in this file, and (2) numbers printed
/// by `scripts/optimizer_reference.py` from torch.optim 2.15.
final class OptimizersTests: XCTestCase {
    private let problem = QuadraticProblem()
    private var theta0: [Float] { problem.theta0 }
    private var curvature: [Float] { problem.curvature }

    private func run<Rule: OptimizerRule>(_ rule: Rule, learningRate: Float, steps: Int = 5) throws -> [Float] {
        let store = try problem.makeStore()
        let optimizer = try Optimizer(store: store, rule: rule, learningRate: learningRate)
        for _ in 0..<steps { problem.step(optimizer, store) }
        XCTAssertEqual(optimizer.parameterSteps, [steps, steps])
        return Array(store.allValues)
    }

    /// Runs `update(θ, g, t)` (Double, one scalar at a time) for 5 steps from θ₀.
    private func reference(_ update: (inout Double, Double, Int, Int) -> Void) -> [Float] {
        var theta = theta0.map(Double.init)
        for t in 1...5 {
            for i in theta.indices { update(&theta[i], Double(curvature[i]) * theta[i], t, i) }
        }
        return theta.map { Float($0) }
    }

    private func assertClose(_ actual: [Float], _ expected: [Float], _ tolerance: Float, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        for (a, e) in zip(actual, expected) {
            XCTAssertEqual(a, e, accuracy: tolerance * max(1, abs(e)), "\(what): \(actual) vs \(expected)", file: file, line: line)
        }
    }

    func testSGDAgainstRecurrence() throws {
        assertClose(try run(SGD(), learningRate: 0.1), reference { theta, g, _, _ in theta -= 0.1 * g }, 1e-6, "plain SGD")

        let (mu, tau, lambda) = (0.9, 0.2, 0.01)
        var buffer = [Double](repeating: 0, count: 5)
        let momentum = reference { theta, g, t, i in
            let g = g + lambda * theta
            buffer[i] = t == 1 ? g : mu * buffer[i] + (1 - tau) * g
            theta -= 0.1 * buffer[i]
        }
        assertClose(try run(SGD(momentum: 0.9, dampening: 0.2, weightDecay: 0.01), learningRate: 0.1), momentum, 1e-5, "momentum")

        buffer = [Double](repeating: 0, count: 5)
        let nesterov = reference { theta, g, t, i in
            buffer[i] = t == 1 ? g : mu * buffer[i] + g
            theta -= 0.1 * (g + mu * buffer[i])
        }
        assertClose(try run(SGD(momentum: 0.9, nesterov: true), learningRate: 0.1), nesterov, 1e-5, "Nesterov")
    }

    func testAdamAndAdamWAgainstRecurrence() throws {
        let (beta1, beta2, epsilon, lambda, gamma) = (0.9, 0.999, 1e-8, 0.1, 0.05)
        for decoupled in [false, true] {
            var m = [Double](repeating: 0, count: 5), v = m
            let expected = reference { theta, g, t, i in
                var g = g
                if decoupled { theta *= 1 - gamma * lambda } else { g += lambda * theta }
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                let mHat = m[i] / (1 - pow(beta1, Double(t))), vHat = v[i] / (1 - pow(beta2, Double(t)))
                theta -= gamma * mHat / (vHat.squareRoot() + epsilon)
            }
            let actual = decoupled ? try run(AdamW(weightDecay: 0.1), learningRate: 0.05)
                                   : try run(Adam(weightDecay: 0.1), learningRate: 0.05)
            assertClose(actual, expected, 1e-5, decoupled ? "AdamW" : "Adam")
        }
    }

    func testRMSpropAgainstRecurrence() throws {
        let (alpha, epsilon, mu, lambda, gamma) = (0.9, 1e-8, 0.5, 0.01, 0.01)
        for (centered, momentum) in [(false, 0.0), (true, mu), (false, mu), (true, 0.0)] {
            var s = [Double](repeating: 0, count: 5), a = s, b = s
            let expected = reference { theta, g, _, i in
                let g = g + lambda * theta
                s[i] = alpha * s[i] + (1 - alpha) * g * g
                a[i] = alpha * a[i] + (1 - alpha) * g
                let denominator = (centered ? s[i] - a[i] * a[i] : s[i]).squareRoot() + epsilon
                b[i] = momentum * b[i] + g / denominator
                theta -= gamma * (momentum > 0 ? b[i] : g / denominator)
            }
            let rule = RMSprop(alpha: 0.9, momentum: Float(momentum), centered: centered, weightDecay: 0.01)
            assertClose(try run(rule, learningRate: 0.01), expected, 1e-5, "RMSprop centered \(centered) momentum \(momentum)")
        }
    }

    func testAdagradAgainstRecurrence() throws {
        let (eta, initial, lambda, gamma) = (0.05, 0.1, 0.01, 0.1)
        var sum = [Double](repeating: initial, count: 5)
        let expected = reference { theta, g, t, i in
            let g = g + lambda * theta
            sum[i] += g * g
            theta -= gamma / (1 + Double(t - 1) * eta) * g / (sum[i].squareRoot() + 1e-10)
        }
        let rule = Adagrad(learningRateDecay: 0.05, initialAccumulatorValue: 0.1, weightDecay: 0.01)
        assertClose(try run(rule, learningRate: 0.1), expected, 1e-5, "Adagrad")
    }

    /// Values printed by `scripts/optimizer_reference.py` (torch 2.15.0, float32), same problem and settings.
    func testMatchesPyTorch() throws {
        let torch: [String: [Float]] = [
            "sgd": [-0.018407484516501427, 0.5839561223983765, 0.8139030337333679, -0.07788480073213577, -0.20362991094589233],
            "sgdNesterov": [-0.05229082703590393, 0.41571754217147827, 0.6318846940994263, -0.03478522226214409, -0.18609465658664703],
            "adam": [0.2539818286895752, -0.7514778971672058, 1.7506338357925415, -0.05854750797152519, -0.05969079211354256],
            "adamW": [0.24436502158641815, -0.7293938398361206, 1.7037615776062012, -0.057947225868701935, -0.05518592894077301],
            "rmsprop": [0.3089820444583893, -0.8022452592849731, 1.7991913557052612, -0.015641383826732635, -0.119320347905159],
            "adagrad": [0.26150932908058167, -0.7190220952033997, 1.7154046297073364, 0.0007905062520876527, -0.20850031077861786],
        ]
        assertClose(try run(SGD(momentum: 0.9, weightDecay: 0.01), learningRate: 0.1), torch["sgd"]!, 1e-6, "sgd")
        assertClose(try run(SGD(momentum: 0.9, nesterov: true), learningRate: 0.1), torch["sgdNesterov"]!, 1e-6, "sgdNesterov")
        assertClose(try run(Adam(weightDecay: 0.1), learningRate: 0.05), torch["adam"]!, 1e-6, "adam")
        assertClose(try run(AdamW(weightDecay: 0.1), learningRate: 0.05), torch["adamW"]!, 1e-6, "adamW")
        assertClose(try run(RMSprop(alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 0.01), learningRate: 0.01),
                    torch["rmsprop"]!, 1e-6, "rmsprop")
        assertClose(try run(Adagrad(learningRateDecay: 0.05, initialAccumulatorValue: 0.1, weightDecay: 0.01), learningRate: 0.1),
                    torch["adagrad"]!, 1e-6, "adagrad")
    }

    func testInvalidHyperparametersThrow() throws {
        let store = try problem.makeStore()
        XCTAssertThrowsError(try Optimizer(store: store, rule: SGD(nesterov: true), learningRate: 0.1)) {
            XCTAssertEqual(($0 as? RNNError)?.message, "SGD: Nesterov momentum needs momentum > 0 and dampening 0")
        }
        XCTAssertThrowsError(try Optimizer(store: store, rule: Adam(beta1: 1), learningRate: 0.1))
        XCTAssertThrowsError(try Optimizer(store: store, rule: AdamW(weightDecay: -1), learningRate: 0.1))
        XCTAssertThrowsError(try Optimizer(store: store, rule: Adagrad(epsilon: .nan), learningRate: 0.1))
        XCTAssertEqual(SGD().slotNames, [])
        XCTAssertEqual(AdamW().weightDecay, 0.01, "PyTorch's AdamW default")
    }
}
