import Foundation

// Arithmetic on `Value`s. Each operation computes its result and says how to compute its
// local derivatives; `backward()` does the rest. A `Double` operand becomes a constant leaf.

extension Value {
    /// A constant leaf for a `Double` operand, labelled with its value.
    static func constant(_ c: Double) -> Value { Value(c, label: formatNumber(c)) }

    /// `a + b`: ∂/∂a = 1, ∂/∂b = 1.
    public static func + (a: Value, b: Value) -> Value {
        Value(a.data + b.data, op: .add, parents: [a, b]) { _ in [1, 1] }
    }

    /// `a − b`: ∂/∂a = 1, ∂/∂b = −1.
    public static func - (a: Value, b: Value) -> Value {
        Value(a.data - b.data, op: .subtract, parents: [a, b]) { _ in [1, -1] }
    }

    /// `a·b`: ∂/∂a = b, ∂/∂b = a.
    public static func * (a: Value, b: Value) -> Value {
        Value(a.data * b.data, op: .multiply, parents: [a, b]) { out in
            [out.parents[1].data, out.parents[0].data]
        }
    }

    /// `a / b`: ∂/∂a = 1/b, ∂/∂b = −a/b².
    public static func / (a: Value, b: Value) -> Value {
        Value(a.data / b.data, op: .divide, parents: [a, b]) { out in
            let a = out.parents[0].data, b = out.parents[1].data
            return [1 / b, -a / (b * b)]
        }
    }

    /// `−a`: ∂/∂a = −1.
    public static prefix func - (a: Value) -> Value {
        Value(-a.data, op: .negate, parents: [a]) { _ in [-1] }
    }

    /// `a + b` with a constant `b`.
    public static func + (a: Value, b: Double) -> Value { a + constant(b) }
    /// `a + b` with a constant `a`.
    public static func + (a: Double, b: Value) -> Value { constant(a) + b }
    /// `a − b` with a constant `b`.
    public static func - (a: Value, b: Double) -> Value { a - constant(b) }
    /// `a − b` with a constant `a`.
    public static func - (a: Double, b: Value) -> Value { constant(a) - b }
    /// `a·b` with a constant `b`.
    public static func * (a: Value, b: Double) -> Value { a * constant(b) }
    /// `a·b` with a constant `a`.
    public static func * (a: Double, b: Value) -> Value { constant(a) * b }
    /// `a / b` with a constant `b`.
    public static func / (a: Value, b: Double) -> Value { a / constant(b) }
    /// `a / b` with a constant `a`.
    public static func / (a: Double, b: Value) -> Value { constant(a) / b }

    /// `a ← a + b`: a new node; the old `a` stays in the graph as its parent.
    public static func += (a: inout Value, b: Value) { a = a + b }
    /// `a ← a − b`: a new node; the old `a` stays in the graph as its parent.
    public static func -= (a: inout Value, b: Value) { a = a - b }
    /// `a ← a·b`: a new node; the old `a` stays in the graph as its parent.
    public static func *= (a: inout Value, b: Value) { a = a * b }

    /// `aᵏ` for a constant exponent: ∂/∂a = k·aᵏ⁻¹.
    public func pow(_ k: Double) -> Value {
        Value(Foundation.pow(data, k), op: .power(k), parents: [self]) { out in
            let a = out.parents[0].data
            return [k * Foundation.pow(a, k - 1)]
        }
    }

    /// `Σᵢ termsᵢ` as one node: ∂/∂termᵢ = 1 for every term. A sum of `n` terms as a single
    /// node keeps wide layers from turning into chains of `n − 1` additions.
    public static func sum(_ terms: [Value]) -> Value {
        guard let only = terms.first, terms.count > 1 else {
            return terms.first ?? constant(0)
        }
        var total = only.data
        for t in terms.dropFirst() { total += t.data }
        return Value(total, op: .sum, parents: terms) { out in
            [Double](repeating: 1, count: out.parents.count)
        }
    }
}
