import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// `explain paths`: ∂E/∂w¹ⱼᵢ = xᵢ·Σₖ δₖ·Σ_paths Π(weights) against backpropagation (graph, CPU
/// backend with identity activations and squared error) and finite differences. Tolerances as
/// in `Verification`.
@Suite("Explain: paths")
struct ExplainPathsTests {
    @Test("the path sum equals backprop's gradient for every first-layer weight",
          arguments: [[2, 2, 2, 2], [2, 3, 2], [3, 2], [2, 3, 4, 2, 3], [1, 1, 1]])
    func pathSumEqualsBackprop(sizes: [Int]) throws {
        let e = try PathsExplanation(sizes: sizes)
        #expect(e.firstLayer.count == sizes[0] * sizes[1])
        #expect(e.paths.count == sizes.dropFirst(2).reduce(1, *))
        for c in e.verification.checks {
            #expect(abs(c.graph - c.explained) <= 1e-12, "\(c.name)")
            let backend = try #require(c.backend)
            #expect(abs(backend - c.explained) <= 1e-4 * max(abs(c.explained), 1e-3), "\(c.name)")
            #expect(abs(c.finiteDifference - c.explained) <= 1e-8, "\(c.name)")
        }
        #expect(e.verification.passed)
    }

    @Test("the seed's 2-2-2-2 formula, written out in the test: x₁·Σₖ δₖ·(w²₁₁w³ₖ₁ + w²₂₁w³ₖ₂)")
    func seedFormula() throws {
        let e = try PathsExplanation()
        let (w2, w3) = (e.weights[1], e.weights[2])           // 2 × 2, column-major: (j, i) at j + 2i
        func w(_ m: [Double], _ j: Int, _ i: Int) -> Double { m[(j - 1) + (i - 1) * 2] }
        let paths = (1...2).map { k in w(w2, 1, 1) * w(w3, k, 1) + w(w2, 2, 1) * w(w3, k, 2) }
        let expected = e.input[0] * (e.delta[0] * paths[0] + e.delta[1] * paths[1])
        #expect(abs(e.chosen.gradient - expected) <= 1e-15)
        #expect(e.chosen.name == "w¹₁₁")
        #expect(e.paths.map { $0.units.joined(separator: " → ") } ==
                ["h¹₁ → h²₁ → y₁", "h¹₁ → h²₂ → y₁", "h¹₁ → h²₁ → y₂", "h¹₁ → h²₂ → y₂"])
        #expect(e.paths.map(\.weights) == [["w²₁₁", "w³₁₁"], ["w²₂₁", "w³₁₂"], ["w²₁₁", "w³₂₁"], ["w²₂₁", "w³₂₂"]])
        let backprop = try #require(e.verification.checks.first?.backend)
        #expect(abs(backprop - expected) <= 1e-4 * abs(expected))
    }

    @Test("one layer: Δwₖᵢ = (yₖ − tₖ)·xᵢ, the empty path")
    func singleLayer() throws {
        let e = try PathsExplanation(sizes: [3, 2], weight: (2, 3))
        #expect(e.chosen.gradient == e.delta[1] * e.input[2])
        #expect(e.paths.count == 1 && e.paths[0].weights.isEmpty)
    }

    @Test("the text lists every path with its product and the sum, and --weight picks the weight")
    func rendering() throws {
        let text = try PathsExplanation(weight: (2, 1)).render()
        for expected in ["∂E/∂w¹₂₁ = x₁ · Σₖ δₖ · Σ_paths Π(weights on the path)", "h¹₂ → h²₁ → y₁", "w²₁₂·w³₁₁",
                         "Σ to y₂", "δ₁ = y₁ − t₁", "E = ½Σₖ(tₖ − yₖ)²"] {
            #expect(text.contains(expected), "missing: \(expected)")
        }
        #expect(!text.contains("✗"))
    }

    @Test("a weight outside the layer, or too many paths, is an error")
    func badInput() {
        #expect(throws: ExplainError.self) { try PathsExplanation(weight: (3, 1)) }
        #expect(throws: ExplainError.self) { try PathsExplanation(weight: (1, 0)) }
        #expect(throws: ExplainError.self) { try PathsExplanation(sizes: [2, 2, 8, 8, 8, 2]) }
        let huge = #expect(throws: ExplainError.self) { try PathsExplanation(input: [1, -1e39]) }
        #expect(huge?.description.hasPrefix("--input -1e+39 is out of range") == true)
    }

    @Test("many wide layers are an error with a message, not an integer overflow",
          arguments: [25, 10, 11, 40])
    func manyLayers(count: Int) {
        let sizes = [Int](repeating: 8, count: count)
        #expect(PathsExplanation.pathCount(sizes: sizes) == nil)
        let error = #expect(throws: ExplainError.self) { try PathsExplanation(sizes: sizes) }
        #expect(error?.description.contains("\n") == false)
        #expect(error?.description.contains(count > 10 ? "at most 10 layer sizes" : "paths") == true)
    }

    @Test("the path count stops at the first product past the maximum, so huge sizes cannot overflow it")
    func pathCountSaturates() {
        #expect(PathsExplanation.pathCount(sizes: [1, 1, Int.max, Int.max, Int.max]) == nil)
        #expect(PathsExplanation.pathCount(sizes: [2, 2, 8, 8, 8]) == nil)          // 512 > 256
        #expect(PathsExplanation.pathCount(sizes: [2, 2, 16, 16]) == 256)
        #expect(PathsExplanation.pathCount(sizes: [2, 2, 4, 4, 4]) == 64)
        #expect(PathsExplanation.pathCount(sizes: [3, 2]) == 1)
    }
}
