@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL
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

    @Test func tilingFollowsTheDeviceType() {
        #expect(GemmTiling.forDevice(isGPU: false, maxWorkGroupSize: 4096, localMemoryBytes: 1 << 20) == .cpu)
        #expect(GemmTiling.forDevice(isGPU: true, maxWorkGroupSize: 1024, localMemoryBytes: 48 << 10) == .gpu)
        #expect(GemmTiling.forDevice(isGPU: true, maxWorkGroupSize: 128, localMemoryBytes: 48 << 10) == .small)
        for t in [GemmTiling.cpu, .gpu, .small] {
            #expect(t.tm % t.wm == 0 && t.tn % t.wn == 0 && t.wm % t.vw == 0)
            #expect(t.tk % t.vw == 0 && t.tm % t.vw == 0 && t.tn % t.vw == 0)
        }
    }

    @Test func benchmarkMeasuresOpenCL() throws {
        let suite = BenchmarkSuite(backend: try OpenCLTestDevice.backend(), quick: true, repetitions: 2)
        let result = try suite.gemm(m: 64, n: 33, k: 65, transposeB: true)
        #expect(result.key == "gemm/NT/64x33x65")
        #expect(result.min > 0 && result.min.isFinite && result.min <= result.median && result.median <= result.max)
    }

    @Test func cliValueForTheBackend() throws {
        #expect(try BackendRegistry.standard.registration(named: " OpenCL ").name == "opencl")
        #expect(throws: BackendError.invalidChoice(variable: "--backend", value: "metal", valid: "cpu, opencl")) {
            try BackendRegistry.standard.registration(named: "metal", variable: "--backend")
        }
    }
}
