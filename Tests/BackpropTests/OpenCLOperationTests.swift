@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL
import Testing

/// Every Backend operation, OpenCL against the CPU backend, from identical random inputs.
/// Tolerances (see `EquivalenceSuite`): 1e-5 norm-wise where float32 summation order differs
/// (GEMM over k ≤ 785 terms, batch sums, the loss reduction) or `exp`/`tanh` may differ in the
/// last ulp; 1e-6 for the reorder-free elementwise kernels and optimizers; exact for fills,
/// gathers and correct counts.
@Suite("OpenCL operations vs CPU", .enabled(if: OpenCLTestDevice.enabled))
struct OpenCLOperationTests {
    @Test("GEMM: all transposes, α/β ≠ 0/1, sizes 1…785 and mixed shapes")
    func gemm() throws {
        var suite = EquivalenceSuite(backend: try OpenCLTestDevice.backend(), reference: CPUBackend())
        let checks = try suite.gemmChecks()
        #expect(checks.count == 10 * 4 * 2)
        expectAllPass(checks)
    }

    @Test("Elementwise, activations, losses, optimizers, gather", arguments: EquivalenceSuite.standardSizes)
    func operations(size: Int) throws {
        var suite = EquivalenceSuite(backend: try OpenCLTestDevice.backend(), reference: CPUBackend(), seed: UInt64(size))
        expectAllPass(try suite.operationChecks(rows: size, cols: size))
        let sizes = EquivalenceSuite.standardSizes
        let other = sizes[((sizes.firstIndex(of: size) ?? 0) + 2) % sizes.count]
        expectAllPass(try suite.operationChecks(rows: size, cols: other))
        expectAllPass(try suite.operationChecks(rows: other, cols: size))
    }

    @Test("Every GPU tiling, the small CPU one and the fallback are correct too (run here on the CPU device)",
          arguments: [GemmTiling.gpu, .gpuMedium, .gpuSmall, .cpuSmall, .small])
    func otherTilings(tiling: GemmTiling) throws {
        let shared = try OpenCLTestDevice.backend()
        let (info, device) = try selectOpenCLDevice(String(shared.device.index))
        let backend = try OpenCLBackend(info: info, device: device, cache: ProgramCache(directory: nil), tilings: [tiling])
        #expect(backend.tilings == [tiling])
        var suite = EquivalenceSuite(backend: backend, reference: CPUBackend(), sizes: [1, 7, 129, 33, 200])
        expectAllPass(try suite.gemmChecks())
    }

    @Test("Device-side scalars accumulate until downloaded")
    func scalarsStayOnDevice() throws {
        let backend = try OpenCLTestDevice.backend()
        let output = try backend.makeMatrix(rows: 3, cols: 4, values: [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0])
        let targets = try backend.makeMatrix(rows: 3, cols: 4, values: [1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0])
        let count = try backend.makeMatrix(rows: 1, cols: 1)
        try backend.countCorrect(output: output, targets: targets, into: count)
        try backend.countCorrect(output: output, targets: targets, into: count)
        #expect(try backend.scalar(count) == 6)
    }

    @Test("A prediction holding a NaN is never counted correct")
    func nanPredictions() throws {
        let backend = try OpenCLTestDevice.backend()
        let output = try backend.makeMatrix(rows: 3, cols: 2, values: [.nan, 0, 0, 1, 0, 0])
        let targets = try backend.makeMatrix(rows: 3, cols: 2, values: [1, 0, 0, 1, 0, 0])
        let count = try backend.makeMatrix(rows: 1, cols: 1)
        try backend.countCorrect(output: output, targets: targets, into: count)
        #expect(try backend.scalar(count) == 1)
        let single = try backend.makeMatrix(rows: 1, cols: 3, values: [.nan, 0.7, 0.2])
        let singleTargets = try backend.makeMatrix(rows: 1, cols: 3, values: [0, 1, 0])
        try backend.fill(count, with: 0)
        try backend.countCorrect(output: single, targets: singleTargets, into: count)
        #expect(try backend.scalar(count) == 2)
    }
}
