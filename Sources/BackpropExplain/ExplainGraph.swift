import BackpropCore
import BackpropCPU
import Foundation

/// `backprop explain graph`: functions of several variables built from intermediate variables,
/// differentiated by walking their expression graph backwards.
///
///     f(x, y, z) = (x + y)·z        q = x + y,  f = q·z
///     g(x, y, z) = (x·y + eᶻ + x)²  p = x·y,  k = eᶻ,  r = p + k,  s = r + x,  g = s²
///
/// In `g`, `x` reaches the output along two paths (through `p` and through `s`), so its
/// gradient is the sum of both. Each gradient is checked against `Value.backward()`, the
/// derivative worked out by hand, and central finite differences.
public struct GraphExplanation: Explanation {
    /// One intermediate or output variable: `q = x + y = 3`.
    public struct Step: Codable, Sendable {
        /// The variable: `q`.
        public var name: String
        /// Its definition from its parents: `x + y` (the name itself for an input).
        public var formula: String
        /// Its value at the point.
        public var value: Double
    }
    /// A local derivative `∂q/∂x = 1`, the derivative of one operation alone.
    public struct Local: Codable, Sendable {
        /// `∂q/∂x`.
        public var name: String
        /// The derivative as a formula of the operands: `1`, `z`, `2s`.
        public var formula: String
        /// Its value at the point.
        public var value: Double
    }
    /// `∂f/∂p = Σ over p's children c (the nodes that use p) of ∂f/∂c · ∂c/∂p`, with every term.
    public struct BackStep: Codable, Sendable {
        /// One child's share of the gradient: `∂f/∂c · ∂c/∂p`.
        public struct Term: Codable, Sendable {
            /// The child `c`.
            public var child: String
            /// `∂f/∂c`, the child's gradient, already computed.
            public var upstream: Double
            /// `∂c/∂p`, the local derivative.
            public var local: Double
            /// The local derivative as a formula: `"z"` for ∂(q·z)/∂q.
            public var localFormula: String
        }
        /// The variable `p`.
        public var variable: String
        /// One per child of `p`, in the order the children were visited.
        public var terms: [Term]
        /// `∂f/∂p`, the sum of the terms.
        public var gradient: Double
    }
    /// One function explained: its graph forwards, its local derivatives, and the walk back.
    public struct Expression: Codable, Sendable {
        /// `f` or `g`.
        public var name: String
        /// `f(x, y, z) = (x + y)·z`.
        public var definition: String
        /// `x`, `y`, `z` and their values.
        public var inputs: [Step]
        /// Every intermediate variable and the output, in topological order.
        public var forward: [Step]
        /// Every local derivative, output side first.
        public var local: [Local]
        /// Every variable's gradient, in reverse topological order.
        public var backward: [BackStep]
        /// The gradients of the inputs against the graph, the hand derivative and finite differences.
        public var verification: Verification
    }

    /// `f`, then `g`.
    public var expressions: [Expression]
    /// Both expressions' checks together.
    public var verification: Verification {
        Verification(checks: expressions.flatMap(\.verification.checks),
                     backendNote: expressions.first?.verification.backendNote ?? "",
                     finiteDifferenceNote: expressions.lazy.compactMap(\.verification.finiteDifferenceNote).first)
    }

    /// The expressions at `x`, `y`, `z` (defaults: the classic −2, 5, −4).
    public init(x: Double = -2, y: Double = 5, z: Double = -4) throws {
        guard [x, y, z].allSatisfy(\.isFinite) else { throw ExplainError("x, y and z must be finite numbers") }
        let point = [x, y, z]
        expressions = [
            Self.explain(name: "f", definition: "f(x, y, z) = (x + y)·z", at: point, build: Self.buildF,
                         byHand: { v in [v[2], v[2], v[0] + v[1]] }),
            Self.explain(name: "g", definition: "g(x, y, z) = (x·y + eᶻ + x)²", at: point, build: Self.buildG,
                         byHand: { v in
                             let s = v[0] * v[1] + exp(v[2]) + v[0]
                             return [2 * s * (v[1] + 1), 2 * s * v[0], 2 * s * exp(v[2])]
                         }),
        ]
        for e in expressions where e.forward.contains(where: { !$0.value.isFinite }) {
            throw ExplainError("\(e.name) is not finite at x = \(num(x)), y = \(num(y)), z = \(num(z))")
        }
    }

    /// `q = x + y`, `f = q·z`; the leaves are returned so their gradients can be read.
    static func buildF(_ v: [Double]) -> (output: Value, leaves: [Value]) {
        let x = Value(v[0], label: "x"), y = Value(v[1], label: "y"), z = Value(v[2], label: "z")
        let q = x + y; q.label = "q"
        let f = q * z; f.label = "f"
        return (f, [x, y, z])
    }

    /// `p = x·y`, `k = eᶻ`, `r = p + k`, `s = r + x`, `g = s²`.
    static func buildG(_ v: [Double]) -> (output: Value, leaves: [Value]) {
        let x = Value(v[0], label: "x"), y = Value(v[1], label: "y"), z = Value(v[2], label: "z")
        let p = x * y; p.label = "p"
        let k = z.exp(); k.label = "k"
        let r = p + k; r.label = "r"
        let s = r + x; s.label = "s"
        let g = s.pow(2); g.label = "g"
        return (g, [x, y, z])
    }

    /// The graph of expression `name` (`"f"` or `"g"`) after `backward()`, for DOT export.
    public func graph(_ name: String) throws -> Value {
        guard let e = expressions.first(where: { $0.name == name }) else {
            throw ExplainError("no expression named \(name); choose f or g")
        }
        let (output, _) = (name == "f" ? Self.buildF : Self.buildG)(e.inputs.map(\.value))
        output.backward()
        return output
    }

    static func explain(name: String, definition: String, at point: [Double],
                        build: ([Double]) -> (output: Value, leaves: [Value]),
                        byHand: ([Double]) -> [Double]) -> Expression {
        let (output, leaves) = build(point)
        output.backward()
        let order = output.topologicalOrder()
        let inputs = leaves.map { Step(name: $0.label, formula: $0.label, value: $0.data) }
        let forward = order.filter { !$0.isLeaf }.map { Step(name: $0.label, formula: $0.formula, value: $0.data) }
        var local: [Local] = []
        for v in order.reversed() where !v.isLeaf {
            for (i, (p, d)) in zip(v.parents, v.localDerivatives).enumerated() {
                local.append(Local(name: "∂\(v.label)/∂\(p.label)", formula: v.localDerivativeFormulas[i], value: d))
            }
        }

        // The chain rule, applied by hand in reverse topological order: each variable's gradient
        // is the sum over its children of (child's gradient) × (local derivative).
        var gradient: [ObjectIdentifier: Double] = [ObjectIdentifier(output): 1]
        var terms: [ObjectIdentifier: [BackStep.Term]] = [:]
        var backward: [BackStep] = []
        for v in order.reversed() {
            let id = ObjectIdentifier(v)
            if v !== output {
                let t = terms[id] ?? []
                let total = t.reduce(0) { $0 + $1.upstream * $1.local }
                gradient[id] = total
                backward.append(BackStep(variable: v.label, terms: t, gradient: total))
            }
            for (i, (p, d)) in zip(v.parents, v.localDerivatives).enumerated() {
                terms[ObjectIdentifier(p), default: []].append(
                    BackStep.Term(child: v.label, upstream: gradient[id] ?? 0, local: d,
                                  localFormula: v.localDerivativeFormulas[i]))
            }
        }

        let numeric = centralDifferences(of: { build($0).output.data }, at: point)
        let hand = byHand(point)
        let checks = leaves.indices.map { i in
            GradientCheck(name: "∂\(name)/∂\(leaves[i].label)",
                          explained: gradient[ObjectIdentifier(leaves[i])] ?? 0,
                          graph: leaves[i].grad, byHand: hand[i], finiteDifference: numeric[i])
        }
        return Expression(name: name, definition: definition, inputs: inputs, forward: forward,
                          local: local, backward: backward,
                          verification: Verification(checks: checks,
                                                     backendNote: "not applicable: these functions are not networks"))
    }

    public func render() -> String {
        var lines: [String] = []
        for e in expressions {
            if !lines.isEmpty { lines.append("") }
            lines += heading("\(e.definition)   at " + e.inputs.map { "\($0.name) = \(num($0.value))" }.joined(separator: ", "))
            lines.append("")
            lines.append("forward: each intermediate variable")
            lines += table(e.forward.map { ["  \($0.name) = \($0.formula)", "= \(num($0.value))"] })
            lines.append("")
            lines.append("local derivatives: each operation on its own")
            lines += table(e.local.map {
                ["  \($0.name) = \($0.formula)", $0.formula == num($0.value) ? "" : "= \(num($0.value))"]
            })
            lines.append("")
            lines.append("backward: ∂\(e.name)/∂v = Σ over the nodes c that use v:  ∂\(e.name)/∂c · ∂c/∂v")
            var rows = [["  ∂\(e.name)/∂\(e.name)", "", "= 1"]]
            for step in e.backward {
                // A term from the output itself is just the local derivative (∂f/∂f = 1).
                let symbolic = step.terms.map { $0.child == e.name ? $0.localFormula
                    : "∂\(e.name)/∂\($0.child)·∂\($0.child)/∂\(step.variable)" }.joined(separator: " + ")
                let numeric = step.terms.map { $0.child == e.name ? num($0.local)
                    : "\(factor($0.upstream))·\(factor($0.local))" }.joined(separator: " + ")
                rows.append(["  ∂\(e.name)/∂\(step.variable) = \(symbolic)",
                             numeric == num(step.gradient) ? "" : "= \(numeric)", "= \(num(step.gradient))"])
            }
            lines += table(rows)
            for step in e.backward where step.terms.count > 1 {
                lines.append("  \(step.variable) feeds \(step.terms.count) operations, so its gradient is the sum of \(step.terms.count) terms")
            }
            lines.append("")
            lines.append("check")
            lines += e.verification.render()
        }
        return lines.joined(separator: "\n")
    }
}
