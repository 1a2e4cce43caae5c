@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL
import Foundation
import Testing

/// Choosing a backend: explicit values and environments are passed to the API, never set with
/// setenv, so these tests cannot race with the others.
@Suite("Backend choice and errors")
struct BackendChoiceTests {
    @Test func defaultsToCPU() throws {
        #expect(try makeBackend(environment: [:]) is CPUBackend)
        #expect(try makeBackend(environment: ["BACKPROP_BACKEND": "CPU"]) is CPUBackend)
    }

    @Test func badBackendValueListsTheChoices() throws {
        let error = #expect(throws: BackendError.self) {
            try makeBackend(environment: ["BACKPROP_BACKEND": "cuda"])
        }
        #expect(error == .invalidChoice(variable: "BACKPROP_BACKEND", value: "cuda", valid: "cpu, opencl, auto"))
        #expect("\(String(describing: error))".contains("choose one of: cpu, opencl"))
    }

    @Test func explicitKindOverridesTheEnvironment() throws {
        #expect(try makeBackend(named: "cpu", environment: ["BACKPROP_BACKEND": "opencl"]) is CPUBackend)
    }

    @Test func errorNames() {
        let error = OpenCLError(code: -5, operation: "clEnqueueNDRangeKernel(gemm)")
        #expect(error.description == "clEnqueueNDRangeKernel(gemm) failed: CL_OUT_OF_RESOURCES (-5)")
        #expect(OpenCLError(code: -1001, operation: "clGetPlatformIDs").name == "CL_PLATFORM_NOT_FOUND_KHR")
        #expect(noPlatformMessage.contains("apt-get install pocl-opencl-icd"))
    }
}

@Suite("OpenCL errors", .enabled(if: OpenCLTestDevice.enabled))
struct OpenCLErrorTests {
    @Test func deviceFragmentMatchingNothing() throws {
        _ = try OpenCLTestDevice.backend()
        let error = #expect(throws: BackendError.self) {
            try makeBackend(named: "opencl", device: "no-such-device-xyz", deviceLabel: "device", environment: [:])
        }
        guard case let .invalidChoice(variable, value, valid)? = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(variable == "device" && value == "no-such-device-xyz")
        #expect(valid.contains("0 ("))
        let fromEnvironment = #expect(throws: BackendError.self) {
            try makeBackend(environment: ["BACKPROP_BACKEND": "opencl", "BACKPROP_OPENCL_DEVICE": "nothing-like-it"])
        }
        #expect(fromEnvironment.map { "\($0)" }?.hasPrefix("BACKPROP_OPENCL_DEVICE=nothing-like-it is not valid") == true)
        #expect(throws: BackendError.self) { try makeBackend(named: "opencl", device: "99", environment: [:]) }
    }

    @Test func deviceByIndexAndFragment() throws {
        let shared = try OpenCLTestDevice.backend()
        let name = shared.device.name
        #expect(try selectOpenCLDevice("0").info.index == 0)
        #expect(try selectOpenCLDevice(String(name.prefix(4)).uppercased()).info.name.lowercased()
                .contains(name.prefix(4).lowercased()))
    }

    @Test func kernelThatDoesNotCompileReportsTheBuildLog() throws {
        let backend = try OpenCLTestDevice.backend()
        let source = "kernel void broken(global float *x) { x[0] = undefined_name; }"
        let error = #expect(throws: OpenCLError.self) {
            _ = try OpenCLBackend.buildProgram(context: backend.context, info: backend.device, source: source,
                                               options: "", cache: ProgramCache(directory: nil))
        }
        #expect(error?.name == "CL_BUILD_PROGRAM_FAILURE")
        #expect(error?.buildLog.contains("undefined_name") == true)
        #expect(error?.description.contains("build log") == true)
    }

    @Test func misuseThrowsInsteadOfTrapping() throws {
        let backend = try OpenCLTestDevice.backend()
        let a = try backend.makeMatrix(rows: 3, cols: 4), b = try backend.makeMatrix(rows: 5, cols: 2)
        let c = try backend.makeMatrix(rows: 3, cols: 2)
        #expect(throws: BackendError.self) { try backend.gemm(transposeA: false, transposeB: false, alpha: 1, a, b, beta: 0, c) }
        let cpu = try CPUBackend().makeMatrix(rows: 3, cols: 4)
        #expect(throws: BackendError.foreignStorage(operation: "hadamard")) { try backend.hadamard(a, cpu, into: a) }
        let indices = try backend.makeIndexBuffer(count: 2)
        try [Int32(0), 9].withUnsafeBufferPointer { try backend.upload($0, to: indices) }
        #expect(throws: BackendError.self) { try backend.gatherColumns(a, indices: indices, offset: 0, into: c.reshaped(rows: 3, cols: 2)) }
        #expect(throws: BackendError.self) {
            try backend.activationBackward(.softmax, z: a, a: a, upstream: a, into: a)
        }
    }
}
