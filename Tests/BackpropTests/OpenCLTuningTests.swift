@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropOpenCL
import Foundation
import Testing

@Suite("GEMM tiling classes and modes")
struct GemmTilingModeTests {
    @Test func shapeClassesRoundLog2() {
        let a = GemmShape(m: 128, n: 128, k: 784).shapeClass
        #expect(a == GemmShape(m: 128, n: 128, k: 1024).shapeClass)
        #expect(a != GemmShape(m: 256, n: 128, k: 784).shapeClass)
        #expect(a != GemmShape(m: 128, n: 128, k: 784, transposeB: true).shapeClass)
        #expect(a.description == "NN/m7/n7/k10")
        #expect(GemmShapeClass(key: a.description) == a)
        #expect(GemmShapeClass(key: "TN/m3/n7/k7")?.transposeA == true)
        for bad in ["", "NN/m7/n7", "XN/m7/n7/k7", "NN/n7/m7/k7", "NN/m/n7/k7", "NN/m7/n7/k99"] { #expect(GemmShapeClass(key: bad) == nil) }
    }

    @Test func trainingStepShapes() {
        let shapes = GemmShape.trainingStep(sizes: [784, 128, 10], batch: 64)
        #expect(shapes == [
            GemmShape(m: 128, n: 64, k: 784), GemmShape(m: 10, n: 64, k: 128),
            GemmShape(m: 10, n: 128, k: 64, transposeB: true), GemmShape(m: 128, n: 64, k: 10, transposeA: true),
            GemmShape(m: 128, n: 784, k: 64, transposeB: true),
        ])
        #expect(GemmShape.trainingStep(sizes: [5], batch: 1).isEmpty)
    }

    @Test func tilingModeFromEnvironment() throws {
        #expect(try TilingMode.fromEnvironment([:]) == .auto)
        #expect(try TilingMode.fromEnvironment(["BACKPROP_OPENCL_TILING": "GPU"]) == .gpu)
        #expect(try TilingMode.fromEnvironment(["BACKPROP_OPENCL_TILING": "cpu"]).isGPU(device: true) == false)
        #expect(try TilingMode.fromEnvironment(["BACKPROP_OPENCL_TILING": "gpu"]).isGPU(device: false) == true)
        #expect(!TilingMode.default.readsTuningFile && TilingMode.auto.readsTuningFile)
        #expect(throws: BackendError.self) { try TilingMode.fromEnvironment(["BACKPROP_OPENCL_TILING": "fast"]) }
    }

    @Test func candidatesAreValidAndWithinLimits() {
        for isGPU in [false, true] {
            let list = GemmTiling.candidates(isGPU: isGPU, maxWorkGroupSize: 256, localMemoryBytes: 48 * 1024)
            #expect(list.count >= 8)
            #expect(Set(list).count == list.count)
            for t in list { #expect(t.problem(maxWorkGroupSize: 256, localMemoryBytes: 48 * 1024) == nil, "\(t)") }
        }
        // A device allowing 64 work-items gets only tilings of at most 64.
        #expect(GemmTiling.candidates(isGPU: true, maxWorkGroupSize: 64, localMemoryBytes: 48 * 1024).allSatisfy { $0.workItems <= 64 })
        #expect(GemmTiling(tm: 40, tn: 24, tk: 64, wm: 16, wn: 6, vw: 8).problem != nil)
    }
}

@Suite("OpenCL GEMM tuning", .enabled(if: OpenCLTestDevice.enabled))
struct OpenCLTuningTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appending(path: "backprop-tuning-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func device() throws -> (info: OpenCLDeviceInfo, device: CLDevice) {
        let shared = try OpenCLTestDevice.backend()
        return try selectOpenCLDevice(String(shared.device.index))
    }

    /// A tiling that no family holds, valid on every device that runs 64 work-items.
    let unusual = GemmTiling(tm: 32, tn: 32, tk: 32, wm: 4, wn: 4, vw: 4)
    let shape = GemmShape(m: 96, n: 80, k: 72, transposeB: true)

    func file(for info: OpenCLDeviceInfo, kernelHash: String = GemmTuningFile.currentKernelHash,
              tiling: GemmTiling? = nil) -> GemmTuningFile {
        let t = tiling ?? unusual
        return GemmTuningFile(device: info.name, driver: info.driverVersion, kernelHash: kernelHash, created: "now", entries: [
            .init(shapeClass: shape.shapeClass.description, shape: shape, tiling: t, gflops: 2, defaultTiling: .small, defaultGflops: 1),
        ])
    }

    @Test func tuningFileRoundTrip() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (info, _) = try device()
        let cache = ProgramCache(directory: dir)
        #expect(cache.loadTuning(device: info.name, driver: info.driverVersion) == .missing)
        let url = try cache.storeTuning(file(for: info))
        #expect(url.lastPathComponent.hasPrefix("tuning-") && url.pathExtension == "json")
        #expect(cache.loadTuning(device: info.name, driver: info.driverVersion) == .loaded(file(for: info)))
    }

    @Test func tunedTilingIsUsed() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (info, device) = try device()
        _ = try ProgramCache(directory: dir).storeTuning(file(for: info))
        let backend = try OpenCLBackend(info: info, device: device, cache: ProgramCache(directory: dir))
        #expect(backend.tilingSource.hasPrefix("tuned"))
        let chosen = backend.gemmTiling(for: GemmShape(m: 100, n: 70, k: 64, transposeB: true))   // same class
        #expect(chosen.tiling == unusual && chosen.tuned)
        #expect(!backend.gemmTiling(for: GemmShape(m: 100, n: 70, k: 64)).tuned)               // another class
        // And it computes the product: compare with the CPU.
        let cpu = CPUBackend()
        let av = (0..<(96 * 72)).map { Float($0 % 13) - 6 }, bv = (0..<(80 * 72)).map { Float($0 % 7) - 3 }
        var results: [[Float]] = []
        for be in [backend as any Backend, cpu] {
            let c = try be.makeMatrix(rows: 96, cols: 80)
            try be.gemm(transposeA: false, transposeB: true, alpha: 1, try be.makeMatrix(rows: 96, cols: 72, values: av),
                        try be.makeMatrix(rows: 80, cols: 72, values: bv), beta: 0, c)
            results.append(try be.download(c))
        }
        #expect(results[0] == results[1])   // small integers: exact in float32
    }

    @Test func fileForAnotherKernelIsIgnored() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (info, device) = try device()
        let cache = ProgramCache(directory: dir)
        _ = try cache.storeTuning(file(for: info, kernelHash: "123abc"))
        guard case let .ignored(reason) = cache.loadTuning(device: info.name, driver: info.driverVersion) else {
            Issue.record("a file for another gemm.cl was not ignored")
            return
        }
        #expect(reason.contains("another Kernels/gemm.cl"))
        let backend = try OpenCLBackend(info: info, device: device, cache: cache)
        #expect(!backend.gemmTiling(for: shape).tuned && !backend.tilings.contains(unusual))
        // Another driver version: another file name, so nothing is found.
        #expect(cache.loadTuning(device: info.name, driver: info.driverVersion + "-other") == .missing)
    }

    @Test func corruptFileIsIgnoredWithAWarning() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (info, device) = try device()
        let cache = ProgramCache(directory: dir)
        let url = try cache.storeTuning(file(for: info))
        let text = try String(contentsOf: url, encoding: .utf8)
        for damaged in [String(text.prefix(text.count / 2)), "", text.replacingOccurrences(of: "\"tm\"", with: "\"tx\""),
                        text.replacingOccurrences(of: "\"tm\" : 32", with: "\"tm\" : 30")] {
            try Data(damaged.utf8).write(to: url)
            guard case let .ignored(reason) = cache.loadTuning(device: info.name, driver: info.driverVersion) else {
                Issue.record("damaged file was used: \(damaged.prefix(80))")
                continue
            }
            #expect(reason.contains(url.path) && reason.contains("backprop tune"))
            let backend = try OpenCLBackend(info: info, device: device, cache: cache)
            #expect(backend.tilingSource.contains("ignored"))
            #expect(!backend.gemmTiling(for: shape).tuned)
        }
    }

    @Test func wrongCandidateIsRejected() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (info, device) = try device()
        // Its 2 × 4 work-items cover 32 of the tile's 40 rows: rows 32–39 of each tile stay unwritten.
        let faulty = GemmTiling(tm: 40, tn: 24, tk: 64, wm: 16, wn: 6, vw: 8)
        var tuner = OpenCLGemmTuner(info: info, device: device, cache: ProgramCache(directory: dir), reference: CPUBackend())
        tuner.candidates = [faulty, unusual]
        tuner.repetitions = 1
        let shapes = [GemmShape(m: 96, n: 64, k: 32), GemmShape(m: 80, n: 48, k: 40, transposeA: true)]
        let report = try tuner.run(shapes: shapes) { _ in }
        #expect(report.results.count == 2)
        for result in report.results {
            #expect(result.rejected.count == 1 && result.rejected[0].hasPrefix("\(faulty)"), "\(result.rejected)")
            #expect(result.winner != nil && result.winner != faulty)
            #expect(result.timed == report.candidates.count - 1)
        }
        // The file holds only verified winners, and a backend reads them back.
        guard case let .loaded(file) = ProgramCache(directory: dir).loadTuning(device: info.name, driver: info.driverVersion) else {
            Issue.record("no tuning file written")
            return
        }
        #expect(file.entries.count == 2 && file.entries.allSatisfy { $0.tiling != faulty })
        let backend = try OpenCLBackend(info: info, device: device, cache: ProgramCache(directory: dir))
        for shape in shapes { #expect(backend.gemmTiling(for: shape).tuned) }
    }

    @Test func benchReportsTheTilingThatRan() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (info, _) = try device()
        _ = try ProgramCache(directory: dir).storeTuning(file(for: info))
        let args = ["bench", "--backend", "opencl", "--device", String(info.index), "--gemm", "96x80x72:NT,64x64x64",
                    "--quick", "--repetitions", "1"]
        for mode in ["auto", "default"] {
            let env = ["BACKPROP_CACHE_DIR": dir.path, "BACKPROP_OPENCL_TILING": mode]
            let json = try backprop(args + ["--json"], in: dir, environment: env)
            #expect(json.status == 0, "\(json.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            let results = object?["results"] as? [[String: Any]] ?? []
            #expect(results.map { $0["key"] as? String } == ["gemm/NT/96x80x72", "gemm/NN/64x64x64"])
            let tiling = results.first?["tiling"] as? String ?? ""
            if mode == "auto" {
                #expect(tiling == "\(unusual) (tuned)")
                let source = object?["tiling_source"] as? String ?? ""
                #expect(source.hasPrefix("tuned"))
            } else {
                #expect(tiling.hasSuffix("(default)") && !tiling.hasPrefix("\(unusual)"))
            }
            let lastTiling = results.last?["tiling"] as? String ?? ""
            #expect(lastTiling.hasSuffix("(default)"))
            let text = try backprop(args, in: dir, environment: env)
            #expect(text.stdout.contains(mode == "auto" ? "[\(unusual) (tuned)]" : "(default)]"), "\(text.stdout)")
        }
    }
}
