import BackpropCore
import COpenCL
import Foundation

/// What `backprop tune` found for one shape class.
public struct GemmTuningResult: Sendable {
    /// The product timed (the first of its class among those asked for).
    public var shape: GemmShape
    /// The fastest verified tiling, its median GFLOP/s; nil when none was verified and timed.
    public var winner: GemmTiling?
    public var gflops: Double
    /// The tiling the backend picks without tuning, and its median GFLOP/s (0 if it failed).
    public var defaultTiling: GemmTiling
    public var defaultGflops: Double
    /// Candidates verified and timed on this shape.
    public var timed: Int
    /// Candidates that computed a wrong product here, each with its worst element.
    public var rejected: [String]
}

/// A whole `backprop tune` run.
public struct GemmTuningReport: Sendable {
    public var device: OpenCLDeviceInfo
    /// Candidate tilings compiled, and those dropped before timing (compile failure, or more
    /// work-items or local memory than the compiled kernel allows), with the reason.
    public var candidates: [GemmTiling]
    public var unusable: [String]
    public var results: [GemmTuningResult]
    /// Shapes left untimed because the time budget ran out.
    public var skipped: [GemmShape]
    /// Where the winners were written, nil if nothing was.
    public var file: URL?
    public var seconds: Double
}

/// Tunes the GEMM tiling of the OpenCL device `spec` (as `--device`) for `shapes`: compiles
/// the candidate tilings the device's limits allow (`GemmTiling.candidates`), checks each
/// compiled kernel's own limits, and for each shape class verifies every candidate against
/// `reference` (the CPU backend) within the float32 error bound of the product, then times
/// the verified ones (median of `repetitions` runs of at least 5 ms each). The fastest of each
/// class is merged into the device's tuning file beside the compiled programs
/// (`BACKPROP_CACHE_DIR`), where every later ``OpenCLBackend`` of that device, driver and
/// `gemm.cl` finds it. Shapes still waiting after `budgetSeconds` are skipped.
public func tuneOpenCLGemm(device spec: String?, shapes: [GemmShape], reference: any Backend,
                           budgetSeconds: Double = 40, repetitions: Int = 5, verbose: Bool = false,
                           deviceLabel: String = "BACKPROP_OPENCL_DEVICE",
                           progress: (String) -> Void = { _ in }) throws -> GemmTuningReport {
    let (info, device) = try selectOpenCLDevice(spec, variable: deviceLabel)
    var tuner = OpenCLGemmTuner(info: info, device: device, cache: .fromEnvironment(), reference: reference)
    tuner.budgetSeconds = budgetSeconds
    tuner.repetitions = repetitions
    tuner.verbose = verbose
    return try tuner.run(shapes: shapes, progress: progress)
}

struct OpenCLGemmTuner {
    let info: OpenCLDeviceInfo
    let device: CLDevice
    let cache: ProgramCache
    let reference: any Backend
    var budgetSeconds = 40.0
    var repetitions = 5
    /// Seconds one timed repetition lasts at least.
    var minimumSeconds = 0.005
    /// Tilings to try instead of `GemmTiling.candidates` (tests inject a faulty one).
    var candidates: [GemmTiling]?
    /// Whether to write the tuning file.
    var store = true
    /// Every candidate's figures, not only each shape's winner.
    var verbose = false

    func run(shapes: [GemmShape], progress: (String) -> Void) throws -> GemmTuningReport {
        let clock = ContinuousClock(), start = clock.now
        func elapsed() -> Double {
            let d = clock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        let maxGroup = Int(try device.value(cl_device_info(CL_DEVICE_MAX_WORK_GROUP_SIZE),
                                            "CL_DEVICE_MAX_WORK_GROUP_SIZE", as: Int.self))
        let localBytes = Int(info.localMemoryBytes)
        let isGPU = try TilingMode.fromEnvironment().isGPU(device: info.isGPU)
        let family = GemmTiling.family(isGPU: isGPU, maxWorkGroupSize: maxGroup, localMemoryBytes: localBytes)
        let tried = candidates ?? GemmTiling.candidates(isGPU: isGPU, maxWorkGroupSize: maxGroup, localMemoryBytes: localBytes)
        var list = family + tried.filter { !family.contains($0) }

        // One program for every candidate; if it does not build, each alone, dropping failures.
        var unusable: [String] = []
        let backend: OpenCLBackend
        do {
            backend = try makeBackend(list)
        } catch {
            list = list.filter { t in
                do { _ = try makeBackend([t]); return true } catch {
                    unusable.append("\(t): \(error)")
                    return family.contains(t)
                }
            }
            backend = try makeBackend(list)
        }
        // The compiled kernels' limits (registers, local memory) can be below the device's: the
        // backend's build checked them and kept only the tilings that fit (its notes say why
        // the others went), so the candidates are the tilings it holds, in its order.
        unusable += backend.buildNotes
        list = backend.tilings
        progress("\(list.count) candidate tilings compiled within the kernel's limits in \(String(format: "%.1f", elapsed())) s")

        var seen = Set<GemmShapeClass>(), results: [GemmTuningResult] = [], skipped: [GemmShape] = []
        for shape in shapes where seen.insert(shape.shapeClass).inserted {
            if elapsed() > budgetSeconds { skipped.append(shape); continue }
            let defaultTiling = family[GemmTiling.choose(family, m: shape.m, n: shape.n, computeUnits: info.computeUnits)]
            let result = try tune(shape, backend: backend, tilings: list, defaultTiling: defaultTiling, progress: progress)
            results.append(result)
            let rejected = result.rejected.isEmpty ? "" : ", \(result.rejected.count) rejected as wrong"
            if let winner = result.winner {
                progress("\(shape): \(winner), \(fmt(result.gflops)) GFLOP/s (default \(fmt(result.defaultGflops)), "
                         + "\(fmt(result.gflops / max(result.defaultGflops, 1e-9)))×; \(result.timed) timed\(rejected); at \(fmt(elapsed())) s)")
            } else {
                progress("\(shape): no candidate verified\(rejected)")
            }
        }
        if !skipped.isEmpty { progress("time budget of \(Int(budgetSeconds)) s spent: \(skipped.count) shapes not tuned") }

        var file: URL?
        let entries = results.compactMap { r in
            r.winner.map {
                GemmTuningFile.Entry(shapeClass: r.shape.shapeClass.description, shape: r.shape, tiling: $0, gflops: r.gflops,
                                     defaultTiling: r.defaultTiling, defaultGflops: r.defaultGflops)
            }
        }
        if store && !entries.isEmpty {
            // Keep the classes tuned before (another network) that this run did not time.
            var merged = entries
            if case let .loaded(old) = cache.loadTuning(device: info.name, driver: info.driverVersion) {
                let classes = Set(entries.map(\.shapeClass))
                merged += old.entries.filter { !classes.contains($0.shapeClass) }
            }
            merged.sort { $0.shapeClass < $1.shapeClass }
            let tuning = GemmTuningFile(device: info.name, driver: info.driverVersion, kernelHash: GemmTuningFile.currentKernelHash,
                                        created: ISO8601DateFormatter().string(from: Date()), entries: merged)
            file = try cache.storeTuning(tuning)
        }
        return GemmTuningReport(device: info, candidates: list, unusable: unusable, results: results, skipped: skipped,
                                file: file, seconds: elapsed())
    }

    private func makeBackend(_ tilings: [GemmTiling]) throws -> OpenCLBackend {
        try OpenCLBackend(info: info, device: device, cache: ProgramCache(directory: nil), tilings: tilings)
    }

    /// Verifies then times every candidate on `shape`.
    private func tune(_ shape: GemmShape, backend: OpenCLBackend, tilings: [GemmTiling],
                      defaultTiling: GemmTiling, progress: (String) -> Void) throws -> GemmTuningResult {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let (ta, tb) = (shape.transposeA, shape.transposeB)
        var data = SeededGenerator(seed: 7)
        let av = (0..<(m * k)).map { _ in Float(data.nextUniform() - 0.5) }
        let bv = (0..<(k * n)).map { _ in Float(data.nextUniform() - 0.5) }
        let (ar, ac) = ta ? (k, m) : (m, k), (br, bc) = tb ? (n, k) : (k, n)
        let a = try backend.makeMatrix(rows: ar, cols: ac, values: av)
        let b = try backend.makeMatrix(rows: br, cols: bc, values: bv)
        let c = try backend.makeMatrix(rows: m, cols: n)

        // The reference product and its float32 error bound, as gradcheck's GEMM check:
        // γ_{k+2}·|op(A)|·|op(B)| (the magnitudes computed on the reference, divided by 1 − γ),
        // doubled because both sides round.
        let expected = try reference.makeMatrix(rows: m, cols: n)
        try reference.gemm(transposeA: ta, transposeB: tb, alpha: 1, try reference.makeMatrix(rows: ar, cols: ac, values: av),
                           try reference.makeMatrix(rows: br, cols: bc, values: bv), beta: 0, expected)
        let magnitude = try reference.makeMatrix(rows: m, cols: n)
        try reference.gemm(transposeA: ta, transposeB: tb, alpha: 1, try reference.makeMatrix(rows: ar, cols: ac, values: av.map(abs)),
                           try reference.makeMatrix(rows: br, cols: bc, values: bv.map(abs)), beta: 0, magnitude)
        let gamma = Float32Rounding.gamma(k + 2), eta = Double(k + 2) * Float32Rounding.eta
        let bounds = try reference.download(magnitude).map { 2 * (gamma * Double($0) / (1 - gamma) + eta) }
        let want = try reference.download(expected)

        var best: (tiling: GemmTiling, gflops: Double)?
        var defaultGflops = 0.0, timed = 0, rejected: [String] = []
        defer { backend.forcedTiling = nil }
        for (i, tiling) in tilings.enumerated() {
            backend.forcedTiling = i
            // NaN first: an element the candidate never writes fails the check.
            try backend.fill(c, with: .nan)
            try backend.gemm(transposeA: ta, transposeB: tb, alpha: 1, a, b, beta: 0, c)
            let check = Self.compare(try backend.download(c), want, bounds)
            guard check.passed else {
                rejected.append("\(tiling): |Δ| \(String(format: "%.3g", check.difference)) > bound \(String(format: "%.3g", check.bound))")
                continue
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            let gflops = try time(shape, backend: backend) {
                try backend.gemm(transposeA: ta, transposeB: tb, alpha: 1, a, b, beta: 0, c)
            }
            if verbose {
                progress("  \(tiling): \(fmt(gflops)) GFLOP/s (timed in \(fmt(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)) s)")
            }
            timed += 1
            if tiling == defaultTiling { defaultGflops = gflops }
            if gflops > best?.gflops ?? 0 { best = (tiling, gflops) }
        }
        return GemmTuningResult(shape: shape, winner: best?.tiling, gflops: best?.gflops ?? 0, defaultTiling: defaultTiling,
                                defaultGflops: defaultGflops, timed: timed, rejected: rejected)
    }

    /// The element farthest out of its bound, as gradcheck reports it (a NaN is infinitely
    /// far). `EquivalenceCheck`'s generic comparison, specialized for the arrays at hand: a
    /// million elements per candidate at 1024³.
    static func compare(_ values: [Float], _ reference: [Float], _ bounds: [Double]) -> EquivalenceCheck {
        guard values.count == reference.count, values.count == bounds.count else {
            return EquivalenceCheck(name: "gemm", difference: .infinity, bound: 0, slack: .infinity)
        }
        var worst = (difference: 0.0, bound: bounds.first ?? 0, slack: 0.0)
        for i in values.indices {
            let d = abs(Double(values[i]) - Double(reference[i]))
            let ratio = d == 0 ? 0 : d / bounds[i]
            let s = ratio.isNaN ? Double.infinity : ratio
            if s > worst.slack { worst = (d, bounds[i], s) }
        }
        return EquivalenceCheck(name: "gemm", difference: worst.difference, bound: worst.bound, slack: worst.slack)
    }

    /// Median GFLOP/s over `repetitions` runs of enough calls to last `minimumSeconds`, after one
    /// untimed call (which also lets a driver such as PoCL compile the kernel for its group size).
    private func time(_ shape: GemmShape, backend: OpenCLBackend, _ body: () throws -> Void) throws -> Double {
        func seconds(_ calls: Int) throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls { try body() }
            try backend.synchronize()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        try body()
        try backend.synchronize()
        var calls = 1
        while true {
            let t = try seconds(calls)
            if t >= minimumSeconds || calls >= 1 << 16 { break }
            calls = max(calls * 2, Int(Double(calls) * minimumSeconds / max(t, 1e-7) * 1.2))
        }
        var rates = try (0..<max(1, repetitions)).map { _ in shape.flops * Double(calls) / (try seconds(calls)) / 1e9 }
        rates.sort()
        return rates[rates.count / 2]
    }

    private func fmt(_ x: Double) -> String { String(format: x < 10 ? "%.2f" : "%.1f", x) }
}
