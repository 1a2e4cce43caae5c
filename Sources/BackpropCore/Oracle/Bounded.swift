import Foundation

/// A value computed in Double from the inputs of a float32 computation, with a bound on how far
/// *any* float32 evaluation of the same formula can land from it: `|fl(f) − f| ≤ error`.
///
/// Each operation propagates the operands' errors (exactly, for the interval they span, not
/// to first order) and adds one rounding of the result (see ``Float32Rounding``). Writing a
/// kernel's formula with `Bounded` operands gives the bound of that kernel on that data; where
/// backends may evaluate differently (a fused multiply-add, `e·(1/s)` for `e/s`), the formula
/// with more roundings is the one written, and its bound covers the other.
public struct Bounded: Sendable, CustomStringConvertible {
    public var value: Double
    public var error: Double

    public init(_ value: Double, error: Double = 0) {
        self.value = value
        self.error = error
    }

    public static let zero = Bounded(0.0)

    /// A float32 input: exact.
    public init(_ value: Float) { self.init(Double(value)) }

    public var description: String { "\(value) ± \(error)" }

    /// `|x̂| ≤ magnitude` for every evaluation `x̂`.
    public var magnitude: Double { abs(value) + error }

    /// `f(x)` whose inputs already carry `propagated`, rounded once by `operation`.
    static func rounded(_ value: Double, propagated: Double,
                        _ operation: Float32Rounding.Operation = .basic) -> Bounded {
        let rounding = operation.relative * (abs(value) + propagated) + Float32Rounding.eta
        return Bounded(value, error: propagated + rounding)
    }

    public static func + (a: Bounded, b: Bounded) -> Bounded {
        rounded(a.value + b.value, propagated: a.error + b.error)
    }

    public static func - (a: Bounded, b: Bounded) -> Bounded {
        rounded(a.value - b.value, propagated: a.error + b.error)
    }

    public static prefix func - (a: Bounded) -> Bounded { Bounded(-a.value, error: a.error) }

    public static func * (a: Bounded, b: Bounded) -> Bounded {
        rounded(a.value * b.value, propagated: abs(a.value) * b.error + abs(b.value) * a.error + a.error * b.error)
    }

    /// Division rounded to 2.5 ulp (OpenCL's default accuracy).
    public static func / (a: Bounded, b: Bounded) -> Bounded {
        let v = a.value / b.value, room = abs(b.value) - b.error
        let propagated = room > 0 ? (a.error + abs(v) * b.error) / room : .infinity
        return rounded(v, propagated: propagated, .divide)
    }

    /// `|√x̂ − √x| = |x̂ − x| / (√x̂ + √x)`.
    public func squareRoot() -> Bounded {
        let v = value.squareRoot()
        let low = max(value - error, 0).squareRoot()
        let propagated = error == 0 ? 0 : min(error.squareRoot(), error / (v + low))
        return Self.rounded(v, propagated: propagated, .sqrt)
    }

    public func exp() -> Bounded {
        let v = _exp(value)
        return Self.rounded(v, propagated: v * expm1(error), .exp)
    }

    public func log() -> Bounded {
        let propagated = error < value ? -Foundation.log1p(-error / value) : .infinity
        return Self.rounded(_log(value), propagated: propagated, .log)
    }

    public func log1p() -> Bounded {
        let propagated = error < 1 + value ? -Foundation.log1p(-error / (1 + value)) : .infinity
        return Self.rounded(Foundation.log1p(value), propagated: propagated, .log1p)
    }

    /// tanh is monotone: the interval's ends bound the propagated error.
    public func tanh() -> Bounded {
        let v = _tanh(value)
        let propagated = max(abs(_tanh(value + error) - v), abs(v - _tanh(value - error)))
        return Self.rounded(v, propagated: propagated, .tanh)
    }

    /// `max(x, 0)` is exact and 1-Lipschitz.
    public func relu() -> Bounded { Bounded(max(value, 0), error: error) }

    public func absoluteValue() -> Bounded { Bounded(abs(value), error: error) }

    /// `x > 0 ? g : 0` with `x` the condition: where `x` is within its error of 0, backends may
    /// take either branch, and the bound must cover both.
    public static func select(ifPositive x: Bounded, _ g: Bounded) -> Bounded {
        let v = x.value > 0 ? g.value : 0
        let ambiguous = x.error > 0 && abs(x.value) <= x.error
        return ambiguous ? Bounded(v, error: abs(g.value) + g.error) : (x.value > 0 ? g : Bounded(0))
    }

    /// A sum of terms in any order: `Σ eᵢ + γ_{k−1}·Σ|x̂ᵢ|`.
    public static func sum(_ terms: [Bounded]) -> Bounded {
        var v = 0.0, propagated = 0.0, magnitude = 0.0
        for t in terms {
            v += t.value
            propagated += t.error
            magnitude += t.magnitude
        }
        let rounding = Float32Rounding.gamma(terms.count - 1) * magnitude
        return Bounded(v, error: propagated + rounding + Double(terms.count) * Float32Rounding.eta)
    }
}

extension Bounded: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    public init(floatLiteral value: Double) { self.init(Double(Float(value))) }
    public init(integerLiteral value: Int) { self.init(Double(value)) }
}
