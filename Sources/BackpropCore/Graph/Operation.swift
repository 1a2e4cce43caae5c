/// The operation that made a ``Value``. Its `symbol` is what the graph and the worked examples
/// print; the cases, not the symbols, decide how a formula or a local derivative is written.
public enum Operation: Equatable, Sendable, CustomStringConvertible {
    /// An input, a parameter or a constant: no operation.
    case leaf
    /// Arithmetic on two operands, `a + b`, `a − b`, `a·b`, `a / b`, or one, `−a`.
    case add, subtract, multiply, divide, negate
    /// `aᵏ` for a constant exponent `k`.
    case power(Double)
    /// `Σᵢ aᵢ` over any number of operands, as one node.
    case sum
    /// A function of one operand: `eᵃ`, `ln a`, `σ(a) = 1/(1 + e⁻ᵃ)`, `max(a, 0)`, `tanh a`,
    /// `softplus(a) = ln(1 + eᵃ)`.
    case exp, log, sigmoid, relu, tanh, softplus

    /// How the operation is written: `+`, `·`, `σ`, `^2`, …; empty for a leaf.
    public var symbol: String {
        switch self {
        case .leaf: ""
        case .add: "+"
        case .subtract: "−"
        case .multiply: "·"
        case .divide: "/"
        case .negate: "neg"
        case let .power(k): "^" + formatNumber(k)
        case .sum: "Σ"
        case .exp: "exp"
        case .log: "log"
        case .sigmoid: "σ"
        case .relu: "ReLU"
        case .tanh: "tanh"
        case .softplus: "softplus"
        }
    }

    /// The ``symbol``.
    public var description: String { symbol }
}
