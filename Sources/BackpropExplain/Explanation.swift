import BackpropCore
import BackpropCPU
import Foundation

/// A derivation printed for a learner: forward values, local derivatives, the products along
/// the chain and the final gradients, each gradient then checked against the oracles.
/// `render()` is the terminal text; encoding gives the same numbers as JSON.
public protocol Explanation: Encodable {
    /// Aligned lines for a terminal, formulas in Unicode math.
    func render() -> String
    /// Every gradient the explanation derived, against the graph, the backend and finite differences.
    var verification: Verification { get }
}

extension Explanation {
    /// The explanation as pretty-printed JSON with sorted snake_case keys, as every other
    /// `--json` of the tool writes them.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// One gradient as the explanation derived it and as each oracle computed it.
public struct GradientCheck: Codable, Sendable, Equatable {
    /// `"∂C/∂θ₂"`.
    public var name: String
    /// From the printed steps: the local derivatives multiplied along the chain.
    public var explained: Double
    /// From `Value.backward()` on the same function built as a scalar graph.
    public var graph: Double
    /// From the closed-form derivative worked out by hand, where the explanation has one.
    public var byHand: Double?
    /// From the CPU backend (`Network.lossAndGradients`), scaled as `Verification.backendNote` says;
    /// nil where the function is not a network.
    public var backend: Double?
    /// Central finite differences of the function in plain Double.
    public var finiteDifference: Double

    /// One gradient's values; `byHand` and `backend` are nil where the explanation has none.
    public init(name: String, explained: Double, graph: Double, byHand: Double? = nil,
                backend: Double? = nil, finiteDifference: Double) {
        self.name = name
        self.explained = explained
        self.graph = graph
        self.byHand = byHand
        self.backend = backend
        self.finiteDifference = finiteDifference
    }
}

/// The checks of one explanation, with norm-wise relative differences to `explained` and the
/// tolerance each must meet:
/// - graph and by-hand, 1e−10: the same Double arithmetic in another order;
/// - backend, 1e−4: it computes in Float (ε ≈ 6e−8) from Float copies of the inputs;
/// - finite differences, 1e−6: h = 1e−5 in Double leaves truncation and rounding near 1e−9.
///
/// Finite differences are not a derivative across a kink (ReLU at z = 0): where the function
/// has one within the step, `finiteDifferenceNote` says so and that check is left out of `passed`.
public struct Verification: Codable, Sendable {
    /// For the graph and the by-hand derivative: 1e−10.
    public static let graphTolerance = 1e-10
    /// For the Float backend: 1e−4.
    public static let backendTolerance = 1e-4
    /// For central finite differences: 1e−6.
    public static let finiteDifferenceTolerance = 1e-6
    /// Norms below which a gradient is compared in absolute terms (`relativeDifference`'s floor):
    /// where every true gradient is 0 (a ReLU exactly at its kink) the Double oracles differ from
    /// 0 by ~1e-17 and the Float backend by ~1e-8, which no relative measure can absorb.
    /// Absolute slack allowed: graph 1e-14, backend 1e-7, finite differences 1e-10.
    public static let doubleFloor = 1e-4
    /// The floor for the Float backend's comparison (see ``doubleFloor``).
    public static let backendFloor = 1e-3

    /// Every gradient the explanation derived, in the order it printed them.
    public var checks: [GradientCheck]
    /// How the backend's numbers relate to this explanation's cost (a scale, or why it is absent).
    public var backendNote: String
    /// `‖graph − explained‖ / ‖explained‖` over all the checks.
    public var graphDifference: Double
    /// The same for the by-hand derivatives; nil unless every check has one.
    public var byHandDifference: Double?
    /// The same for the backend; nil unless every check has one.
    public var backendDifference: Double?
    /// The same for the finite differences.
    public var finiteDifferenceDifference: Double
    /// Why the finite differences are not checked (`"n/a: ReLU kink at z¹ = 0 …"`); nil when they are.
    public var finiteDifferenceNote: String?
    /// Whether every difference meets its tolerance (the finite differences only when checked).
    public var passed: Bool

    /// Computes every difference of `checks` and the verdict.
    public init(checks: [GradientCheck], backendNote: String, finiteDifferenceNote: String? = nil) {
        self.checks = checks
        self.backendNote = backendNote
        self.finiteDifferenceNote = finiteDifferenceNote
        let explained = checks.map(\.explained)
        func difference(_ values: [Double?], floor: Double) -> Double? {
            let present = values.compactMap { $0 }
            return present.count == values.count && !values.isEmpty
                ? relativeDifference(present, explained, floor: floor) : nil
        }
        graphDifference = relativeDifference(checks.map(\.graph), explained, floor: Self.doubleFloor)
        byHandDifference = difference(checks.map(\.byHand), floor: Self.doubleFloor)
        backendDifference = difference(checks.map(\.backend), floor: Self.backendFloor)
        finiteDifferenceDifference = relativeDifference(checks.map(\.finiteDifference), explained,
                                                        floor: Self.doubleFloor)
        passed = graphDifference <= Self.graphTolerance
            && (byHandDifference ?? 0) <= Self.graphTolerance
            && (backendDifference ?? 0) <= Self.backendTolerance
            && (finiteDifferenceNote != nil || finiteDifferenceDifference <= Self.finiteDifferenceTolerance)
    }

    /// The table of checks and one line per oracle with its difference and tolerance.
    public func render() -> [String] {
        let hasHand = checks.contains { $0.byHand != nil }, hasBackend = checks.contains { $0.backend != nil }
        var header = ["", "explained", "graph"]
        if hasHand { header.append("by hand") }
        if hasBackend { header.append("backend") }
        header.append("finite diff.")
        var rows = [header]
        for c in checks {
            var row = [c.name, num(c.explained), num(c.graph)]
            if hasHand { row.append(c.byHand.map(num) ?? "—") }
            if hasBackend { row.append(c.backend.map(num) ?? "—") }
            row.append(num(c.finiteDifference))
            rows.append(row)
        }
        var lines = table(rows, alignments: [.left] + Array(repeating: .right, count: header.count - 1))
            .map { "  " + $0 }
        lines.append("")
        lines.append("  explained: the products above · graph: Value.backward() on the same function")
        if hasHand { lines.append("  by hand: the closed-form derivative") }
        lines.append("  finite diff.: (f(θ + h) − f(θ − h))/2h in Double, h = 1e−5")
        lines.append("  backend: \(backendNote)")
        lines.append("")
        func verdict(_ name: String, _ d: Double, _ tolerance: Double) -> String {
            let mark = d <= tolerance ? "✓" : "✗ MISMATCH"
            return "  \(pad(name, 19))‖Δ‖/‖∇‖ = "
                + "\(pad(formatNumber(d, digits: 2), 8)) ≤ "
                + "\(pad(powerOfTen(tolerance), 6))  \(mark)"
        }
        lines.append(verdict("graph", graphDifference, Self.graphTolerance))
        if let d = byHandDifference { lines.append(verdict("by hand", d, Self.graphTolerance)) }
        if let d = backendDifference { lines.append(verdict("backend", d, Self.backendTolerance)) }
        if let note = finiteDifferenceNote {
            lines.append("  \(pad("finite differences", 19))\(note)")
        } else {
            lines.append(verdict("finite differences", finiteDifferenceDifference, Self.finiteDifferenceTolerance))
        }
        return lines
    }
}

/// The note that takes the place of the finite-difference check at a ReLU kink: `z¹` for a
/// layer of one unit, `z²₃` otherwise. Nil when there is no kink.
func finiteDifferenceNote(_ kink: ReLUKink?, sizes: [Int]) -> String? {
    guard let kink else { return nil }
    let units = kink.layer < sizes.count ? sizes[kink.layer] : 0
    let z = "z\(superscript(kink.layer))" + (units > 1 ? subscriptIndex(kink.unit) : "")
    let at = abs(kink.z) < 1e-4 ? "at \(z) = 0" : "within a step h of \(z) = \(num(kink.z))"
    return "n/a: ReLU kink \(at) (finite differences are not valid there)"
}

/// Thrown when an explanation's input is not usable.
public struct ExplainError: Error, CustomStringConvertible, Equatable {
    /// What is wrong and what is expected, in one line.
    public var description: String
    /// An error with the message `description`.
    public init(_ description: String) { self.description = description }
}

/// One line of a derivation: `name = formula = substituted = value`, e.g.
/// `∂C/∂z² = ∂C/∂z³·θ₃·g'(z²) = (−0.22)·(−0.7)·1 = 0.157`.
public struct DerivationStep: Codable, Sendable, Equatable {
    /// The quantity derived: `∂C/∂z²`.
    public var name: String
    /// Its formula in symbols: `∂C/∂z³·θ₃·g'(z²)`.
    public var formula: String
    /// The formula with numbers in place of the symbols; empty when that adds nothing.
    public var substituted: String
    /// The result, in Double.
    public var value: Double

    /// A step; `substituted` may be left empty.
    public init(_ name: String, _ formula: String, _ substituted: String = "", _ value: Double) {
        self.name = name
        self.formula = formula
        self.substituted = substituted
        self.value = value
    }
}

/// Steps as aligned rows: name = formula = substituted = value.
func render(_ steps: [DerivationStep], indent: String = "  ") -> [String] {
    table(steps.map { s in
        [indent + s.name, "= " + s.formula, s.substituted.isEmpty ? "" : "= " + s.substituted,
         s.formula == num(s.value) ? "" : "= " + num(s.value)]
    })
}

/// `1e−4` for 0.0001: tolerances are powers of ten.
func powerOfTen(_ x: Double) -> String {
    let e = Int(log10(x).rounded())
    return "1e\(e < 0 ? "−" : "")\(abs(e))"
}
