import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// `explain equations`: the four equations with numbers against the graph, the CPU backend and
/// finite differences. Tolerances as in `Verification` (1e−10 Double vs Double, 1e−4 for the
/// Float backend, 1e−6 for finite differences with h = 1e−5).
@Suite("Explain: the four equations")
struct ExplainEquationsTests {
    @Test("every printed gradient equals the graph's, the backend's and finite differences",
          arguments: [([2, 3, 2], Activation.sigmoid), ([3, 4, 2], .tanh), ([2, 3, 3, 2], .sigmoid),
                      ([2, 4, 2], .relu), ([1, 2], .identity)])
    func matchesOracles(sizes: [Int], activation: Activation) throws {
        let e = try EquationsExplanation(sizes: sizes, activation: activation)
        let v = e.verification
        let parameterCount = zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
        #expect(v.checks.count == parameterCount)
        for c in v.checks {
            #expect(abs(c.graph - c.explained) <= 1e-12, "\(c.name)")
            let backend = try #require(c.backend)
            #expect(abs(backend - c.explained) <= 1e-4 * max(abs(c.explained), 1e-3), "\(c.name)")
            #expect(abs(c.finiteDifference - c.explained) <= 1e-8, "\(c.name)")
        }
        #expect(v.finiteDifferenceNote == nil)
        #expect(v.passed)
        #expect(v.checks.contains { abs($0.explained) > 1e-4 })
    }

    @Test("δᴸ = (a − y) ⊙ σ'(zᴸ), δˡ = ((Wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ'(zˡ), ∂C/∂b = δ, ∂C/∂W = δaᵀ, recomputed here")
    func equationsByHand() throws {
        let e = try EquationsExplanation()
        #expect(e.layers.map(\.rows) == [3, 2])
        let (hidden, output) = (e.layers[0], e.layers[1])
        func sigmoidSlope(_ z: Double) -> Double { let s = 1 / (1 + exp(-z)); return s * (1 - s) }
        // (BP1)
        for k in 0..<2 {
            let expected = (output.a[k] - e.target[k]) * sigmoidSlope(output.z[k])
            #expect(abs(output.delta[k] - expected) <= 1e-15)
        }
        // (BP2): (W²)ᵀδ², W² is 2 × 3 column-major.
        for j in 0..<3 {
            let back = output.weight[0 + j * 2] * output.delta[0] + output.weight[1 + j * 2] * output.delta[1]
            #expect(abs(hidden.delta[j] - back * sigmoidSlope(hidden.z[j])) <= 1e-15)
        }
        // (BP3) and (BP4), read off the checks in the flattened order (W¹, b¹, W², b²).
        let checks = e.verification.checks
        #expect(checks[6].name == "∂C/∂b¹[1]")
        #expect(checks[6].explained == hidden.delta[0])
        #expect(checks[9].name == "∂C/∂W²[1,1]")
        #expect(abs(checks[9].explained - output.delta[0] * hidden.a[0]) <= 1e-15)
        #expect(abs(checks[1].explained - hidden.delta[1] * e.input[0]) <= 1e-15)   // ∂C/∂W¹[2,1] = δ¹₂·x₁
    }

    @Test("the text shows each equation with its numbers; the JSON carries the same numbers")
    func rendering() throws {
        let e = try EquationsExplanation()
        let text = e.render()
        for expected in ["(BP1) δᴸ = ∇ₐC ⊙ σ'(zᴸ)", "(BP2) δˡ = ((Wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ'(zˡ)", "(BP3) ∂C/∂bˡ = δˡ",
                         "(BP4) ∂C/∂Wˡ = δˡ(aˡ⁻¹)ᵀ", "δ² = (a² − y) ⊙ σ'(z²) =", "∂C/∂W¹ = δ¹(x)ᵀ =",
                         num(e.layers[0].delta[0]), num(e.cost)] {
            #expect(text.contains(expected), "missing: \(expected)")
        }
        #expect(!text.contains("✗"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(e.json().utf8)) as? [String: Any])
        // The encoder writes each Double in its shortest round-trip form; Foundation's parser
        // may read the last digit back one ulp off, so the parsed numbers get 1e−15 relative.
        let layers = try #require(json["layers"] as? [[String: Any]])
        let delta = try #require(layers.first?["delta"] as? [Double])
        #expect(relativeDifference(delta, e.layers[0].delta) <= 1e-15)
        let cost = try #require(json["cost"] as? Double)
        #expect(abs(cost - e.cost) <= 1e-15 * e.cost)
        #expect(try e.json().contains("\"cost\" : \(e.cost)"))
    }

    @Test("a ReLU exactly at its kink, where every gradient is 0, still passes (finite differences n/a)")
    func kinkWithZeroGradient() throws {
        let e = try EquationsExplanation(sizes: [2, 2], activation: .relu, input: [1, 2], target: [0, 1], seed: 1)
        #expect(e.verification.finiteDifferenceNote != nil)
        #expect(e.verification.passed, "graph \(e.verification.graphDifference), backend \(e.verification.backendDifference ?? -1)")
    }

    @Test("with ReLU and no seed, the example starts from a seed at which every unit passes error back")
    func reluExampleIsAlive() throws {
        let chosen = try EquationsExplanation(activation: .relu)
        #expect(chosen.layers.allSatisfy { $0.slope.allSatisfy { $0 == 1 } })
        #expect(chosen.seed > 1)
        #expect(try EquationsExplanation(activation: .sigmoid).seed == 1)
        // Seed 1 switches every hidden ReLU off: the text says why its gradients are zero.
        let dead = try EquationsExplanation(activation: .relu, seed: 1)
        #expect(dead.layers[0].slope.allSatisfy { $0 == 0 })
        #expect(dead.render().contains("the error stops"))
        #expect(!chosen.render().contains("the error stops"))
    }

    @Test("reluKink finds a ReLU unit at z = 0; the note names the layer and the unit")
    func reluKinkInANetwork() throws {
        let architecture = try Architecture(sizes: [2, 2, 1], activations: [.relu, .relu], loss: .squaredError)
        // z¹ = W¹x + b¹ with x = (1, 2): unit 1 is 0.5, unit 2 is 1 − 1 = 0.
        var parameters = [DoubleLayerParameters(weight: [0.5, 1, 0, -1], bias: [0, 1]),
                          DoubleLayerParameters(weight: [1, 1], bias: [0.2])]
        let kink = try #require(reluKink(architecture: architecture, parameters: parameters, input: [1, 2]))
        #expect(kink == ReLUKink(layer: 1, unit: 2, z: 0))
        #expect(finiteDifferenceNote(kink, sizes: architecture.sizes)
                == "n/a: ReLU kink at z¹₂ = 0 (finite differences are not valid there)")
        let oracles = try oracleGradients(architecture: architecture, parameters: parameters, input: [1, 2], target: [1], backend: CPUBackend())
        #expect(oracles.reluKink == kink)

        parameters[0].bias[1] = 1.5                          // z¹₂ = 0.5: far from the kink
        #expect(reluKink(architecture: architecture, parameters: parameters, input: [1, 2]) == nil)
        let smooth = try Architecture(sizes: [2, 2, 1], activations: [.sigmoid, .identity], loss: .squaredError)
        parameters[0].bias[1] = 1
        #expect(reluKink(architecture: smooth, parameters: parameters, input: [1, 2]) == nil)
    }

    @Test("bad sizes, inputs and activations are errors with a message")
    func badInput() {
        #expect(throws: ExplainError.self) { try EquationsExplanation(sizes: [2]) }
        #expect(throws: ExplainError.self) { try EquationsExplanation(sizes: [2, 0, 2]) }
        #expect(throws: ExplainError.self) { try EquationsExplanation(sizes: [2, 30, 2]) }
        #expect(throws: ExplainError.self) { try EquationsExplanation(input: [1, 2, 3]) }
        #expect(throws: ExplainError.self) { try EquationsExplanation(activation: .softmax) }
        let huge = #expect(throws: ExplainError.self) { try EquationsExplanation(input: [1e300, 1]) }
        #expect(huge?.description.hasPrefix("--input 1e+300 is out of range") == true)
        let target = #expect(throws: ExplainError.self) { try EquationsExplanation(target: [1, -.infinity]) }
        #expect(target?.description.hasPrefix("--target -inf is out of range") == true)
        #expect(throws: ExplainError.self) { try EquationsExplanation(input: [3e38, 3e38]) }   // W¹x overflows Float
        #expect(throws: ExplainError.self) { try EquationsExplanation(sizes: [Int](repeating: 2, count: 11)) }
    }
}
