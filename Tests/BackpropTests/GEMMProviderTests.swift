import Foundation
import Testing
@testable import BackpropCore
@testable import BackpropCPU
import CPUKernels

/// Each GEMM provider, by each way of using the threads, against a Double GEMM at sizes that are
/// multiples of no vector width or panel (1, 7, 33, 129, 785), every transpose, α and β.
///
/// Tolerance: a float32 sum of k products is within γₖ·Σ|aᵢbᵢ| of the exact sum whatever the
/// order (γₖ ≈ k·u, u = 2⁻²⁴), plus a rounding each for α· and +β·c. The test allows twice that,
/// (k + 3)·2⁻²³ · (|α|·Σ|a||b| + |β|·|c|) per element: any wrong element, panel edge or transpose
/// is off by the size of a term, far above it.
@Suite("GEMM providers against Double")
struct GEMMProviderTests {
    static let shapes = [(1, 7, 33), (7, 33, 129), (33, 129, 785), (129, 785, 1), (785, 1, 7),
                         (785, 33, 7), (1, 785, 129), (129, 1, 1), (33, 7, 785)]

    @Test("every provider and plan agrees with Double", arguments: GEMMChoice.allCases, shapes)
    func agrees(choice: GEMMChoice, shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        let gemm = ParallelGEMM(provider: choice.makeProvider(), threads: 2)
        var data = TestData(seed: UInt64(m * 7 + n * 131 + k))
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = data.floats(m * k), b = data.floats(k * n), c0 = data.floats(m * n)
            let (alpha, beta): (Float, Float) = (0.7, -1.3)
            let (expected, scale) = Self.reference(ta, tb, m, n, k, alpha, a, b, beta, c0)
            let pa = HostBuffer(a), pb = HostBuffer(b), pc = HostBuffer(c0)
            let call = GEMMCall(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: alpha,
                                a: pa.pointer, lda: max(1, ta ? k : m), b: pb.pointer, ldb: max(1, tb ? n : k),
                                beta: beta, c: pc.pointer, ldc: m)
            let plans = gemm.candidates(for: call)
            #expect(plans.contains(.single))
            for plan in plans {
                pc.set(c0)
                try gemm.run(call, plan: plan)
                let c = pc.values
                let bound = Double(k + 3) * 0x1p-23
                let worst = zip(c, zip(expected, scale)).map { abs(Double($0) - $1.0) / max($1.1, .leastNormalMagnitude) }.max()!
                #expect(worst <= bound, "\(choice) \(plan) transposes \(ta) \(tb): error \(worst) × scale > \(bound)")
            }
        }
    }

    @Test("β = 0 overwrites C, NaN included (the BLAS rule denseForward relies on: Z holds the last step's values)",
          arguments: GEMMChoice.allCases)
    func betaZeroClears(choice: GEMMChoice) throws {
        let gemm = ParallelGEMM(provider: choice.makeProvider(), threads: 2)
        let (m, n, k) = (33, 40, 7)
        let a = HostBuffer([Float](repeating: 1, count: m * k)), b = HostBuffer([Float](repeating: 2, count: k * n))
        let c = HostBuffer([Float](repeating: .nan, count: m * n))
        let call = GEMMCall(transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1, a: a.pointer, lda: m,
                            b: b.pointer, ldb: k, beta: 0, c: c.pointer, ldc: m)
        for plan in gemm.candidates(for: call) {
            c.set([Float](repeating: .nan, count: m * n))
            try gemm.run(call, plan: plan)
            #expect(c.values.allSatisfy { $0 == 14 }, "\(choice) \(plan)")
        }
    }

    @Test("the tuner keeps one of the candidate plans per shape, and its product is the right one",
          arguments: GEMMChoice.allCases)
    func tunerKeepsAPlan(choice: GEMMChoice) throws {
        let gemm = ParallelGEMM(provider: choice.makeProvider(), threads: 2)
        let tuner = GEMMTuner(gemm)
        let (m, n, k) = (129, 65, 33)
        var data = TestData(seed: 11)
        let a = data.floats(m * k), b = data.floats(k * n), c0 = data.floats(m * n)
        let (expected, scale) = Self.reference(false, true, m, n, k, 1.5, a, b, 0.5, c0)
        let pa = HostBuffer(a), pb = HostBuffer(b), pc = HostBuffer(c0)
        let call = GEMMCall(transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: 1.5, a: pa.pointer, lda: m,
                            b: pb.pointer, ldb: n, beta: 0.5, c: pc.pointer, ldc: m)
        // Every call is real, whichever plan runs it; β = 0.5 shows C was updated once each time.
        for _ in 0..<(2 * GEMMTuner.samples + 4) {
            pc.set(c0)
            try tuner.run(call)
            let worst = zip(pc.values, zip(expected, scale)).map { abs(Double($0) - $1.0) / $1.1 }.max()!
            #expect(worst <= Double(k + 3) * 0x1p-23)
        }
        let shape = GEMMTuner.Shape(transposeA: false, transposeB: true, m: m, n: n, k: k)
        #expect(tuner.plans.count == 1)
        #expect(tuner.plans[shape].map { gemm.candidates(for: call).contains($0) } == true)
    }

    @Test("the tuner runs the plan that is fastest where it runs, and changes when the machine does")
    func tunerFollowsTheFasterPlan() throws {
        let provider = PacedProvider()
        let tuner = GEMMTuner(ParallelGEMM(provider: provider, threads: 2))
        let x = HostBuffer([0])
        let call = GEMMCall(transposeA: false, transposeB: false, m: 64, n: 64, k: 64, alpha: 1,
                            a: x.pointer, lda: 64, b: x.pointer, ldb: 64, beta: 0, c: x.pointer, ldc: 64)
        let shape = GEMMTuner.Shape(transposeA: false, transposeB: false, m: 64, n: 64, k: 64)
        // Two threads four times slower (a busy partner core): one thread once each plan has its samples.
        provider.micros = [1: 100, 2: 400]
        for _ in 0..<(2 * GEMMTuner.samples + 2) { try tuner.run(call) }
        #expect(tuner.plans[shape] == .single)
        let settled = provider.calls
        for _ in 0..<200 { try tuner.run(call) }
        // Probing the slower plan costs a call in 16, then fewer while the choice holds.
        #expect(provider.calls[2, default: 0] - settled[2, default: 0] <= 200 / GEMMTuner.firstProbeInterval)
        // The machine goes quiet: two threads now win, and probes find it within a few intervals.
        provider.micros = [1: 400, 2: 100]
        for _ in 0..<(GEMMTuner.samples * GEMMTuner.longestProbeInterval) { try tuner.run(call) }
        #expect(tuner.plans[shape] == .library(threads: 2))
    }

    @Test("trying a plan 50× slower than the running one costs a few per cent of the time, not half")
    func tunerBoundsTheCostOfTrying() throws {
        let provider = PacedProvider()
        let tuner = GEMMTuner(ParallelGEMM(provider: provider, threads: 2))
        // A large product on many cores: one thread is far slower than all of them.
        provider.micros = [1: 3_000, 2: 60]
        for _ in 0..<(2 * (GEMMTuner.samples + 1)) { try tuner.run(PacedProvider.call) }
        #expect(tuner.plans[PacedProvider.shape] == .library(threads: 2))
        let settled = provider.calls[1, default: 0]
        let calls = 2_000
        for _ in 0..<calls { try tuner.run(PacedProvider.call) }
        // Tried every 16 calls and then every 256 (the rule for plans of like speed) it would
        // take 22 calls here, 55 % of the running plan's time; the bound is 2 calls' time in 16.
        let slowCalls = provider.calls[1, default: 0] - settled
        #expect(slowCalls >= 2, "the slower plan must still be tried")
        #expect(Double(slowCalls * 3_000) <= 0.15 * Double(calls * 60))
    }

    @Test("BACKPROP_GEMM: a provider by name, nil when unset, the valid choices when wrong")
    func choiceFromEnvironment() throws {
        #expect(try GEMMChoice.fromEnvironment(["BACKPROP_GEMM": "oneDNN"]) == .onednn)
        #expect(try GEMMChoice.fromEnvironment(["BACKPROP_GEMM": " openblas "]) == .openblas)
        #expect(try GEMMChoice.fromEnvironment([:]) == nil)
        #expect(throws: BackendError.invalidChoice(variable: "BACKPROP_GEMM", value: "mkl", valid: "onednn, openblas")) {
            try GEMMChoice.fromEnvironment(["BACKPROP_GEMM": "mkl"])
        }
        #expect(try GEMMThreading.fromEnvironment(["BACKPROP_GEMM_THREADING": "Panels"]) == .panels)
        #expect(throws: BackendError.invalidChoice(variable: "BACKPROP_GEMM_THREADING", value: "omp", valid: "library, panels")) {
            try GEMMThreading.fromEnvironment(["BACKPROP_GEMM_THREADING": "omp"])
        }
        #expect(CPUBackend(gemm: .openblas).gemmProvider.library == "OpenBLAS")
        #expect(CPUBackend(gemm: .onednn).gemmProvider.library == "oneDNN")
        // `devices` shows each value the backend would refuse, rather than what it would use instead.
        let listed = try backprop(["devices"], in: try temporaryDirectory(),
                                  environment: ["BACKPROP_GEMM": "mkl", "BACKPROP_THREADS": "abc", "BACKPROP_GEMM_THREADING": "omp"])
        #expect(listed.status == 0)
        for variable in ["BACKPROP_GEMM", "BACKPROP_THREADS", "BACKPROP_GEMM_THREADING"] {
            #expect(listed.stdout.contains("error: \(variable)"), "\(variable): \(listed.stdout)")
        }
    }

    @Test("an OpenBLAS core whose kernels use what the CPU lacks is refused, with the core type that fits it")
    func openBLASCoreTheCPUCannotRun() throws {
        // CPUs as sets of extensions: QEMU's qemu64 (SSE3), a Nehalem, a Zen 2, a Skylake-SP.
        let qemu64: Set<CPUExtension> = [.sse3], nehalem: Set<CPUExtension> = [.sse3, .sse41]
        let zen2: Set<CPUExtension> = [.sse3, .sse41, .avx, .avx2], skylakeX = zen2.union([.avx512])
        let k8: Set<CPUExtension> = [.sse3, .threeDNow]
        for (cpu, core, forced, lacking, fitting) in [
            (qemu64, "Opteron", nil, "3DNow!", "Prescott"), (qemu64, "Opteron_SSE3", nil, "3DNow!", "Prescott"),
            (nehalem, "Haswell", "haswell", "AVX2 and FMA", "Nehalem"), (zen2, "SkylakeX", "SkylakeX", "AVX-512", "Haswell"),
            (zen2, "Bulldozer", "Bulldozer", "FMA4", "Haswell"), (nehalem, "Sandybridge", nil, "AVX", "Nehalem"),
            (nehalem.union([.avx]), "Haswell", "Haswell", "AVX2 and FMA", "Sandybridge"),
            (skylakeX, "Excavator", "Excavator", "FMA4", "SkylakeX"), (Set<CPUExtension>(), "Nehalem", nil, "SSE4.1", "Core2"),
        ] as [(Set<CPUExtension>, String, String?, String, String)] {
            let reason = try #require(OpenBLASGEMM.unusableReason(core: core, forced: forced, runs: cpu.contains), "\(core)")
            let cause = forced.map { "OPENBLAS_CORETYPE=\($0) makes OpenBLAS run its \(core) kernels" } ?? "OpenBLAS picked its \(core) kernels"
            #expect(reason.hasPrefix(cause) && reason.contains("which use \(lacking) instructions this CPU does not run")
                    && reason.contains("Set OPENBLAS_CORETYPE=\(fitting) before starting it") && reason.contains("BACKPROP_GEMM=onednn"), "\(reason)")
        }
        // Cores the CPU runs, and those that need nothing beyond SSE2.
        for (cpu, core) in [(k8, "Opteron"), (zen2, "Zen"), (zen2, "Haswell"), (skylakeX, "SkylakeX"), (nehalem, "Nehalem"),
                            (qemu64, "Prescott"), (qemu64, "Barcelona"), (qemu64, "Bobcat"), (qemu64, "Core2")] {
            #expect(OpenBLASGEMM.unusableReason(core: core, forced: nil, runs: cpu.contains) == nil, "\(core)")
        }
        #expect(OpenBLASGEMM.instructionSet(core: "Excavator") == "AVX, FMA4" && OpenBLASGEMM.instructionSet(core: "Zen") == "AVX2")
        // On this machine: the library's own core, and then the automatic choice never lands on it.
        if let reason = OpenBLASGEMM.shared.unusable {
            #expect(GEMMChoice.automatic == .onednn, "\(reason)")
            #expect(GEMMChoice.openblas.unusable == reason)
        }
        #expect(GEMMChoice.onednn.unusable == nil)
        #expect(OneDNNGEMM.isaName(0).contains("no JIT"))
        #expect(OneDNNGEMM.isaName(0x7) == "avx2")
    }

    @Test("what the CPU runs, from CPUID, agrees with the flags Linux lists in /proc/cpuinfo")
    func cpuFeaturesAgreeWithLinux() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let line = try #require(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(line.split(separator: ":", maxSplits: 1)[1].split(separator: " ").map(String.init))
        let levels = [["sse4_2", "popcnt", "ssse3"], ["avx2", "fma", "bmi2"], ["avx512f", "avx512bw", "avx512dq", "avx512vl"]]
        let level = 1 + (levels.firstIndex { !Set($0).isSubset(of: flags) } ?? levels.count)
        #expect(Int(bp_cpu_x86_64_level()) == level, "flags: \(flags.sorted())")
        for (ext, flag) in [(CPUExtension.sse3, "pni"), (.sse41, "sse4_1"), (.avx, "avx"), (.fma4, "fma4"), (.threeDNow, "3dnow")] {
            #expect(ext.supported == flags.contains(flag), "\(ext)")
        }
        #expect(CPUExtension.avx2.supported == (flags.contains("avx2") && flags.contains("fma")))
        #expect((bp_cpu_has_avx512f() != 0) == flags.contains("avx512f"))
    }

    @Test("threads per process of a job on one machine: the cores it may use, shared by the processes bound to the same ones")
    func threadsPerProcess() {
        // 64 cores, 2 sockets. Unbound: a share each; bound per core, per socket, by Slurm's --cpus-per-task.
        #expect(CPUThreads.perProcess(localSize: 4, online: 64, affinity: 64, quota: 64) == 16)
        #expect(CPUThreads.perProcess(localSize: 2, online: 64, affinity: 1, quota: 64) == 1)
        #expect(CPUThreads.perProcess(localSize: 4, online: 64, affinity: 32, quota: 64) == 16)
        #expect(CPUThreads.perProcess(localSize: 4, online: 64, affinity: 8, quota: 64) == 8)
        // A container allowed 4 CPUs: its processes share them.
        #expect(CPUThreads.perProcess(localSize: 2, online: 64, affinity: 64, quota: 4) == 2)
        // A container's cpuset of 4 CPUs that its 4 unbound processes share (online = the cpuset's 4).
        #expect(CPUThreads.perProcess(localSize: 4, online: 4, affinity: 4, quota: 64) == 1)
        // More processes than cores: one thread each, never zero.
        #expect(CPUThreads.perProcess(localSize: 3, online: 2, affinity: 2, quota: 2) == 1)
    }

    @Test("under taskset to one CPU the backend uses one thread, not every core; OpenMP's binding changes nothing")
    func affinityLimitsThreads() throws {
        let taskset = try #require(["/usr/bin/taskset", "/bin/taskset"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                   "taskset (util-linux) is missing")
        // The first CPU this process may use (not always 0 in a container).
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let allowed = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        let first = try #require(allowed.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)
            .split(whereSeparator: { $0 == "," || $0 == "-" }).first.map(String.init))
        // The thread variables set empty count as unset.
        let unset = ["BACKPROP_THREADS": "", "OMP_NUM_THREADS": "", "OPENBLAS_NUM_THREADS": ""]
        let threads = { (run: ProcessResult) in run.stdout.firstMatch(of: /GEMM threads: (\d+)/).flatMap { Int($0.1) } }
        let pinned = try runProcess(URL(fileURLWithPath: taskset), ["-c", first, try backpropExecutable().path, "devices"],
                                    in: try temporaryDirectory(), environment: unset)
        #expect(pinned.status == 0 && threads(pinned) == 1, "\(pinned.stdout)\(pinned.stderr)")
        if ProcessInfo.processInfo.processorCount > 1 {
            #expect(pinned.stdout.contains("1 of \(ProcessInfo.processInfo.processorCount) cores for this process"), "\(pinned.stdout)")
        }
        // libgomp pins the main thread to one place before main when binding is on: every core still counts.
        let free = try backprop(["devices"], in: try temporaryDirectory(), environment: unset)
        let bound = try backprop(["devices"], in: try temporaryDirectory(), environment: unset.merging(["OMP_PROC_BIND": "true"]) { $1 })
        #expect(threads(free) != nil && threads(bound) == threads(free), "\(free.stdout)\(bound.stdout)")

        #expect(CPUThreads.available >= 1 && CPUThreads.available <= ProcessInfo.processInfo.processorCount)
        if let cpuset = CPUThreads.cpuset, let affinity = CPUThreads.affinity {
            #expect(affinity <= cpuset && cpuset <= ProcessInfo.processInfo.processorCount)
        }
        #expect(CPUThreads.cpuCount(list: "0-3,8,10-11\n") == 7 && CPUThreads.cpuCount(list: "5") == 1)
        #expect(CPUThreads.cpuCount(list: "") == nil && CPUThreads.cpuCount(list: "3-1") == nil && CPUThreads.cpuCount(list: "a") == nil)
    }

    @Test("thread count: BACKPROP_THREADS, then OMP_NUM_THREADS, then OPENBLAS_NUM_THREADS")
    func threadCount() {
        #expect(CPUThreads.count(["BACKPROP_THREADS": "3", "OMP_NUM_THREADS": "5"]) == 3)
        #expect(CPUThreads.count(["OMP_NUM_THREADS": "4,2", "OPENBLAS_NUM_THREADS": "5"]) == 4)
        #expect(CPUThreads.count(["OPENBLAS_NUM_THREADS": "5"]) == min(5, CPUThreads.limit))
        #expect(CPUThreads.count(["BACKPROP_THREADS": "0"]) == CPUThreads.available)
        // An absurd request gets 4 per core (100,000 crashed libgomp); BACKPROP_THREADS that is no count is refused.
        #expect(CPUThreads.count(["BACKPROP_THREADS": "100000"]) == 4 * CPUThreads.available)
        for bad in ["abc", "0", "-1", "1.5"] {
            #expect(throws: BackendError.invalidChoice(variable: "BACKPROP_THREADS", value: bad, valid: "a whole number of threads, 1 or more")) {
                try CPUThreads.validate(["BACKPROP_THREADS": bad])
            }
        }
        #expect(throws: Never.self) { try CPUThreads.validate(["BACKPROP_THREADS": "3", "OMP_NUM_THREADS": "abc"]) }
        let x = HostBuffer([Float](repeating: 0, count: 512 * 512))
        let call = GEMMCall(transposeA: false, transposeB: false, m: 512, n: 512, k: 512, alpha: 1,
                            a: x.pointer, lda: 512, b: x.pointer, ldb: 512, beta: 0, c: x.pointer, ldc: 512)
        #expect(ParallelGEMM(provider: OneDNNGEMM.shared, threads: 1).candidates(for: call) == [.single])
        #expect(ParallelGEMM(provider: OneDNNGEMM.shared, threads: 2).candidates(for: call)
                == [.single, .library(threads: 2)])
        #expect(ParallelGEMM(provider: OpenBLASGEMM.shared, threads: 2).candidates(for: call) == [.single, .panels(2)])
        #expect(ParallelGEMM(provider: OneDNNGEMM.shared, threads: 2, libraryThreads: false).candidates(for: call)
                == [.single, .panels(2)])
    }

    /// α·op(A)·op(B) + β·C in Double, and per element |α|·Σ|a||b| + |β|·|c| (the error's scale).
    static func reference(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: [Float],
                          _ b: [Float], _ beta: Float, _ c: [Float]) -> ([Double], [Double]) {
        var out = [Double](repeating: 0, count: m * n), scale = out
        for j in 0..<n {
            for i in 0..<m {
                var s = 0.0, s1 = 0.0
                for p in 0..<k {
                    let x = Double(ta ? a[p + i * k] : a[i + p * m]), y = Double(tb ? b[j + p * n] : b[p + j * k])
                    s += x * y
                    s1 += abs(x * y)
                }
                out[i + j * m] = Double(alpha) * s + Double(beta) * Double(c[i + j * m])
                scale[i + j * m] = abs(Double(alpha)) * s1 + abs(Double(beta) * Double(c[i + j * m]))
            }
        }
        return (out, scale)
    }
}

/// A provider that computes nothing and takes `micros[threads]` µs per call (100 if unset), and
/// counts its calls by thread count. Only the test's thread uses it.
final class PacedProvider: GEMMProvider, @unchecked Sendable {
    var micros: [Int: Int] = [:]
    var calls: [Int: Int] = [:]
    var info: GEMMProviderInfo { GEMMProviderInfo(library: "paced", version: "0", isa: "none", warning: nil) }
    var threadsItself: Bool { true }
    func run(_ call: GEMMCall, threads: Int) throws {
        calls[threads, default: 0] += 1
        let until = DispatchTime.now().uptimeNanoseconds + UInt64(1_000 * micros[threads, default: 100])
        while DispatchTime.now().uptimeNanoseconds < until {}
    }

    /// A 64×64×64 call on memory it never touches, and its shape.
    static let call = GEMMCall(transposeA: false, transposeB: false, m: 64, n: 64, k: 64, alpha: 1,
                          a: nowhere, lda: 64, b: nowhere, ldb: 64, beta: 0, c: nowhere, ldc: 64)
    static let shape = GEMMTuner.Shape(transposeA: false, transposeB: false, m: 64, n: 64, k: 64)
    private nonisolated(unsafe) static let nowhere = UnsafeMutablePointer<Float>.allocate(capacity: 1)
}

/// Floats at a stable address for the length of a test.
final class HostBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: max(1, count))
        set(values)
    }
    deinit { pointer.deallocate() }
    func set(_ values: [Float]) { values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) } }
    var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
