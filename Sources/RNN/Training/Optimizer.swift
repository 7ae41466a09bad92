import RNNCore

/// The state slots of one parameter handed to an update rule: slot k of this parameter's first
/// scalar is at `base + k · stride`. Every slot is a flat array aligned with the store's
/// `allValues`, so `slot(k)[i]` belongs to the same scalar as `values[i]`.
public struct OptimizerSlots {
    @usableFromInline let base: UnsafeMutablePointer<Float>
    @usableFromInline let stride: Int

    @inlinable
    public func slot(_ index: Int) -> UnsafeMutablePointer<Float> { base + index * stride }
}

/// One optimizer's update rule and hyperparameters, as a value type. The rule only writes the
/// arithmetic for one parameter's contiguous block; `Optimizer` does the bookkeeping (state
/// buffers, per-parameter step counts, frozen parameters, import and export).
public protocol OptimizerRule: Sendable {
    /// Prefix of the exported state names, e.g. `adam` → `adam.exp_avg`, `adam.step`.
    var stateName: String { get }
    /// Names of the per-scalar state slots (PyTorch's names, e.g. `exp_avg`, `exp_avg_sq`).
    var slotNames: [String] { get }
    /// Value each slot starts at (0 unless the rule says otherwise).
    func initialValue(ofSlot index: Int) -> Float
    /// Throws one line naming a hyperparameter out of range.
    func validate() throws
    /// Updates `count` values in place from their gradients.
    /// - Parameter step: this parameter's step number, 1 for its first update (PyTorch's `step`).
    func update(values: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, count: Int,
                slots: OptimizerSlots, learningRate: Float, step: Int)
}

extension OptimizerRule {
    public func initialValue(ofSlot index: Int) -> Float { 0 }
}

/// An optimizer as the training loop sees it, whatever its rule.
public protocol TrainingOptimizer: AnyObject {
    /// The learning rate of the next `step()`; learning-rate schedules set it.
    var learningRate: Float { get set }
    /// Applies one update to every trainable parameter from the store's gradients.
    func step()
    /// Step counts and state slots as named tensors (see `Optimizer.stateTensors()`).
    func stateTensors() -> [(name: String, tensor: Tensor)]
    /// Restores what `stateTensors()` exported.
    func loadState(_ tensors: [(name: String, tensor: Tensor)]) throws
}

/// Applies an `OptimizerRule` to every trainable parameter of a `ParameterStore`.
///
/// State lives in one buffer of `slotNames.count × scalarCount` floats (each slot aligned with
/// `allValues`) plus one step count per parameter. Frozen parameters are skipped and their step
/// does not advance, so a parameter unfrozen later resumes its own count (from 1 if it was never
/// trained), as PyTorch does for a parameter whose gradient was `None`. Unlike PyTorch, a
/// trainable parameter that received no gradient this step (all zeros, not `None`) is still
/// updated: momentum and weight decay keep acting on it.
///
///     let optimizer = try Optimizer(store: store, rule: Adam(), learningRate: 1e-3)
///     store.zeroGradients(); /* forward, backward */; optimizer.step()
public final class Optimizer<Rule: OptimizerRule>: TrainingOptimizer {
    public let store: ParameterStore
    public let rule: Rule
    public var learningRate: Float
    /// Updates applied to each parameter so far, aligned with `store.parameters`.
    public private(set) var parameterSteps: [Int]
    private let state: FloatBuffer
    private let scalarCount: Int

    /// Builds the optimizer for every parameter registered in `store` so far.
    public init(store: ParameterStore, rule: Rule, learningRate: Float) throws {
        try rule.validate()
        guard learningRate >= 0, learningRate.isFinite else {
            throw RNNError("optimizer: learning rate must be finite and >= 0, got \(learningRate)")
        }
        self.store = store
        self.rule = rule
        self.learningRate = learningRate
        self.scalarCount = store.scalarCount
        self.parameterSteps = Array(repeating: 0, count: store.parameters.count)
        let slotCount = rule.slotNames.count
        self.state = FloatBuffer(capacity: slotCount * store.scalarCount)
        for slot in 0..<slotCount {
            (state.pointer + slot * scalarCount).update(repeating: rule.initialValue(ofSlot: slot), count: scalarCount)
        }
    }

    public func step() {
        precondition(store.scalarCount == scalarCount && store.parameters.count == parameterSteps.count,
                     "optimizer built for \(scalarCount) scalars, the store now has \(store.scalarCount): build the optimizer after the model")
        let values = store.allValues.baseAddress!, gradients = store.allGradients.baseAddress!
        for (index, parameter) in store.parameters.enumerated() where !store.isFrozen(parameter) {
            parameterSteps[index] += 1
            rule.update(values: values + parameter.offset, gradients: gradients + parameter.offset,
                        count: parameter.count,
                        slots: OptimizerSlots(base: state.pointer + parameter.offset, stride: scalarCount),
                        learningRate: learningRate, step: parameterSteps[index])
        }
    }

    /// `step()` on the scalars `range` of the store only (a distributed rank's shard, see
    /// `Trainer+Distributed.swift`): the same arithmetic per scalar, and every trainable
    /// parameter's step count advances as in `step()`, so ranks that cover the buffer between
    /// them stay in agreement. Parameters may straddle the range's ends.
    public func step(scalars range: Range<Int>) {
        precondition(store.scalarCount == scalarCount && store.parameters.count == parameterSteps.count && range.upperBound <= scalarCount)
        let values = store.allValues.baseAddress!, gradients = store.allGradients.baseAddress!
        for (index, parameter) in store.parameters.enumerated() where !store.isFrozen(parameter) {
            parameterSteps[index] += 1
            let lower = max(parameter.offset, range.lowerBound), upper = min(parameter.offset + parameter.count, range.upperBound)
            guard lower < upper else { continue }
            rule.update(values: values + lower, gradients: gradients + lower, count: upper - lower,
                        slots: OptimizerSlots(base: state.pointer + lower, stride: scalarCount),
                        learningRate: learningRate, step: parameterSteps[index])
        }
    }

    /// The state slots in place, each `scalarCount` floats aligned with `allValues` (a
    /// distributed run gathers each rank's part of them before a checkpoint).
    public var stateSlots: [UnsafeMutableBufferPointer<Float>] {
        (0..<rule.slotNames.count).map { UnsafeMutableBufferPointer(start: state.pointer + $0 * scalarCount, count: scalarCount) }
    }

    /// One slot of state, flat and aligned with `allValues` (e.g. `slot(named: "exp_avg")`).
    public func slot(named name: String) -> [Float]? {
        rule.slotNames.firstIndex(of: name).map {
            Array(UnsafeBufferPointer(start: state.pointer + $0 * scalarCount, count: scalarCount))
        }
    }

    /// `<stateName>.step`: shape (P,), the step count of each parameter in store order (Float32,
    /// exact up to 2²⁴ steps); then `<stateName>.<slot>`: shape (scalarCount,) per slot.
    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        var steps = Tensor(shape: [parameterSteps.count])
        steps.scalars = parameterSteps.map(Float.init)
        var tensors = [(name: "\(rule.stateName).step", tensor: steps)]
        for (slot, name) in rule.slotNames.enumerated() {
            tensors.append((name: "\(rule.stateName).\(name)",
                            tensor: Tensor(shape: [scalarCount], copying: state.pointer + slot * scalarCount)))
        }
        return tensors
    }

    /// Restores state exported by an optimizer with the same rule over a store of the same
    /// layout. Names, sizes, whole non-negative step counts and finiteness are checked; nothing is
    /// changed unless everything matches. Tensors with other prefixes (model weights, another
    /// optimizer) are ignored; an unknown slot with this rule's prefix is an error, since it means
    /// the checkpoint's optimizer was configured differently (e.g. with momentum).
    public func loadState(_ tensors: [(name: String, tensor: Tensor)]) throws {
        let byName = Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        func named(_ suffix: String, count: Int) throws -> Tensor {
            let name = "\(rule.stateName).\(suffix)"
            guard let tensor = byName[name] else {
                throw RNNError("optimizer state: missing '\(name)' (is this a \(rule.stateName) checkpoint?)")
            }
            guard tensor.count == count else {
                throw RNNError("optimizer state: '\(name)' has \(tensor.count) values, this model needs \(count)")
            }
            guard tensor.scalars.allSatisfy(\.isFinite) else {
                throw RNNError("optimizer state: '\(name)' holds NaN or infinite values")
            }
            return tensor
        }
        let known = (["step"] + rule.slotNames).map { "\(rule.stateName).\($0)" }
        if let unknown = byName.keys.sorted().first(where: { $0.hasPrefix("\(rule.stateName).") && !known.contains($0) }) {
            throw RNNError("optimizer state: unexpected '\(unknown)' (the checkpoint's \(rule.stateName) was configured differently; expected \(known.sorted().joined(separator: ", ")))")
        }
        let steps = try named("step", count: parameterSteps.count)
        guard steps.scalars.allSatisfy({ $0 >= 0 && $0.rounded() == $0 }) else {
            throw RNNError("optimizer state: '\(rule.stateName).step' must hold whole numbers >= 0")
        }
        let slots = try rule.slotNames.map { try named($0, count: scalarCount) }
        parameterSteps = steps.scalars.map { Int($0) }
        for (index, tensor) in slots.enumerated() {
            tensor.withUnsafeBufferPointer { source in
                guard let base = source.baseAddress else { return }
                (state.pointer + index * scalarCount).update(from: base, count: scalarCount)
            }
        }
    }
}
