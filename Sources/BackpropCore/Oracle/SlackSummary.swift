import Foundation

/// How close a set of checks came to their bounds: quantiles of `slack = |Δ|/bound` and a
/// count per decade. A bound that is a bound keeps every slack ≤ 1; slacks far below 1 say
/// how much room the worst-case analysis leaves on this data.
public struct SlackSummary: Sendable, CustomStringConvertible {
    public let slacks: [Double]

    public init(_ checks: [EquivalenceCheck]) { slacks = checks.map(\.slack).sorted() }

    /// The `q`-quantile (nearest rank), `q` in [0, 1].
    public func quantile(_ q: Double) -> Double {
        guard !slacks.isEmpty else { return .nan }
        return slacks[min(slacks.count - 1, Int((q * Double(slacks.count)).rounded(.up)) - (q > 0 ? 1 : 0))]
    }

    /// Checks per decade of slack: `(upper edge, count)`, the first bucket being exact equality.
    public var decades: [(label: String, count: Int)] {
        var rows = [("0 (equal)", slacks.filter { $0 == 0 }.count)]
        for e in -6 ... 0 {
            let (low, high) = (pow(10, Double(e - 1)), pow(10, Double(e)))
            let count = slacks.filter { $0 > (e == -6 ? 0 : low) && $0 <= high }.count
            rows.append((e == -6 ? "(0, 1e-6]" : "(1e\(e - 1), 1e\(e)]", count))
        }
        rows.append(("> 1 (fail)", slacks.filter { !($0 <= 1) }.count))
        return rows
    }

    public var description: String {
        let q = [0.5, 0.9, 0.99, 1].map { String(format: "%.2g", quantile($0)) }
        return "slack |Δ|/bound over \(slacks.count) checks: median \(q[0]), 90% \(q[1]), 99% \(q[2]), max \(q[3])\n"
            + decades.map { "  \($0.label): \($0.count)" }.joined(separator: "\n")
    }
}
