import Foundation
import Testing
@testable import BackpropCore
@testable import BackpropCPU

/// The bound-based equivalence checks, on the CPU only: a backend that computes correctly in
/// another order passes, and backends that are wrong by a small but real amount fail.
@Suite("Equivalence checks: bounds from the float32 error analysis")
struct EquivalenceBoundTests {
    /// GEMM by plain loops, summing over k backwards — a valid order OpenBLAS never uses — or,
    /// with `dropLastTerm`, an off-by-one loop bound that leaves out one of the k products.
    final class LoopGEMM: CountingCPUBackend {
        let dropLastTerm: Bool
        init(dropLastTerm: Bool = false) { self.dropLastTerm = dropLastTerm }

        override func gemm(transposeA: Bool, transposeB: Bool, alpha: Float, _ a: Operand<CPUStorage>,
                           _ b: Operand<CPUStorage>, beta: Float, _ c: Operand<CPUStorage>) throws {
            let k = transposeA ? a.rows : a.cols
            let (pa, pb, pc) = (a.floats, b.floats, c.floats)
            for j in 0..<c.cols {
                for i in 0..<c.rows {
                    var s: Float = 0
                    for l in stride(from: k - 1, through: dropLastTerm ? 1 : 0, by: -1) {
                        let x = transposeA ? pa[l + i * a.rows] : pa[i + l * a.rows]
                        let y = transposeB ? pb[j + l * b.rows] : pb[l + j * b.rows]
                        s += x * y
                    }
                    pc[i + j * c.rows] = alpha * s + (beta == 0 ? 0 : beta * pc[i + j * c.rows])
                }
            }
        }
    }

    /// The loss gradient without the 1/n of the batch mean.
    final class MissingMean: CountingCPUBackend {
        override func lossAndGradient(_ loss: Loss, z: Operand<CPUStorage>, a: Operand<CPUStorage>,
                                      targets y: Operand<CPUStorage>, meanOver n: Int,
                                      gradient: Operand<CPUStorage>, lossSum: Operand<CPUStorage>) throws {
            try base.lossAndGradient(loss, z: z, a: a, targets: y, meanOver: 1, gradient: gradient, lossSum: lossSum)
        }
    }

    /// Adds the bias of the next row: a wrong index.
    final class ShiftedBias: CountingCPUBackend {
        override func addBias(_ b: Operand<CPUStorage>, to z: Operand<CPUStorage>) throws {
            for j in 0..<z.cols {
                for i in 0..<z.rows { z.floats[i + j * z.rows] += b.floats[(i + 1) % z.rows] }
            }
        }
    }

    /// tanh good to 2⁻¹⁶ relative (about 250 ulp), as a fast approximation might be.
    final class RoughTanh: CountingCPUBackend {
        override func activate(_ f: Activation, _ z: Operand<CPUStorage>, into a: Operand<CPUStorage>) throws {
            try base.activate(f, z, into: a)
            if f == .tanh { for i in 0..<a.count { a.floats[i] *= 1 + 0x1p-16 } }
        }
    }

    @Test("a valid summation order passes: GEMMs, networks and training steps")
    func otherOrderPasses() throws {
        var suite = EquivalenceSuite(backend: LoopGEMM(), reference: CPUBackend(), sizes: [1, 7, 33, 129])
        let gemm = try suite.gemmChecks()
        expectAllPass(gemm)
        // The order really differs from OpenBLAS's: some results are not bit-equal.
        #expect(gemm.contains { $0.slack > 0 })
        expectAllPass(try suite.networkChecks(batchSizes: [1, 13, 32]))
        expectAllPass(try suite.trainingChecks(steps: 5))
    }

    @Test("a GEMM that leaves out one product of k fails every GEMM check and the networks")
    func droppedTermFails() throws {
        var suite = EquivalenceSuite(backend: LoopGEMM(dropLastTerm: true), reference: CPUBackend(), sizes: [1, 7, 33, 129])
        let gemm = try suite.gemmChecks()
        #expect(gemm.allSatisfy { !$0.passed }, "\(gemm.filter(\.passed))")
        let networks = try suite.networkChecks(batchSizes: [1, 13])
        #expect(networks.allSatisfy { !$0.passed }, "\(networks.filter(\.passed))")
    }

    @Test("a loss gradient without 1/n fails every network check at batch > 1, against both references")
    func missingMeanFails() throws {
        var suite = EquivalenceSuite(backend: MissingMean(), reference: CPUBackend())
        let checks = try suite.networkChecks(batchSizes: [13, 128])
        #expect(checks.count == 24)
        #expect(checks.allSatisfy { !$0.passed }, "\(checks.filter(\.passed))")
    }

    @Test("a bias from the wrong row and a tanh off by 2⁻¹⁶ fail their operation checks")
    func smallElementwiseErrorsFail() throws {
        var shifted = EquivalenceSuite(backend: ShiftedBias(), reference: CPUBackend())
        let failedShifted = try shifted.operationChecks(rows: 7, cols: 33).filter { !$0.passed }.map(\.name)
        #expect(failedShifted == ["addBias 7×33"])
        var rough = EquivalenceSuite(backend: RoughTanh(), reference: CPUBackend())
        let failedRough = try rough.operationChecks(rows: 33, cols: 7).filter { !$0.passed }.map(\.name)
        #expect(failedRough.contains("activate tanh 33×7"))
        #expect(failedRough.allSatisfy { $0.contains("tanh") || $0.hasPrefix("loss mse") || $0.hasPrefix("countCorrect mse") })
    }

    @Test("the rounding model: float sums in three orders stay within γ_{k−1}·Σ|xᵢ| of the exact sum")
    func sumBoundHolds() {
        var rng = SeededGenerator(seed: 11)
        for k in [2, 10, 1000, 100_000] {
            let x = (0..<k).map { _ in Float(rng.nextNormal()) * Float(1 + rng.nextUniform() * 1000) }
            let bound = Bounded.sum(x.map(Bounded.init))
            let forward = x.reduce(Float(0), +), backward = x.reversed().reduce(Float(0), +)
            let pairwise = Self.pairwiseSum(x[...])
            for s in [forward, backward, pairwise] {
                #expect(abs(Double(s) - bound.value) <= bound.error, "k = \(k)")
            }
            #expect(bound.error < 1.1 * Float32Rounding.gamma(k - 1) * x.reduce(0) { $0 + abs(Double($1)) })
        }
    }

    static func pairwiseSum(_ x: ArraySlice<Float>) -> Float {
        x.count <= 2 ? x.reduce(0, +) : pairwiseSum(x.prefix(x.count / 2)) + pairwiseSum(x.dropFirst(x.count / 2))
    }

    @Test("gradcheck reports measured error beside its bound and the slack distribution")
    func slackSummary() {
        let checks = [EquivalenceCheck(name: "a", values: [Float(1), 2], reference: [Float(1), 2.5], bounds: [0, 1]),
                      EquivalenceCheck(name: "b", values: [Float(3)], reference: [Float(3)], bounds: [0]),
                      EquivalenceCheck(name: "c", values: [Float(1)], reference: [Float(2)], bounds: [0.5])]
        #expect(checks.map(\.slack) == [0.5, 0, 2])
        #expect(checks.map(\.passed) == [true, true, false])
        #expect(checks[0].difference == 0.5 && checks[0].bound == 1)
        let summary = SlackSummary(checks)
        #expect(summary.quantile(1) == 2 && summary.quantile(0.5) == 0.5)
        #expect(summary.decades.first?.count == 1 && summary.decades.last?.count == 1)
    }
}
