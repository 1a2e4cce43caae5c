@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL
import Foundation
import Testing

@Suite("OpenCL devices and speed probe", .enabled(if: OpenCLTestDevice.enabled))
struct OpenCLDeviceTests {
    @Test func listsTheDevices() throws {
        let backend = try OpenCLTestDevice.backend()
        let devices = try openCLDevices()
        #expect(devices.map(\.index) == Array(devices.indices))
        #expect(devices.contains(backend.device))
        for d in devices {
            #expect(!d.name.isEmpty && !d.platform.isEmpty && d.version.hasPrefix("OpenCL"))
            #expect(d.computeUnits > 0 && d.globalMemoryBytes > 0)
        }
        #expect(backend.name == "OpenCL: \(backend.device.name)")
    }

    @Test("a home where PoCL cannot make its kernel cache (read-only in a container) still lists its devices")
    func readOnlyHomeKeepsPoCL() throws {
        let dir = try temporaryDirectory()
        let normal = try backprop(["devices"], in: dir)
        try #require(normal.status == 0, "\(normal.stderr)")
        try #require(normal.stdout.contains("Portable Computing Language"), "PoCL (pocl-opencl-icd), whose cache this is about, is not installed")
        // Nothing can be made under /proc, not even by root.
        let readOnly = try backprop(["devices"], in: dir, environment: ["HOME": "/proc/no-home", "XDG_CACHE_HOME": "", "POCL_CACHE_DIR": ""])
        #expect(readOnly.status == 0 && readOnly.stdout.contains("Portable Computing Language") && !readOnly.stdout.contains("no devices"),
                "\(readOnly.stdout)\(readOnly.stderr)")
    }

    @Test func tilingFollowsTheDeviceType() {
        #expect(GemmTiling.family(isGPU: false, maxWorkGroupSize: 4096, localMemoryBytes: 1 << 20) == [.cpu, .cpuSmall])
        #expect(GemmTiling.family(isGPU: true, maxWorkGroupSize: 1024, localMemoryBytes: 48 << 10)
                == [.gpu, .gpuMedium, .gpuSmall])
        #expect(GemmTiling.family(isGPU: true, maxWorkGroupSize: 128, localMemoryBytes: 48 << 10) == [.gpuSmall])
        #expect(GemmTiling.family(isGPU: true, maxWorkGroupSize: 64, localMemoryBytes: 48 << 10) == [.small])
        for t in [GemmTiling.cpu, .cpuSmall, .gpu, .gpuMedium, .gpuSmall, .small] {
            #expect(t.tm % t.wm == 0 && t.tn % t.wn == 0 && t.wm % t.vw == 0)
            #expect(t.tk % t.vw == 0 && t.tm % t.vw == 0 && t.tn % t.vw == 0)
        }
    }

    /// At least two work-groups per compute unit where a tiling gives them, the largest such
    /// tile; else the most work-groups: an MLP step at batch 128 on 132 compute units (an H100).
    @Test func tilingFollowsTheShape() {
        let gpus = GemmTiling.family(isGPU: true, maxWorkGroupSize: 1024, localMemoryBytes: 48 << 10)
        #expect(GemmTiling.choose(gpus, m: 4096, n: 4096, computeUnits: 132) == 0)   // 1024 groups of 128²
        #expect(GemmTiling.choose(gpus, m: 2048, n: 2048, computeUnits: 132) == 1)   // 1024 of 64²
        #expect(GemmTiling.choose(gpus, m: 512, n: 128, computeUnits: 132) == 2)     // 64 of 32², the most
        #expect(GemmTiling.choose(gpus, m: 1, n: 1, computeUnits: 132) == 0)         // one group whatever the tile
        let cpus = GemmTiling.family(isGPU: false, maxWorkGroupSize: 4096, localMemoryBytes: 1 << 20)
        #expect(GemmTiling.choose(cpus, m: 512, n: 128, computeUnits: 2) == 0)
        #expect(GemmTiling.choose(cpus, m: 10, n: 128, computeUnits: 2) == 1)        // 3 groups of 64×48, 6 of 32×24
    }

    @Test func benchmarkMeasuresOpenCL() throws {
        let suite = BenchmarkSuite(backend: try OpenCLTestDevice.backend(), quick: true, repetitions: 2)
        let result = try suite.gemm(m: 64, n: 33, k: 65, transposeB: true)
        #expect(result.key == "gemm/NT/64x33x65")
        #expect(result.min > 0 && result.min.isFinite && result.min <= result.median && result.median <= result.max)
    }

    @Test func cliValueForTheBackend() throws {
        #expect(try BackendRegistry.standard.registration(named: " OpenCL ").name == "opencl")
        #expect(throws: BackendError.invalidChoice(variable: "--backend", value: "metal", valid: "cpu, opencl, auto")) {
            try BackendRegistry.standard.registration(named: "metal", variable: "--backend")
        }
    }
}
