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
    public private(set) var step = 0

    /// The step size η used by the next updates (a schedule lowers it between epochs).
    public var learningRate: Float {
        get { configuration.learningRate }
        set { configuration.learningRate = newValue }
    }
    private let network: Network
    /// Every parameter tensor with its gradient, in order (weight and bias of each layer), and
    /// whether weight decay applies to it (weights yes, biases no). Built once, not per step.
    private let tensors: [(Matrix, Matrix, Bool)]
    /// Per parameter tensor (weight and bias of each layer, in order): optimizer state.
    private let first: [Matrix]
    private let second: [Matrix]

    /// An optimizer for `network`'s parameters, with zeroed state on its backend (a velocity
    /// per parameter for momentum, two moments for Adam); throws when `configuration` is invalid.
    public init(_ configuration: OptimizerConfiguration, for network: Network) throws {
        try configuration.validate()
        self.configuration = configuration
        self.network = network
        tensors = network.layers.flatMap { [($0.weight, $0.weightGradient, true), ($0.bias, $0.biasGradient, false)] }
        let backend = network.backend
        let shapes = network.layers.flatMap { [$0.weight.shape, $0.bias.shape] }
        let needsFirst = configuration.kind != .sgd, needsSecond = configuration.kind == .adam
        first = needsFirst ? try shapes.map { try backend.makeMatrix(rows: $0.rows, cols: $0.cols) } : []
        second = needsSecond ? try shapes.map { try backend.makeMatrix(rows: $0.rows, cols: $0.cols) } : []
    }

    /// θ ← update(θ, ∂C/∂θ) for every weight and bias, using the gradients of the last backward pass.
    public func update() throws {
        step += 1
        let c = configuration, backend = network.backend
        for (k, (theta, gradient, decays)) in tensors.enumerated() {
            let decay = decays ? c.weightDecay : 0
            switch c.kind {
            case .sgd:
                try backend.sgdStep(parameters: theta, gradient: gradient, learningRate: c.learningRate,
                                    weightDecay: decay)
            case .momentum:
                try backend.momentumStep(parameters: theta, gradient: gradient, velocity: first[k],
                                         learningRate: c.learningRate, momentum: c.momentum,
                                         weightDecay: decay)
            case .adam:
                try backend.adamStep(parameters: theta, gradient: gradient, m: first[k], v: second[k],
                                     learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2,
                                     epsilon: c.epsilon, step: step, weightDecay: decay)
            }
        }
    }
}
