import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// The scalar expression graph against gradients derived by hand and against central finite
/// differences in Double. Hand-derived values are exact up to Double rounding (1e−12);
/// finite differences with h = 1e−5 agree to about 1e−9 relative on these smooth functions,
/// so 1e−7 leaves room without hiding a wrong derivative (those are off by O(1)).
@Suite("Graph: Value and backward()")
struct GraphValueTests {
    @Test("q = x + y, f = q·z: gradients by hand")
    func sumTimesProduct() {
        let x = Value(-2, label: "x"), y = Value(5, label: "y"), z = Value(-4, label: "z")
        let q = x + y
        let f = q * z
        f.backward()
        #expect(q.data == 3)
        #expect(f.data == -12)
        #expect(f.grad == 1)
        #expect(q.grad == -4)          // ∂f/∂q = z
        #expect(z.grad == 3)           // ∂f/∂z = q
        #expect(x.grad == -4)          // ∂f/∂x = ∂f/∂q · ∂q/∂x = z · 1
        #expect(y.grad == -4)
    }

    @Test("g = (x·y + eᶻ)² + x: gradients by hand; x reaches g along two paths")
    func richerExpression() {
        let (xv, yv, zv) = (-2.0, 5.0, -4.0)
        let x = Value(xv), y = Value(yv), z = Value(zv)
        let s = x * y + z.exp()
        let g = s.pow(2) + x
        g.backward()
        let sv = xv * yv + exp(zv)
        #expect(abs(g.data - (sv * sv + xv)) < 1e-12)
        #expect(abs(x.grad - (2 * sv * yv + 1)) < 1e-12)   // through s, and directly
        #expect(abs(y.grad - 2 * sv * xv) < 1e-12)
        #expect(abs(z.grad - 2 * sv * exp(zv)) < 1e-12)
    }

    /// Every operation, at points away from any kink or pole, against finite differences.
    @Test("every operation against central finite differences", arguments: [
        [0.7, -1.3], [-0.4, 2.2], [1.9, 0.35], [-2.5, -0.8],
    ])
    func operationsAgainstFiniteDifferences(point: [Double]) {
        typealias Op = (Value, Value) -> Value
        let ops: [(String, Op)] = [
            ("a + b", { $0 + $1 }), ("a − b", { $0 - $1 }), ("a·b", { $0 * $1 }),
            ("a / b", { $0 / $1 }), ("−a·b", { -$0 * $1 }),
            ("a + 2", { a, _ in a + 2 }), ("3 − b", { _, b in 3 - b }),
            ("a·0.5 / b", { a, b in a * 0.5 / b }), ("2 / b", { _, b in 2 / b }),
            ("a³", { a, _ in a.pow(3) }), ("(b²)^1.5", { _, b in b.pow(2).pow(1.5) }),
            ("exp(a)", { a, _ in a.exp() }), ("log(b²)", { _, b in b.pow(2).log() }),
            ("σ(a·b)", { ($0 * $1).sigmoid() }), ("ReLU(a)", { a, _ in a.relu() }),
            ("tanh(a − b)", { ($0 - $1).tanh() }), ("softplus(a·b)", { ($0 * $1).softplus() }),
            ("Σ(a, b, a·b)", { Value.sum([$0, $1, $0 * $1]) }),
        ]
        for (name, op) in ops {
            let a = Value(point[0]), b = Value(point[1])
            let out = op(a, b)
            out.backward()
            let numeric = centralDifferences(of: { op(Value($0[0]), Value($0[1])).data }, at: point)
            let error = relativeDifference([a.grad, b.grad], numeric, floor: 1e-8)
            #expect(error < 1e-7, "\(name) at \(point): graph \([a.grad, b.grad]) vs numeric \(numeric)")
        }
    }

    @Test("a non-leaf value used twice receives the sum of both paths")
    func sharedNodeSumsPaths() {
        let x = Value(1.5), y = Value(-0.5)
        let q = x * y                       // q = −0.75, used twice below
        let f = q * q + q.exp()             // ∂f/∂q = 2q + eᵠ
        f.backward()
        let dq = 2 * q.data + exp(q.data)
        #expect(abs(q.grad - dq) < 1e-12)
        #expect(abs(x.grad - dq * y.data) < 1e-12)
        #expect(abs(y.grad - dq * x.data) < 1e-12)
        let numeric = centralDifferences(of: { v in
            let q = v[0] * v[1]
            return q * q + exp(q)
        }, at: [1.5, -0.5])
        #expect(relativeDifference([x.grad, y.grad], numeric) < 1e-7)
    }

    @Test("backward() twice gives the same gradients as once (reset, then compute)")
    func backwardTwice() {
        let x = Value(0.3), w = Value(-1.2), b = Value(0.1)
        let out = (w * x + b).tanh() * w
        out.backward()
        let once = [x.grad, w.grad, b.grad]
        out.backward()
        #expect([x.grad, w.grad, b.grad] == once)
        #expect(out.grad == 1)
        #expect(once.allSatisfy { $0 != 0 })
    }

    @Test("a chain of 100 000 nodes: backward and release without recursion")
    func longChain() {
        let n = 100_000
        let x = Value(0.25, label: "x")
        do {
            var v = x
            for _ in 0..<n { v = v * 1 + 0.001 }    // ∂v/∂x stays 1 along 200 000 operations
            v.backward()
            #expect(abs(v.data - (0.25 + 0.001 * Double(n))) < 1e-6)
            #expect(v.topologicalOrder().count == 1 + 4 * n)   // x, then per step: 1, ·, 0.001, +
        }
        // The chain has been released above; the leaf survives with its gradient.
        #expect(x.grad == 1)
    }

    @Test("a leaf used in every step of a long chain sums all its paths")
    func leafUsedManyTimes() {
        let x = Value(2)
        var v = Value(0)
        for _ in 0..<1000 { v = v + x }
        v.backward()
        #expect(x.grad == 1000)
    }

    @Test("formulas name operands by label, or by value when unlabelled")
    func formulas() {
        let x = Value(-2, label: "x"), y = Value(5, label: "y"), z = Value(-4, label: "z")
        let q = x + y
        q.label = "q"
        #expect(q.formula == "x + y")
        #expect((q * z).formula == "q·z")
        #expect(q.pow(2).formula == "q²")
        #expect(z.exp().formula == "exp(z)")
        #expect((x - 3).formula == "x − 3")
        #expect((-x).formula == "−x")
        #expect(x.sigmoid().formula == "σ(x)")
    }
}
