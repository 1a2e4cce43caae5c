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

    /// A profile of training steps lists every kernel a step runs, with non-negative device
    /// times and whole launches per step; a queue made without profiling records nothing.
    @Test func profileListsTheKernelsOfAStep() throws {
        let backend = try backend(LaunchOptions(profiling: true))
        #expect(backend.isProfiling)
        let suite = BenchmarkSuite(backend: backend, quick: true)
        let data = Synthetic.blobs(classes: 4, features: 20, perClass: 30, seed: 1)
        let result = try suite.profileTraining(sizes: [20, 16, 4], batchSize: 32, data: data, steps: 3)
        #expect(result.key == "train/20-16-4/b32" && result.steps == 3)
        let names = result.profile.entries.map(\.kernel)
        // The fused step: bias and σ in the forward GEMMs' store, loss + δᴸ + correct count in
        // output_loss, a layer's ∂W/∂b and the δ below in one gemm2, one optimizer launch.
        for kernel in ["gather_columns", "output_loss", "sgd_step"] {
            #expect(names.contains(kernel), "\(kernel) missing from \(names)")
        }
        #expect(names.contains { $0.hasPrefix("gemm_t") } && names.contains { $0.hasPrefix("gemm2_t") })
        #expect(!names.contains("add_bias") && !names.contains("relu_backward"), "unfused kernels in \(names)")
        #expect(result.profile.entries.allSatisfy { $0.seconds >= 0 && $0.launches % 3 == 0 })
        #expect(result.profile.seconds > 0 && result.wallSeconds > 0)
        // 2 gathers, 2 GEMMs forward, output_loss, gemm2, layer 1's ∂W, the optimizer:
        // every step launches the same kernels, at most 10 of them (was 20 unfused).
        #expect(result.launchesPerStep >= 7 && result.launchesPerStep <= 10)
        #expect(try backend.takeProfile().entries.isEmpty)

        let plain = try self.backend(LaunchOptions())
        #expect(!plain.isProfiling)
        #expect(throws: BackendError.self) {
            try BenchmarkSuite(backend: plain).profileTraining(sizes: [20, 4], batchSize: 8, data: data, steps: 1)
        }
    }

    @Test func profileSumsByKernel() {
        let p = KernelProfile(launches: [("a", 1e-3), ("b", 5e-3), ("a", 2e-3), ("c", 0)])
        #expect(p.entries == [.init(kernel: "b", launches: 1, seconds: 5e-3), .init(kernel: "a", launches: 2, seconds: 3e-3),
                              .init(kernel: "c", launches: 1, seconds: 0)])
        #expect(p.launches == 4)
    }

    /// The CPU backend has no profiler: `bench --profile` says so and fails.
    @Test func cpuSaysProfilingIsUnavailable() throws {
        #expect(throws: BackendError.self) {
            try BenchmarkSuite(backend: CPUBackend(threads: 1)).profileTraining(
                sizes: [4, 2], batchSize: 2, data: Synthetic.blobs(classes: 2, features: 4, perClass: 4, seed: 1), steps: 1)
        }
        let result = try backprop(["bench", "--profile", "--backend", "cpu", "--quick"], in: FileManager.default.temporaryDirectory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("profiling is unavailable on CPU"), "\(result.stderr)")
    }

    /// `bench --profile --json` on OpenCL: one profile per network, kernels with their times.
    @Test func benchProfileJSON() throws {
        let result = try backprop(["bench", "--profile", "--backend", "opencl", "--layers", "30,16,5", "--batch-size", "16",
                                   "--steps", "2", "--json"], in: FileManager.default.temporaryDirectory)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let profiles = try #require(object["profiles"] as? [[String: Any]])
        #expect(profiles.count == 1)
        #expect(profiles.first?["key"] as? String == "train/30-16-5/b16")
        let kernels = try #require(profiles.first?["kernels"] as? [[String: Any]])
        #expect(kernels.contains { $0["kernel"] as? String == "sgd_step" })
        #expect(kernels.allSatisfy { ($0["ms_per_step"] as? Double ?? -1) >= 0 })
    }
}
