@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropOpenCL
import COpenCL
import Foundation
import Testing

/// `BACKPROP_OPENCL_SYNC`, the one launch path, `#line` in the program source, kernels checked
/// against their compiled limits.
@Suite("OpenCL diagnostics", .enabled(if: OpenCLTestDevice.enabled))
struct OpenCLDiagnosticsTests {
    func backend(_ launch: LaunchOptions, tilings: [GemmTiling]? = nil) throws -> OpenCLBackend {
        let shared = try OpenCLTestDevice.backend()
        let (info, device) = try selectOpenCLDevice(String(shared.device.index))
        return try OpenCLBackend(info: info, device: device, cache: .fromEnvironment(), tilings: tilings, launch: launch)
    }

    @Test func syncFromTheEnvironment() {
        #expect(LaunchOptions.fromEnvironment(["BACKPROP_OPENCL_SYNC": "1"]).synchronous)
        #expect(LaunchOptions.fromEnvironment(["BACKPROP_OPENCL_SYNC": "yes"]).synchronous)
        #expect(!LaunchOptions.fromEnvironment(["BACKPROP_OPENCL_SYNC": "0"]).synchronous)
        #expect(!LaunchOptions.fromEnvironment([:]).synchronous)
    }

    /// `count_correct` requires REDUCE_GROUP work-items per group: a group of one is refused
    /// at the launch, and the error names the kernel, its sizes and the CL error by name.
    @Test(arguments: [false, true])
    func launchErrorNamesTheKernel(synchronous: Bool) throws {
        let backend = try backend(LaunchOptions(synchronous: synchronous))
        let m = try backend.makeStorage(count: 4), count = try backend.makeStorage(count: 1)
        do {
            try backend.run(.countCorrect, global: [1], local: [1],
                            [.int(2), .int(2), .buffer(m.buffer), .buffer(m.buffer), .buffer(count.buffer)])
            Issue.record("a group of 1 for count_correct was accepted")
        } catch let error as OpenCLError {
            let text = "\(error)"
            #expect(text.contains("count_correct (global [1], local [1])"), "\(text)")
            #expect(text.contains("CL_INVALID_WORK_GROUP_SIZE"), "\(text)")
        }
        #expect(backend.launcher.last?.kernel == "count_correct")
    }

    /// Without SYNC an error found at a later wait names the last kernel launched.
    @Test func laterErrorNamesTheLastKernel() throws {
        let backend = try backend(LaunchOptions())
        let x = try backend.makeMatrix(rows: 300, cols: 1, values: [Float](repeating: 1, count: 300))
        try backend.scale(x, by: 2)
        let whole = 300 / backend.groupSize * backend.groupSize
        #expect(backend.launcher.last == (whole == 300
            ? LaunchRecord(kernel: "scale", global: [300], local: [backend.groupSize])
            : LaunchRecord(kernel: "scale", global: [300 - whole], local: [1], offset: [whole])))
        do {
            try backend.launcher.check(CL_OUT_OF_RESOURCES, "clFinish")
            Issue.record("no error thrown")
        } catch let error as OpenCLError {
            #expect(error.lastKernel?.hasPrefix("scale (global [") == true)
            #expect("\(error)".contains("clFinish failed: CL_OUT_OF_RESOURCES (-5); last kernel launched: scale"))
        }
    }

    /// Synchronous mode waits after every launch and changes no result: 30 Adam steps give the
    /// same losses, bit for bit, as the queued run.
    @Test func syncModeTrainsTheSame() throws {
        let architecture = try Architecture(inputs: 20, hidden: [33], outputs: 4, activation: .relu)
        let queued = try EquivalenceSuite.trainingCurve(backend: try backend(LaunchOptions()), architecture: architecture,
                                                        optimizer: .adam, steps: 30)
        let synchronous = try backend(LaunchOptions(synchronous: true))
        #expect(synchronous.launcher.options.synchronous)
        let synced = try EquivalenceSuite.trainingCurve(backend: synchronous, architecture: architecture,
                                                        optimizer: .adam, steps: 30)
        #expect(synced == queued)
        #expect(synced.count == 30 && synced.allSatisfy(\.isFinite))
    }

    /// A compile error in the program names the `.cl` file and the line within it, not a line
    /// of the concatenated source: through `kernelSource`, as the backend assembles it.
    @Test(arguments: [("reduce.cl", 3), ("gemm.cl", 2), ("optimizers.cl", 7)])
    func buildErrorNamesFileAndLine(file: String, line: Int) throws {
        let shared = try OpenCLTestDevice.backend()
        let (_, device) = try selectOpenCLDevice(String(shared.device.index))
        var files = KernelSources.files
        var lines = try #require(files[file]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.insert("this is not OpenCL C;", at: line - 1)
        files[file] = lines.joined(separator: "\n")
        let source = OpenCLBackend.kernelSource(tilings: shared.tilings, files: files)
        do {
            _ = try CLProgram(context: try CLContext(device: device), source: source,
                              options: "-cl-std=CL1.2 -DREDUCE_GROUP=\(shared.reduceGroup)")
            Issue.record("the broken source built")
        } catch let error as OpenCLError {
            #expect(error.name == "CL_BUILD_PROGRAM_FAILURE")
            #expect(error.buildLog.contains("Kernels/\(file):\(line):"), "\(error.buildLog.prefix(2000))")
        }
    }

    /// Every helper function is `static inline`: the program links without optimization too
    /// (a plain `inline` function has no definition to link at `-O0`).
    @Test func programBuildsWithoutOptimization() throws {
        let shared = try OpenCLTestDevice.backend()
        let (_, device) = try selectOpenCLDevice(String(shared.device.index))
        let program = try CLProgram(context: try CLContext(device: device),
                                    source: OpenCLBackend.kernelSource(tilings: shared.tilings),
                                    options: "-cl-std=CL1.2 -cl-opt-disable -DREDUCE_GROUP=\(shared.reduceGroup)")
        _ = try CLKernel(program: program, name: "count_correct")
        for source in KernelSources.files.values {
            for line in source.split(separator: "\n") where line.hasPrefix("inline ") {
                Issue.record("a helper declared inline without static: \(line)")
            }
        }
    }

    /// Tilings are checked against the compiled kernel's CL_KERNEL_WORK_GROUP_SIZE and local
    /// memory: those that do not fit are dropped with a note saying why.
    @Test func tilingsFitTheCompiledKernel() {
        let family = [GemmTiling.gpu, .gpuMedium, .gpuSmall]
        let roomy = KernelLimits(maxWorkGroupSize: 1024, localMemoryBytes: 8192)
        #expect(GemmTiling.fitting(family, limits: [roomy, roomy, roomy], deviceLocalMemory: 49152).kept == [0, 1, 2])
        let tight = GemmTiling.fitting(family, limits: [KernelLimits(maxWorkGroupSize: 192, localMemoryBytes: 8192), roomy, roomy],
                                       deviceLocalMemory: 49152)
        #expect(tight.kept == [1, 2])
        #expect(tight.notes.count == 1)
        #expect(tight.notes[0].contains("needs 256 work-items") && tight.notes[0].contains("allows 192"))
        let noLocal = GemmTiling.fitting(family, limits: [roomy, roomy, KernelLimits(maxWorkGroupSize: 1024, localMemoryBytes: 60000)],
                                         deviceLocalMemory: 49152)
        #expect(noLocal.kept == [0, 1])
        #expect(GemmTiling.fitting(family, limits: Array(repeating: KernelLimits(maxWorkGroupSize: 64, localMemoryBytes: 0), count: 3),
                                   deviceLocalMemory: 49152).kept.isEmpty)
    }

    /// On this device every tiling of the family fits its compiled kernel: nothing is dropped.
    @Test func nothingDroppedHere() throws {
        let backend = try OpenCLTestDevice.backend()
        #expect(backend.buildNotes.isEmpty, "\(backend.buildNotes)")
        #expect(!backend.tilings.isEmpty)
        #expect(backend.groupSize >= 1)
    }
}
