@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL
import Testing

@Suite("OpenCL networks vs CPU", .enabled(if: OpenCLTestDevice.enabled))
struct OpenCLNetworkTests {
    /// Forward outputs, loss and every parameter gradient of random networks (depths 1–4,
    /// widths 1–785, every hidden activation, every loss, batches 1, 13, 128) agree with the
    /// CPU backend to 1e-5 norm-wise: float32 reordering in GEMM and batch sums, compounded over
    /// at most four layers, stays below 1e-6 in practice. Each also matches the Double oracle to
    /// 1e-4 (see `EquivalenceSuite.oracleTolerance` for why that one is looser).
    @Test func randomNetworks() throws {
        var suite = EquivalenceSuite(backend: try OpenCLTestDevice.backend(), reference: CPUBackend(), seed: 3)
        let checks = try suite.networkChecks(batchSizes: [1, 13, 128])
        #expect(checks.count == 24)
        #expect(checks.filter { !$0.name.hasSuffix("vs Double") }.allSatisfy { $0.tolerance == 1e-5 })
        expectAllPass(checks)
    }

    /// 50 seeded steps of SGD, momentum and Adam give the same loss curve on both backends to
    /// 1e-4 relative at every step: per-step rounding differences (~1e-7) grow as the parameters
    /// drift apart, but stay orders of magnitude below that over 50 steps.
    @Test func trainingCurvesAgree() throws {
        let suite = EquivalenceSuite(backend: try OpenCLTestDevice.backend(), reference: CPUBackend())
        let checks = try suite.trainingChecks(steps: 50)
        #expect(checks.count == 3)
        expectAllPass(checks)
    }

    @Test func trainingReducesTheLoss() throws {
        let backend = try OpenCLTestDevice.backend()
        let architecture = try Architecture(inputs: 20, hidden: [33], outputs: 4, activation: .relu)
        let curve = try EquivalenceSuite.trainingCurve(backend: backend, architecture: architecture,
                                                       optimizer: .adam, steps: 50)
        let start = curve.prefix(5).reduce(0, +) / 5, end = curve.suffix(5).reduce(0, +) / 5
        #expect(end < 0.7 * start, "loss \(start) → \(end)")
    }
}
