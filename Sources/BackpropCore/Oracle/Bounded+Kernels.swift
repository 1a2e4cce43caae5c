import Foundation

/// The formulas of the backends' elementwise kernels (`Kernels/*.cl`, `CPUKernels`,
/// `CPUBackend`), written once over ``Bounded`` operands: the exact value of each and the bound
/// of its float32 evaluation on the given data.
extension Activation {
    /// `σ(z)` for every activation but softmax (see ``boundedSoftmax(_:)``).
    func bounded(_ z: Bounded) -> Bounded {
        switch self {
        case .identity, .softmax: z
        case .sigmoid: 1 / (1 + (-z).exp())
        case .relu: z.relu()
        case .tanh: z.tanh()
        }
    }

    /// `δ = g ⊙ σ'(z)` as the kernels compute it, from `z` and `a = σ(z)`.
    func boundedBackward(upstream g: Bounded, z: Bounded, a: Bounded) -> Bounded {
        switch self {
        case .identity, .softmax: g
        case .sigmoid: g * (a * (1 - a))
        case .relu: Bounded.select(ifPositive: z, g)
        case .tanh: g * (1 - a * a)
        }
    }

    /// `aᵢ = e^{zᵢ − m}·(1/Σⱼ e^{zⱼ − m})` over one column, `m = max z` (exact: both backends
    /// take the same maximum of the same values, or of values within their errors).
    static func boundedSoftmax(_ z: [Bounded]) -> [Bounded] {
        let m = Bounded(z.map(\.value).max() ?? 0, error: z.map(\.error).max() ?? 0)
        let e = z.map { ($0 - m).exp() }
        let inverse = 1 / Bounded.sum(e)
        return e.map { $0 * inverse }
    }
}

extension Loss {
    /// `Σₓ Cₓ` over a batch (`classes × n`, column-major) as the loss kernels compute it, from
    /// the pre-activations `z`, output activations `a` and targets `y`.
    func boundedSum(z: [Bounded], a: [Bounded], targets y: [Float], classes: Int) -> Bounded {
        switch self {
        case .squaredError:
            return Bounded.sum(zip(a, y).map { a, y in
                let d = a - Bounded(y)
                return 0.5 * d * d
            })
        case .softmaxCrossEntropy:
            let columns = stride(from: 0, to: z.count, by: classes).map { start in
                let zc = z[start..<(start + classes)]
                let m = Bounded(zc.map(\.value).max() ?? 0, error: zc.map(\.error).max() ?? 0)
                let logSumExp = m + Bounded.sum(zc.map { ($0 - m).exp() }).log()
                return Bounded.sum(zc.indices.filter { y[$0] != 0 }.map { Bounded(y[$0]) * (logSumExp - z[$0]) })
            }
            return Bounded.sum(columns)
        case .binaryCrossEntropy:
            return Bounded.sum(zip(z, y).map { x, y in
                x.relu() - x * Bounded(y) + (-x.absoluteValue()).exp().log1p()
            })
        }
    }

    /// The loss kernels' gradient `(a − y)·(1/n)`, before any `⊙ σ'(zᴸ)` the network applies.
    static func boundedGradient(a: Bounded, target y: Float, meanOver n: Int) -> Bounded {
        (a - Bounded(y)) * (1 / Bounded(Double(n)))
    }
}

/// One parameter and its optimizer state, updated by the optimizer kernels' formulas
/// (`Kernels/optimizers.cl`, `bp_sgd`/`bp_momentum`/`bp_adam`).
struct OptimizerState {
    var parameter: Bounded
    /// Momentum's velocity, or Adam's first moment.
    var first = Bounded.zero
    /// Adam's second moment.
    var second = Bounded.zero

    /// `θ ← θ − η·(g + λθ)`
    mutating func sgd(gradient g: Bounded, learningRate: Float, weightDecay: Float) {
        parameter = parameter - Bounded(learningRate) * (g + Bounded(weightDecay) * parameter)
    }

    /// `v ← μ·v + (g + λθ)`, `θ ← θ − η·v`
    mutating func momentum(gradient g: Bounded, learningRate: Float, momentum: Float, weightDecay: Float) {
        first = Bounded(momentum) * first + (g + Bounded(weightDecay) * parameter)
        parameter = parameter - Bounded(learningRate) * first
    }

    /// Adam with the bias corrections `c = 1 − βᵗ` that both backends compute on the host in
    /// float32 by the same expression (so they enter as shared inputs).
    mutating func adam(gradient g: Bounded, learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
                       step t: Int, weightDecay: Float) {
        let c1 = Bounded(1 - powf(beta1, Float(t))), c2 = Bounded(1 - powf(beta2, Float(t)))
        let (b1, b2) = (Bounded(beta1), Bounded(beta2))
        let gi = g + Bounded(weightDecay) * parameter
        first = b1 * first + (1 - b1) * gi
        second = b2 * second + (1 - b2) * gi * gi
        parameter = parameter - Bounded(learningRate) * (first / c1) / ((second / c2).squareRoot() + Bounded(epsilon))
    }
}
