import Foundation

/// Gradient-descent update rules. Weight decay (L2, `λ`) is applied to weights, not biases.
public enum OptimizerKind: String, CaseIterable, Sendable, Codable {
    /// θ ← θ − η·∇θ
    case sgd
    /// v ← μ·v + ∇θ;  θ ← θ − η·v
    case momentum
    /// Adam (Kingma & Ba, 2015) with bias-corrected moments.
    case adam

    /// A learning rate that works for typical MLPs with this rule.
    public var defaultLearningRate: Float {
        switch self {
        case .sgd: 0.1
        case .momentum: 0.01
        case .adam: 0.001
        }
    }
}

/// An update rule and its hyperparameters.
public struct OptimizerConfiguration: Sendable, Equatable, Codable {
    /// The update rule.
    public var kind: OptimizerKind
    /// Step size `η`.
    public var learningRate: Float
    /// `μ` of ``OptimizerKind/momentum``: the fraction of the velocity kept each step.
    public var momentum: Float = 0.9
    /// Adam's `β₁`: decay of the first-moment (mean) estimate.
    public var beta1: Float = 0.9
    /// Adam's `β₂`: decay of the second-moment (uncentred variance) estimate.
    public var beta2: Float = 0.999
    /// Adam's `ε`, added to `√v̂` so the step stays finite.
    public var epsilon: Float = 1e-8
    /// L2 coefficient `λ`: `λθ` is added to each weight's gradient (not to biases).
    public var weightDecay: Float = 0

    /// A rule with its default hyperparameters; `learningRate` defaults to the rule's
    /// ``OptimizerKind/defaultLearningRate``.
    public init(kind: OptimizerKind, learningRate: Float? = nil, weightDecay: Float = 0) {
        self.kind = kind
        self.learningRate = learningRate ?? kind.defaultLearningRate
        self.weightDecay = weightDecay
    }

    /// Throws ``TrainingError/invalidOption(_:)`` unless `η > 0`, `λ ≥ 0` (both finite) and
    /// `0 ≤ μ < 1`.
    public func validate() throws {
        guard learningRate > 0, learningRate.isFinite else {
            throw TrainingError.invalidOption("learning rate must be a positive number, got \(learningRate)")
        }
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw TrainingError.invalidOption("weight decay must be zero or positive, got \(weightDecay)")
        }
        guard momentum >= 0, momentum < 1 else {
            throw TrainingError.invalidOption("momentum must be in [0, 1), got \(momentum)")
        }
    }
}

/// Applies one update to every parameter of a network, keeping its state (velocities, moments)
/// on the network's backend.
public final class Optimizer {
    /// The rule and hyperparameters; only the learning rate changes after creation.
    public private(set) var configuration: OptimizerConfiguration
    /// Updates applied so far: Adam's `t` of the last update (its bias corrections use it).
    public internal(set) var step = 0
    /// Sets the learning rate of every update from the step count; nil keeps ``learningRate``.
    public var schedule: LearningRateSchedule?

    /// The step size η of the last update (a ``schedule`` sets it before each update).
    public var learningRate: Float {
        get { configuration.learningRate }
        set { configuration.learningRate = newValue }
    }
    let network: Network
    /// Every parameter tensor with its gradient, in order (weight and bias of each layer), and
    /// whether weight decay applies to it (weights yes, biases no). Built once, not per step.
    private let tensors: [(Matrix, Matrix, Bool)]
    /// The optimizer state, laid out as the network's parameters: velocity or Adam's `m`
    /// (``firstBuffer``), Adam's `v` (``secondBuffer``).
    let firstBuffer: ParameterBuffer?
    let secondBuffer: ParameterBuffer?
    /// Per parameter tensor (weight and bias of each layer, in order): optimizer state.
    let first: [Matrix]
    let second: [Matrix]
    /// The weights' ranges of the whole parameter buffer (the padding after each included),
    /// where weight decay applies.
    private let weightRanges: [Range<Int>]
    /// What ``update()`` updates: one range of the parameter buffer in one backend call (the
    /// whole buffer, or in a sharded data-parallel step the part this process owns: views of
    /// the parameters, gradient and state there, and the weights' ranges within it), nothing
    /// (an empty part), or each tensor in turn (a backend with no views).
    private var portion = Portion.tensors
    private enum Portion {
        case range(parameters: Matrix, gradient: Matrix, first: Matrix?, second: Matrix?, weightRanges: [Range<Int>])
        case none
        case tensors
    }

    /// An optimizer for `network`'s parameters, with zeroed state on its backend (a velocity
    /// per parameter for momentum, two moments for Adam); throws when `configuration` is invalid.
    public init(_ configuration: OptimizerConfiguration, for network: Network) throws {
        try configuration.validate()
        self.configuration = configuration
        self.network = network
        tensors = network.layers.flatMap { [($0.weight, $0.weightGradient, true), ($0.bias, $0.biasGradient, false)] }
        let backend = network.backend, layout = network.parameterBuffer
        let needsFirst = configuration.kind != .sgd, needsSecond = configuration.kind == .adam
        firstBuffer = needsFirst ? try ParameterBuffer(backend: backend, like: layout) : nil
        secondBuffer = needsSecond ? try ParameterBuffer(backend: backend, like: layout) : nil
        // The buffers hold every weight, then every bias: tensor order (weight, bias per layer).
        let L = network.layers.count
        let order = (0..<L).flatMap { [$0, L + $0] }
        first = firstBuffer.map { b in order.map { b.tensors[$0] } } ?? []
        second = secondBuffer.map { b in order.map { b.tensors[$0] } } ?? []
        // The weights' ranges, adjacent ones merged: one range, from 0 to the first bias.
        weightRanges = layout.paddedRanges(Array(0..<L)).reduce(into: []) { merged, r in
            if let last = merged.last, last.upperBound == r.lowerBound {
                merged[merged.count - 1] = last.lowerBound..<r.upperBound
            } else {
                merged.append(r)
            }
        }
        portion = try updates(over: nil)
    }

    /// The rule of the next update, Adam's bias corrections for step `t` in Float on the host.
    private func rule(step t: Int) -> UpdateRule {
        let c = configuration
        switch c.kind {
        case .sgd: return .sgd(learningRate: c.learningRate, weightDecay: c.weightDecay)
        case .momentum: return .momentum(learningRate: c.learningRate, momentum: c.momentum, weightDecay: c.weightDecay)
        case .adam:
            return .adam(learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon,
                         c1: 1 - powf(c.beta1, Float(t)), c2: 1 - powf(c.beta2, Float(t)), weightDecay: c.weightDecay)
        }
    }

    /// θ ← update(θ, ∂C/∂θ) for every weight and bias, using the gradients of the last backward
    /// pass: one backend call over the whole parameter buffer where the backend makes views,
    /// else one per tensor.
    public func update() throws {
        step += 1
        if let schedule { configuration.learningRate = schedule.rate(atStep: step) }
        let backend = network.backend, rule = rule(step: step)
        switch portion {
        case let .range(p, g, first, second, weights):
            try backend.updateParameters(rule, parameters: p, gradient: g, first: first, second: second,
                                         decayed: rule.weightDecay == 0 ? [] : weights)
            return
        case .none: return
        case .tensors: break
        }
        let first = first, second = second
        for (k, (theta, gradient, decays)) in tensors.enumerated() {
            try backend.updateParameters(rule, parameters: theta, gradient: gradient, first: first.isEmpty ? nil : first[k],
                                         second: second.isEmpty ? nil : second[k],
                                         decayed: decays && rule.weightDecay != 0 ? [0..<theta.count] : [])
        }
    }

    /// From now on ``update()`` updates only `range` of the parameter buffer (the shard of this
    /// process in a sharded data-parallel step: the group gathers the others), or everything
    /// when `range` is nil. Throws ``TrainingError/invalidOption(_:)`` when the buffers are not
    /// one view-able buffer each.
    func restrict(to range: Range<Int>?) throws {
        let made = try updates(over: range)
        if range != nil, case .tensors = made {
            throw TrainingError.invalidOption("a sharded update needs the parameters in one buffer (a backend with views)")
        }
        portion = made
    }

    /// The portion of ``update()`` over `range` of the buffers (nil: all of them); `.tensors`
    /// when they are not one view-able buffer each.
    private func updates(over range: Range<Int>?) throws -> Portion {
        guard let p = network.parameterBuffer.whole, let g = network.gradientBuffer.whole,
              (firstBuffer == nil) == (firstBuffer?.whole == nil), (secondBuffer == nil) == (secondBuffer?.whole == nil) else {
            return .tensors
        }
        guard let range else {
            return .range(parameters: p, gradient: g, first: firstBuffer?.whole, second: secondBuffer?.whole,
                          weightRanges: weightRanges)
        }
        guard !range.isEmpty else { return .none }
        let backend = network.backend
        func slice(_ buffer: ParameterBuffer?) throws -> Matrix? { try buffer?.slice(range, on: backend) }
        let weights = weightRanges.compactMap { w -> Range<Int>? in
            let part = w.clamped(to: range)
            return part.isEmpty ? nil : (part.lowerBound - range.lowerBound)..<(part.upperBound - range.lowerBound)
        }
        guard let part = try slice(network.parameterBuffer), let partGradient = try slice(network.gradientBuffer) else {
            return .tensors
        }
        return .range(parameters: part, gradient: partGradient, first: try slice(firstBuffer), second: try slice(secondBuffer),
                      weightRanges: weights)
    }
}
