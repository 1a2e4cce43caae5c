import Foundation

// The elementary functions of a `Value`, each with its derivative written the way the
// tutorials derive it (σ' = σ(1 − σ), tanh' = 1 − tanh²), from the result where possible.

extension Value {
    /// `eᵃ`: ∂/∂a = eᵃ (the result itself).
    public func exp() -> Value {
        Value(Foundation.exp(data), op: .exp, parents: [self]) { out in [out.data] }
    }

    /// `log a` (natural): ∂/∂a = 1/a.
    public func log() -> Value {
        Value(Foundation.log(data), op: .log, parents: [self]) { out in [1 / out.parents[0].data] }
    }

    /// `σ(a) = 1/(1 + e⁻ᵃ)`: ∂/∂a = σ(a)(1 − σ(a)).
    public func sigmoid() -> Value {
        Value(Activation.sigmoid.value(data), op: .sigmoid, parents: [self]) { out in
            [out.data * (1 - out.data)]
        }
    }

    /// `ReLU(a) = max(0, a)`: ∂/∂a = 1 if a > 0, else 0 (0 at the kink, as the backends do).
    public func relu() -> Value {
        Value(data > 0 ? data : 0, op: .relu, parents: [self]) { out in
            [out.parents[0].data > 0 ? 1 : 0]
        }
    }

    /// `tanh a`: ∂/∂a = 1 − tanh²(a).
    public func tanh() -> Value {
        Value(Foundation.tanh(data), op: .tanh, parents: [self]) { out in
            [1 - out.data * out.data]
        }
    }

    /// `log(1 + eᵃ)`, computed without overflow: ∂/∂a = σ(a). Binary cross-entropy from the
    /// pre-activation needs it (−log σ(a) = softplus(−a)).
    public func softplus() -> Value {
        let y = Swift.max(data, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(data)))
        return Value(y, op: .softplus, parents: [self]) { out in
            [Activation.sigmoid.value(out.parents[0].data)]
        }
    }

    /// The network activation `g(a)` (softmax is not elementwise: see ``GraphNetwork``).
    public func activated(_ g: Activation) -> Value {
        switch g {
        case .identity, .softmax: self
        case .sigmoid: sigmoid()
        case .relu: relu()
        case .tanh: tanh()
        }
    }

    /// The operation written with its operands' labels: `"x + y"`, `"q·z"`, `"s²"`, `"exp(z)"`.
    /// An operand without a label is written as its value.
    public var formula: String {
        let names = parents.map { $0.label.isEmpty ? formatNumber($0.data) : $0.label }
        switch op {
        case .leaf: return label.isEmpty ? formatNumber(data) : label
        case .add, .subtract, .divide: return names.joined(separator: " \(op.symbol) ")
        case .multiply: return names.joined(separator: "·")
        case .sum: return names.joined(separator: " + ")
        case .negate: return "−" + names[0]
        case let .power(k): return names[0] + (superscript(formatNumber(k)) ?? "^" + formatNumber(k))
        case .exp, .log, .sigmoid, .relu, .tanh, .softplus: return "\(op.symbol)(\(names[0]))"
        }
    }

    /// `∂self/∂parents[i]` as formulas in the operands' names, matching `localDerivatives`:
    /// for `q·z`, `["z", "q"]`; for `s²`, `["2s"]`; for `exp(z)`, `["exp(z)"]`.
    public var localDerivativeFormulas: [String] {
        let names = parents.map { $0.label.isEmpty ? formatNumber($0.data) : $0.label }
        let me = label.isEmpty ? formula : label
        switch op {
        case .leaf: return []
        case .add, .sum: return names.map { _ in "1" }
        case .subtract: return ["1", "−1"]
        case .multiply: return [names[1], names[0]]
        case .divide: return ["1/\(names[1])", "−\(names[0])/\(names[1])²"]
        case .negate: return ["−1"]
        case .exp: return [me]
        case .log: return ["1/\(names[0])"]
        case .sigmoid: return ["\(me)(1 − \(me))"]
        case .relu: return ["1 if \(names[0]) > 0, else 0"]
        case .tanh: return ["1 − \(me)²"]
        case .softplus: return ["σ(\(names[0]))"]
        case let .power(k):
            let power = k - 1 == 1 ? "" : (superscript(formatNumber(k - 1)) ?? "^" + formatNumber(k - 1))
            return ["\(formatNumber(k))\(names[0])\(power)"]
        }
    }
}
