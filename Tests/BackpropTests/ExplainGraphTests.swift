import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// `explain graph`: the printed gradients against the graph, the hand-derived derivatives and
/// finite differences (tolerances as in `Verification`: 1e−10 between Double computations,
/// 1e−6 against finite differences with h = 1e−5).
@Suite("Explain: graph")
struct ExplainGraphTests {
    @Test("defaults: q = x + y = 3, f = q·z = −12, ∇f = (z, z, q) = (−4, −4, 3)")
    func classicValues() throws {
        let e = try GraphExplanation()
        let f = try #require(e.expressions.first)
        #expect(f.forward.map(\.value) == [3, -12])
        #expect(f.verification.checks.map(\.explained) == [-4, -4, 3])
        #expect(f.verification.checks.map(\.graph) == [-4, -4, 3])
        #expect(f.verification.checks.compactMap(\.byHand) == [-4, -4, 3])
        for c in f.verification.checks { #expect(abs(c.finiteDifference - c.explained) < 1e-8) }
        #expect(e.verification.passed)
    }

    @Test("g = (x·y + eᶻ + x)²: gradients by hand, x summed over its two paths",
          arguments: [(-2.0, 5.0, -4.0), (1.5, -0.3, 0.7), (0.2, 2.0, 1.1)])
    func richerExpression(x: Double, y: Double, z: Double) throws {
        let e = try GraphExplanation(x: x, y: y, z: z)
        let g = try #require(e.expressions.last)
        let s = x * y + exp(z) + x
        let hand = [2 * s * (y + 1), 2 * s * x, 2 * s * exp(z)]
        for (c, h) in zip(g.verification.checks, hand) {
            #expect(abs(c.explained - h) <= 1e-12 * max(1, abs(h)), "\(c.name)")
            #expect(abs(c.graph - h) <= 1e-12 * max(1, abs(h)), "\(c.name)")
            #expect(abs(c.finiteDifference - h) <= 1e-6 * max(1, abs(h)), "\(c.name)")
        }
        let xStep = try #require(g.backward.first { $0.variable == "x" })
        #expect(xStep.terms.count == 2)
        #expect(e.verification.passed)
    }

    @Test("the text shows the forward values, local derivatives and the chain, and the JSON the same numbers")
    func renderingAndJSON() throws {
        let e = try GraphExplanation()
        let text = e.render()
        for expected in ["q = x + y  = 3", "∂f/∂q = z  = −4", "∂f/∂x = ∂f/∂q·∂q/∂x  = (−4)·1  = −4",
                         "∂g/∂x = ∂g/∂s·∂s/∂x + ∂g/∂p·∂p/∂x", "x feeds 2 operations", "k = exp(z)", "g = s²"] {
            #expect(text.contains(expected), "missing: \(expected)")
        }
        #expect(!text.contains("✗"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(e.json().utf8)) as? [String: Any])
        let expressions = try #require(json["expressions"] as? [[String: Any]])
        let verification = try #require(expressions.first?["verification"] as? [String: Any])
        let checks = try #require(verification["checks"] as? [[String: Any]])
        #expect(checks.compactMap { $0["explained"] as? Double } == [-4, -4, 3])
    }

    @Test("DOT export names each node's operation, value and gradient")
    func dotExport() throws {
        let e = try GraphExplanation()
        let dot = try e.graph("f").dot(title: "f")
        #expect(dot.hasPrefix("digraph \"f\" {"))
        #expect(dot.contains("{ q | + | data 3 | grad −4 }"))
        #expect(dot.contains("{ f | · | data −12 | grad 1 }"))
        #expect(dot.contains("{ x | leaf | data −2 | grad −4 }"))
        #expect(dot.contains("label=\"∂ = −4\""))     // edge q → f carries ∂f/∂q = z
        #expect(dot.components(separatedBy: " -> ").count - 1 == 4)
        #expect(throws: ExplainError.self) { try e.graph("h") }
    }

    @Test("writeDOT writes the file, reports an unwritable path, and SVG needs Graphviz")
    func dotFiles() throws {
        let graph = try GraphExplanation().graph("g")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-dot-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("g.dot").path
        try graph.writeDOT(to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == graph.dot())
        #expect(throws: GraphExportError.self) { try graph.writeDOT(to: "/nonexistent-dir/g.dot") }
        let svg = dir.appendingPathComponent("g.svg").path
        if graphvizExecutable() == nil {
            #expect(throws: GraphExportError.graphvizMissing) { try renderSVG(dotFile: path, to: svg) }
        } else {
            try renderSVG(dotFile: path, to: svg)
            #expect(try String(contentsOfFile: svg, encoding: .utf8).contains("<svg"))
        }
    }

    @Test("non-finite inputs are an error")
    func badInput() {
        #expect(throws: ExplainError.self) { try GraphExplanation(x: .infinity) }
    }
}
