import Foundation

/// One comparison of a backend's results against a reference's (another backend, or exact
/// arithmetic), element by element, each element against its own float32 error bound.
///
/// `slack = maxᵢ |xᵢ − refᵢ| / boundᵢ` passes at ≤ 1; `difference` and `bound` are those of
/// the element that sets it, so a report shows the measured error beside its bound.
public struct EquivalenceCheck: Sendable, CustomStringConvertible {
    /// What was compared: the operation or network and its shape.
    public let name: String
    /// `|x − ref|` at the element with the largest `|Δ|/bound`.
    public let difference: Double
    /// That element's bound.
    public let bound: Double
    /// `maxᵢ |Δᵢ| / boundᵢ` (`.infinity` when the results differ in length or hold a NaN).
    public let slack: Double
    /// Whether every element lies within its bound.
    public var passed: Bool { slack <= 1 }

    public init(name: String, difference: Double, bound: Double, slack: Double) {
        self.name = name
        self.difference = difference
        self.bound = bound
        self.slack = slack
    }

    /// Compares `values` with `reference` element by element against `bounds`; a zero bound
    /// asks for equality. A count mismatch or a NaN fails.
    public init<V: Collection, R: Collection>(name: String, values: V, reference: R, bounds: [Double])
    where V.Element: BinaryFloatingPoint, R.Element: BinaryFloatingPoint {
        guard values.count == reference.count, values.count == bounds.count else {
            self.init(name: name, difference: .infinity, bound: 0, slack: .infinity)
            return
        }
        var worst = (difference: 0.0, bound: bounds.first ?? 0, slack: 0.0)
        for ((x, r), b) in zip(zip(values, reference), bounds) {
            let d = abs(Double(x) - Double(r))
            let ratio = d == 0 ? 0 : d / b
            let s = ratio.isNaN ? .infinity : ratio
            if !(s <= worst.slack) || (s == worst.slack && d > worst.difference) { worst = (d, b, s) }
        }
        self.init(name: name, difference: worst.difference, bound: worst.bound, slack: worst.slack)
    }

    /// `name: |Δ| d, bound b (s of it) PASS|FAIL`.
    public var description: String {
        String(format: "%@: |Δ| %.3e, bound %.3e (%.3g of it) %@", name, difference, bound, slack,
               passed ? "PASS" : "FAIL")
    }
}

/// The same operations and networks run on a backend under test and on a reference backend
/// (the CPU backend), from identical inputs, with the results compared. Shared by
/// `backprop gradcheck` and the test suite.
///
/// Every bound is the float32 error bound of the computation on the data at hand (see
/// ``Float32Rounding`` and ``Bounded``): each backend's result lies within `b` of the exact
/// result, so the two lie within `2b` of each other, whatever order of summation, blocking or
/// instruction set either one uses. Fills, gathers and correct counts must be exact (a count
/// may differ only in columns whose top two outputs lie within rounding of each other).
public struct EquivalenceSuite {
    /// The backend under test.
    public let backend: any Backend
    /// The backend it is compared with (the CPU backend).
    public let reference: any Backend
    /// The matrix dimensions the operation checks combine.
    public var sizes: [Int]
    var rng: SeededGenerator

    /// 1, 7, one past 32 and 128, and 785 (MNIST's 784 inputs plus one): sizes that are no
    /// multiple of a tile or work-group width, so edge tiles and partial groups are exercised.
    public static let standardSizes = [1, 7, 33, 129, 785]

    /// A suite comparing `backend` with `reference`; `seed` fixes the random inputs, so two runs
    /// compare the same numbers.
    public init(backend: any Backend, reference: any Backend, sizes: [Int] = standardSizes,
                seed: UInt64 = 1) {
        self.backend = backend
        self.reference = reference
        self.sizes = sizes
        rng = SeededGenerator(seed: seed)
    }

    // MARK: Helpers

    mutating func random(_ count: Int, scale: Double = 1) -> [Float] {
        (0..<count).map { _ in Float((rng.nextUniform() * 2 - 1) * scale) }
    }

    /// The same values uploaded to both backends.
    func pair(_ rows: Int, _ cols: Int, _ values: [Float]) throws -> (test: Matrix, ref: Matrix) {
        (try backend.makeMatrix(rows: rows, cols: cols, values: values),
         try reference.makeMatrix(rows: rows, cols: cols, values: values))
    }

    /// The outputs of both backends against each other, each element within twice the bound of
    /// one float32 evaluation (`expected` gives each output's exact values and bounds).
    func compare(_ name: String, _ outputs: [(test: Matrix, ref: Matrix)], expected: [[Bounded]]) throws -> EquivalenceCheck {
        var test: [Float] = [], ref: [Float] = []
        for (t, r) in outputs {
            test += try backend.download(t)
            ref += try reference.download(r)
        }
        return EquivalenceCheck(name: name, values: test, reference: ref, bounds: expected.joined().map { 2 * $0.error })
    }

    /// Runs `body` once on each backend with that backend's matrices.
    func both(_ body: (any Backend, KeyPath<(test: Matrix, ref: Matrix), Matrix>) throws -> Void) throws {
        try body(backend, \.test)
        try body(reference, \.ref)
    }

    // MARK: GEMM

    /// Every transpose combination, α/β = (1, 0) and (−0.75, 1.5), at square sizes and mixed
    /// shapes. Each backend's `C` lies within `γ_{k+2}·(|α|·|op(A)|·|op(B)| + |β|·|C₀|)` of the
    /// exact result (k products, the α scaling and the β term). The magnitudes are one more
    /// product, of non-negative terms, on the reference backend; rounded in float32 it is at
    /// most `γ_{k+2}` low, so dividing by `1 − γ_{k+2}` keeps the bound a bound.
    public mutating func gemmChecks() throws -> [EquivalenceCheck] {
        var shapes = sizes.map { ($0, $0, $0) }
        let s = sizes
        for i in s.indices { shapes.append((s[i], s[(i + 2) % s.count], s[(i + 3) % s.count])) }
        var checks: [EquivalenceCheck] = []
        for (m, n, k) in shapes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for (alpha, beta) in [(Float(1), Float(0)), (-0.75, 1.5)] {
                    let (av, bv, cv) = (random(m * k), random(k * n), random(m * n))
                    let a = try pair(ta ? k : m, ta ? m : k, av), b = try pair(tb ? n : k, tb ? k : n, bv)
                    let c = try pair(m, n, cv)
                    try both { be, side in
                        try be.gemm(transposeA: ta, transposeB: tb, alpha: alpha, a[keyPath: side], b[keyPath: side],
                                    beta: beta, c[keyPath: side])
                    }
                    let magnitude = try reference.makeMatrix(rows: m, cols: n, values: cv.map(abs))
                    try reference.gemm(transposeA: ta, transposeB: tb, alpha: abs(alpha),
                                       try reference.makeMatrix(rows: a.ref.rows, cols: a.ref.cols, values: av.map(abs)),
                                       try reference.makeMatrix(rows: b.ref.rows, cols: b.ref.cols, values: bv.map(abs)),
                                       beta: abs(beta), magnitude)
                    let gamma = Float32Rounding.gamma(k + 2), eta = Double(k + 2) * Float32Rounding.eta
                    let bounds = try reference.download(magnitude).map { 2 * (gamma * Double($0) / (1 - gamma) + eta) }
                    let op = "gemm \(ta ? "T" : "N")\(tb ? "T" : "N") \(m)×\(n)×\(k) α=\(alpha) β=\(beta)"
                    checks.append(EquivalenceCheck(name: op, values: try backend.download(c.test),
                                                   reference: try reference.download(c.ref), bounds: bounds))
                }
            }
        }
        return checks
    }

    /// GEMM, then every other operation at `sizes × sizes` pairs (square, and mixed shapes).
    public mutating func allOperationChecks() throws -> [EquivalenceCheck] {
        var checks = try gemmChecks()
        for (i, s) in sizes.enumerated() {
            checks += try operationChecks(rows: s, cols: s)
            let other = sizes[(i + 2) % sizes.count]
            if other != s { checks += try operationChecks(rows: s, cols: other) }
        }
        return checks
    }
}
