/// An elementwise nonlinearity `a = σ(z)`, or softmax over each column for the output layer.
public enum Activation: String, CaseIterable, Sendable, Codable {
    /// g(z) = z; g'(z) = 1 (a linear layer).
    case identity
    /// σ(z) = 1 / (1 + e⁻ᶻ); σ'(z) = σ(z)(1 − σ(z)).
    case sigmoid
    /// g(z) = max(0, z); g'(z) = 1 if z > 0, else 0 (the subgradient at 0 is taken as 0).
    case relu
    /// tanh(z); tanh'(z) = 1 − tanh²(z).
    case tanh
    /// softmax(z)ᵢ = e^{zᵢ} / Σⱼ e^{zⱼ}, per column. Output layer only, with cross-entropy.
    case softmax

    /// Activations a hidden layer may use.
    public static let hidden: [Activation] = [.relu, .sigmoid, .tanh, .identity]

    /// Scalar reference implementation in Double (used by oracles and explanations).
    public func value(_ z: Double) -> Double {
        switch self {
        case .identity, .softmax: z
        case .sigmoid: 1 / (1 + _exp(-z))
        case .relu: z > 0 ? z : 0
        case .tanh: _tanh(z)
        }
    }

    /// σ'(z) in Double (softmax has no elementwise derivative; returns 1).
    public func derivative(_ z: Double) -> Double {
        switch self {
        case .identity, .softmax: 1
        case .sigmoid: value(z) * (1 - value(z))
        case .relu: z > 0 ? 1 : 0
        case .tanh: 1 - _tanh(z) * _tanh(z)
        }
    }
}

/// A cost function `C = (1/n)·Σₓ Cₓ` over a batch of `n` samples.
public enum Loss: String, CaseIterable, Sendable, Codable {
    /// Cₓ = ½‖a − y‖² (the quadratic cost); ∇ₐCₓ = a − y. Any output activation.
    case squaredError = "mse"
    /// Softmax output with Cₓ = −Σₖ yₖ log aₖ; fused: δᴸ = a − y, computed stably with log-sum-exp.
    case softmaxCrossEntropy = "cross-entropy"
    /// Sigmoid outputs with Cₓ = −Σₖ [yₖ log aₖ + (1 − yₖ) log(1 − aₖ)]; fused: δᴸ = a − y.
    case binaryCrossEntropy = "bce"

    /// True when the loss gradient already includes the output activation's derivative,
    /// so the network must not multiply by σ'(zᴸ) again.
    public var fusesOutputDerivative: Bool { self != .squaredError }

    /// The output activation a fused loss requires, or nil when any will do.
    public var requiredOutputActivation: Activation? {
        switch self {
        case .squaredError: nil
        case .softmaxCrossEntropy: .softmax
        case .binaryCrossEntropy: .sigmoid
        }
    }
}
