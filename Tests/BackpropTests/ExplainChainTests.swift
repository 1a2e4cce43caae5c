import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// `explain chain` and the tutorial's chain as a test of the backend. The backend computes in
/// Float: 1e−4 relative covers its rounding (about 1e−7 here) and no wrong factor passes it.
@Suite("Explain: chain")
struct ExplainChainTests {
    @Test("∂C/∂θ₂ = 2(ŷ − y)·σ(z³)(1 − σ(z³))·θ₃·g'(z²)·a¹ by hand equals the backend's gradient ×2",
          arguments: [
              (0.5, 1.0, [0.9, 1.3, -0.7], [0.1, -0.4, 0.5]),
              (-1.2, 0.0, [-0.8, 0.6, 1.9], [0.3, 0.2, -0.1]),
              (2.0, 0.3, [0.4, -0.5, 1.1], [0.05, 0.9, 0.2]),
          ])
    func seedChain(x: Double, y: Double, theta: [Double], bias: [Double]) throws {
        func sigma(_ z: Double) -> Double { 1 / (1 + exp(-z)) }
        func relu(_ z: Double) -> Double { max(0, z) }
        let z1 = theta[0] * x + bias[0], a1 = relu(z1)
        let z2 = theta[1] * a1 + bias[1], a2 = relu(z2)
        let z3 = theta[2] * a2 + bias[2], yHat = sigma(z3)
        let gPrime2: Double = z2 > 0 ? 1 : 0
        let dTheta2 = 2 * (yHat - y) * sigma(z3) * (1 - sigma(z3)) * theta[2] * gPrime2 * a1
        let dB2 = 2 * (yHat - y) * sigma(z3) * (1 - sigma(z3)) * theta[2] * gPrime2 * 1

        let architecture = try Architecture(sizes: [1, 1, 1, 1], activations: [.relu, .relu, .sigmoid],
                                            loss: .squaredError)
        let network = try Network(backend: CPUBackend(), architecture: architecture)
        try network.setParameters((0..<3).map { LayerParameters(weight: [Float(theta[$0])], bias: [Float(bias[$0])]) })
        let result = try network.lossAndGradients(inputs: [Float(x)], targets: [Float(y)], count: 1)
        // The backend's cost is ½(ŷ − y)²: twice its gradient is the gradient of (ŷ − y)².
        let backendTheta2 = 2 * Double(result.gradients[1].weight[0])
        let backendB2 = 2 * Double(result.gradients[1].bias[0])
        #expect(abs(backendTheta2 - dTheta2) <= 1e-4 * max(abs(dTheta2), 1e-3))
        #expect(abs(backendB2 - dB2) <= 1e-4 * max(abs(dB2), 1e-3))

        let e = try ChainExplanation(x: x, y: y, theta: theta, bias: bias)
        #expect(abs(e.termByTerm[0].value - dTheta2) <= 1e-14)
        #expect(abs(e.termByTerm[1].value - dB2) <= 1e-14)
        #expect(abs(e.gradients[2].value - dTheta2) <= 1e-14)
        #expect(e.verification.passed)
    }

    @Test("all six printed gradients equal the graph's, the backend's ×2 and finite differences",
          arguments: [Activation.relu, .sigmoid, .tanh, .identity])
    func allGradients(hidden: Activation) throws {
        let e = try ChainExplanation(hidden: hidden)
        let v = e.verification
        #expect(v.checks.map(\.name) == ["∂C/∂θ₁", "∂C/∂b₁", "∂C/∂θ₂", "∂C/∂b₂", "∂C/∂θ₃", "∂C/∂b₃"])
        #expect(v.checks.map(\.explained) == e.gradients.map(\.value))
        for c in v.checks {
            #expect(abs(c.graph - c.explained) <= 1e-12, "\(c.name)")
            let backend = try #require(c.backend)
            #expect(abs(backend - c.explained) <= 1e-4 * max(abs(c.explained), 1e-2), "\(c.name)")
            #expect(abs(c.finiteDifference - c.explained) <= 1e-8, "\(c.name)")
        }
        #expect(v.passed)
        #expect(v.checks.allSatisfy { $0.explained != 0 })
    }

    @Test("an inactive ReLU (z² ≤ 0) stops the gradient of everything below it")
    func deadReLU() throws {
        let e = try ChainExplanation(theta: [0.9, -1.3, -0.7], bias: [0.1, -0.4, 0.5])
        #expect(e.local[3].value == 0)                     // g'(z²) = 0
        #expect(e.gradients[0...3].allSatisfy { $0.value == 0 })   // θ₁, b₁, θ₂, b₂: behind g'(z²) = 0
        #expect(e.gradients[4].value == 0)                        // θ₃: ∂z³/∂θ₃ = a² = 0
        #expect(e.gradients[5].value != 0)                        // b₃ still learns
        #expect(e.verification.passed)
    }

    @Test("at a ReLU kink (z¹ = 0) finite differences are marked n/a and left out; graph and backend still pass")
    func kink() throws {
        let e = try ChainExplanation(x: 0, bias: [0, 0, 0])
        let v = e.verification
        #expect(v.finiteDifferenceNote == "n/a: ReLU kink at z¹ = 0 (finite differences are not valid there)")
        #expect(v.finiteDifferenceDifference > Verification.finiteDifferenceTolerance)   // why it cannot count
        #expect(v.graphDifference <= Verification.graphTolerance)
        #expect(try #require(v.backendDifference) <= Verification.backendTolerance)
        #expect(v.passed)
        let text = e.render()
        #expect(text.contains("finite differences n/a: ReLU kink at z¹ = 0 (finite differences are not valid there)"))
        #expect(!text.contains("✗"))
        #expect(try e.json().contains("\"finite_difference_note\" : \"n/a: ReLU kink at z¹ = 0"))
        #expect(try e.json().contains("\"term_by_term\"") && !e.json().contains("termByTerm"))
    }

    @Test("a kink that a step of h crosses (x = 1000, z¹ = 0.005) is n/a too; away from any kink the check counts")
    func kinkWithinStep() throws {
        let near = try ChainExplanation(x: 1000, theta: [0.000005, 1, 1], bias: [0, 0, 0]).verification
        #expect(near.finiteDifferenceNote == "n/a: ReLU kink within a step h of z¹ = 0.005 (finite differences are not valid there)")
        #expect(near.passed)
        #expect(try ChainExplanation().verification.finiteDifferenceNote == nil)
        #expect(try ChainExplanation(theta: [0.9, -1.3, -0.7]).verification.finiteDifferenceNote == nil)   // dead, not at 0
        let smooth = try ChainExplanation(x: 0, bias: [0, 0, 0], hidden: .sigmoid).verification
        #expect(smooth.finiteDifferenceNote == nil)
        #expect(smooth.passed)
    }

    @Test("finite differences marked n/a leave every other check in force")
    func notApplicableKeepsOtherChecks() {
        let wrong = GradientCheck(name: "∂C/∂θ", explained: 1, graph: 2, finiteDifference: 5)
        #expect(!Verification(checks: [wrong], backendNote: "", finiteDifferenceNote: "n/a").passed)
        let right = GradientCheck(name: "∂C/∂θ", explained: 1, graph: 1, backend: 1, finiteDifference: 5)
        #expect(Verification(checks: [right], backendNote: "", finiteDifferenceNote: "n/a").passed)
        #expect(!Verification(checks: [right], backendNote: "").passed)
    }

    @Test("the text shows the chain, the reuse of ∂C/∂z³, and says the backend is doubled")
    func rendering() throws {
        let text = try ChainExplanation().render()
        for expected in ["C = (ŷ − y)²", "∂C/∂θ₂ = 2(ŷ − y)·σ(z³)(1 − σ(z³))·θ₃·g'(z²)·a¹",
                         "∂C/∂b₂ = 2(ŷ − y)·σ(z³)(1 − σ(z³))·θ₃·g'(z²)·1", "∂C/∂z³ is computed once",
                         "∂C/∂z²  = ∂C/∂z³·θ₃·g'(z²)", "×2", "½(ŷ − y)²"] {
            #expect(text.contains(expected), "missing: \(expected)")
        }
        #expect(!text.contains("✗"))
    }

    @Test("a number beyond Float's range is rejected up front with a one-line message naming its option",
          arguments: [(1e300, 1.0, [0.9, 1.3, -0.7], "--x"), (.infinity, 1, [0.9, 1.3, -0.7], "--x"),
                      (0.5, .nan, [0.9, 1.3, -0.7], "--y"), (0.5, 1, [0.9, -1e39, -0.7], "--theta")])
    func outOfFloatRange(x: Double, y: Double, theta: [Double], option: String) {
        let error = #expect(throws: ExplainError.self) { try ChainExplanation(x: x, y: y, theta: theta) }
        let message = error?.description ?? ""
        #expect(message.hasPrefix(option + " "), "\(message)")
        #expect(message.contains("Float"))
        #expect(!message.contains("\n"))
        #expect(throws: ExplainError.self) { try ChainExplanation(bias: [0, Double(Float.greatestFiniteMagnitude) * 2, 0]) }
    }

    @Test("inputs within Float's range whose forward pass overflows Float are an error; the largest Float is fine")
    func forwardOverflow() throws {
        #expect(throws: ExplainError.self) { try ChainExplanation(x: 3e38, theta: [1, 2, 1], bias: [0, 0, 0]) }
        #expect(try ChainExplanation(x: 1e38).verification.passed)
    }

    @Test("wrong counts and softmax are errors")
    func badInput() {
        #expect(throws: ExplainError.self) { try ChainExplanation(theta: [1, 2]) }
        #expect(throws: ExplainError.self) { try ChainExplanation(hidden: .softmax) }
    }
}
