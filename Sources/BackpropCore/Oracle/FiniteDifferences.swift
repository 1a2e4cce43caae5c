/// Central finite differences in Double: the oracle that shares no code with either the
/// backends or the expression graph.
///
///     ∂f/∂xᵢ ≈ (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h
///
/// The truncation error is O(h²)·f‴ and the rounding error about ε·|f|/h, so with Double's
/// ε ≈ 2.2e−16 a step near ∛ε·scale ≈ 1e−5 balances the two at roughly 1e−10 relative.
/// Not valid across a kink (ReLU at 0): keep inputs away from one.
public func centralDifferences(of f: ([Double]) -> Double, at x: [Double],
                               step h: Double = 1e-5) -> [Double] {
    var point = x
    return x.indices.map { i in
        let xi = point[i]
        point[i] = xi + h
        let plus = f(point)
        point[i] = xi - h
        let minus = f(point)
        point[i] = xi
        return (plus - minus) / (2 * h)
    }
}

/// Norm-wise relative difference `‖a − b‖ / max(‖b‖, floor)`: one number for a whole gradient,
/// so components that are near zero do not dominate. `floor` stops a zero gradient from
/// turning rounding noise into an infinite relative error. Vectors of different lengths, or
/// any NaN, give infinity or NaN, which fails every `≤ tolerance` check.
public func relativeDifference<A: Collection, B: Collection>(_ a: A, _ b: B, floor: Double = 1e-12) -> Double
where A.Element: BinaryFloatingPoint, B.Element: BinaryFloatingPoint {
    guard a.count == b.count else { return .infinity }
    var diff = 0.0, norm = 0.0
    for (x, y) in zip(a, b) {
        let d = Double(x) - Double(y)
        diff += d * d
        norm += Double(y) * Double(y)
    }
    return diff.squareRoot() / Swift.max(norm.squareRoot(), floor)
}
