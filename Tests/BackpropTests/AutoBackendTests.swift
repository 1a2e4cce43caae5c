@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
import Foundation
import Testing

/// `BACKPROP_BACKEND=auto`: the choice from timings, the cache beside the compiled programs,
/// a damaged cache file reported and replaced.
@Suite("Backend auto")
struct AutoBackendTests {
    /// Lines logged, collected from the selector's `log` (called on the test's own thread).
    final class Lines: @unchecked Sendable {
        var lines: [String] = []
        var text: String { lines.joined(separator: "\n") }
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appending(path: "backprop-auto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    let candidates = [
        CalibrationCandidate(backend: "cpu", device: "0", label: "cpu #0 (host)", fingerprint: "host; 2 cores"),
        CalibrationCandidate(backend: "opencl", device: "0", label: "opencl #0 (gpu)", fingerprint: "gpu; driver 1"),
        CalibrationCandidate(backend: "opencl", device: "1", label: "opencl #1 (pocl)", fingerprint: "pocl; driver 3"),
    ]

    func workload(batch: Int = 128) throws -> CalibrationWorkload {
        CalibrationWorkload(architecture: try Architecture(inputs: 784, hidden: [512, 256], outputs: 10, activation: .relu),
                            batchSize: batch)
    }

    @Test func fastestFigureWins() {
        let f = [CalibrationFigure(label: "a", samplesPerSecond: 100), CalibrationFigure(label: "b", samplesPerSecond: 300),
                 CalibrationFigure(label: "c", error: "out of memory"), CalibrationFigure(label: "d", samplesPerSecond: 200)]
        #expect(AutoBackendSelector.choose(f) == 1)
        // Ties go to the first (registration order: the CPU); failures and non-figures never win.
        #expect(AutoBackendSelector.choose([.init(label: "a", samplesPerSecond: 5), .init(label: "b", samplesPerSecond: 5)]) == 0)
        #expect(AutoBackendSelector.choose([.init(label: "a", error: "x"), .init(label: "b", samplesPerSecond: .nan),
                                            .init(label: "c", samplesPerSecond: 0)]) == nil)
        #expect(AutoBackendSelector.choose([.init(label: "a", error: "x"), .init(label: "b", samplesPerSecond: 1)]) == 1)
    }

    /// Fake timings: the fastest is chosen, every figure printed, the choice cached; the next
    /// selection reads the cache and measures nothing; another batch size calibrates anew.
    @Test func choiceIsCachedThenReused() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = Lines()
        let selector = AutoBackendSelector(cacheDirectory: dir) { log.lines.append($0) }
        let rates = ["cpu #0 (host)": 5000.0, "opencl #0 (gpu)": 90000, "opencl #1 (pocl)": 3000]
        var measured: [String] = []
        let first = try selector.select(candidates: candidates, workload: try workload()) { c in
            measured.append(c.label)
            return try #require(rates[c.label])
        }
        #expect(first.choice == candidates[1] && !first.cached)
        #expect(measured == candidates.map(\.label))
        #expect(log.text.contains("opencl #0 (gpu): 90000 samples/s") && log.text.contains("cpu #0 (host): 5000 samples/s"))
        #expect(log.text.contains("chose opencl #0 (gpu); cached in \(dir.path)"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("backend-auto-") }.count == 1)

        log.lines = []
        measured = []
        let second = try selector.select(candidates: candidates, workload: try workload()) { c in
            measured.append(c.label)
            return 1
        }
        #expect(second.choice == candidates[1] && second.cached && measured.isEmpty)
        #expect(second.record == first.record)
        #expect(log.text.contains("opencl #0 (gpu), cached") && log.text.contains("90000 samples/s"))

        // Another batch size, or another driver: another key, a new calibration.
        _ = try selector.select(candidates: candidates, workload: try workload(batch: 1024)) { c in
            measured.append(c.label)
            return c.backend == "cpu" ? 10 : 1
        }
        #expect(measured.count == 3)
        var updated = candidates
        updated[1].fingerprint = "gpu; driver 2"
        #expect(AutoBackendSelector.key(workload: try workload(), candidates: updated)
                != AutoBackendSelector.key(workload: try workload(), candidates: candidates))
    }

    /// A damaged or foreign cache file is reported and ignored, never a crash: the selector
    /// calibrates again and replaces it.
    @Test(arguments: ["{ not json", "", "{\"version\": 1}", "[1, 2, 3]", "\u{FF}\u{FE}binary"])
    func corruptCacheIsIgnored(content: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = Lines()
        let selector = AutoBackendSelector(cacheDirectory: dir) { log.lines.append($0) }
        let file = try #require(selector.file(key: AutoBackendSelector.key(workload: try workload(), candidates: candidates)))
        try Data(content.utf8).write(to: file)
        var calls = 0
        let result = try selector.select(candidates: candidates, workload: try workload()) { c in
            calls += 1
            return c.device == "1" ? 50 : 10
        }
        #expect(calls == 3 && !result.cached && result.choice == candidates[2])
        #expect(log.text.contains("warning: ignoring the unreadable cache file \(file.path)"), "\(log.text)")
        // Replaced by a valid record: the next selection is cached.
        let again = try selector.select(candidates: candidates, workload: try workload()) { _ in 1 }
        #expect(again.cached && again.choice == candidates[2])
    }

    /// A record written for other candidates (same file name by accident, or edited) is not used.
    @Test func recordForOtherDevicesIsIgnored() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = Lines()
        let selector = AutoBackendSelector(cacheDirectory: dir) { log.lines.append($0) }
        _ = try selector.select(candidates: candidates, workload: try workload()) { _ in 1 }
        let file = try #require(selector.file(key: AutoBackendSelector.key(workload: try workload(), candidates: candidates)))
        var record = try JSONDecoder().decode(CalibrationRecord.self, from: Data(contentsOf: file))
        record.key = "something else"
        try JSONEncoder().encode(record).write(to: file)
        var calls = 0
        let result = try selector.select(candidates: candidates, workload: try workload()) { _ in calls += 1; return 1 }
        #expect(!result.cached && calls == 3)
        #expect(log.text.contains("written for other devices or another network"))
    }

    @Test func noCandidateRunsIsAnError() throws {
        let selector = AutoBackendSelector(cacheDirectory: nil) { _ in }
        #expect(throws: BackendError.self) {
            try selector.select(candidates: candidates, workload: try workload()) { _ in throw BackendError.device("broken") }
        }
        // One failing candidate is skipped.
        let result = try selector.select(candidates: candidates, workload: try workload()) { c in
            if c.device == "0", c.backend == "opencl" { throw BackendError.device("broken") }
            return 1
        }
        #expect(result.choice == candidates[0])
    }

    /// Through the registry: `BACKPROP_BACKEND=auto` calibrates the registered backends on the
    /// request's network (really training, tiny), makes the chosen one, and caches the choice.
    @Test func registryMakesTheFastest() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let registry = BackendRegistry([.cpu, .counting()])
        let log = Lines()
        let workload = CalibrationWorkload(architecture: try Architecture(inputs: 6, hidden: [8], outputs: 3, activation: .relu),
                                           batchSize: 16, steps: 2)
        let request = BackendRequest(environment: ["BACKPROP_CACHE_DIR": dir.path], workload: workload)
        let backend = try registry.makeAutomatic(request) { log.lines.append($0) }
        // Both are CPU backends: either may win, and the one made is the one the log names.
        #expect(log.text.contains("chose cpu #0") ? backend is CPUBackend : backend is CountingCPUBackend)
        #expect(log.text.contains("chose "))
        #expect(log.text.contains("calibrating 6 → 8 relu → 3 softmax · cross-entropy, batch 16"), "\(log.text)")
        #expect(log.text.contains("cpu #0") && log.text.contains("counting #0 (host)") && log.text.contains("samples/s"))
        log.lines = []
        _ = try registry.makeAutomatic(request) { log.lines.append($0) }
        #expect(log.text.contains("cached"))
        // A device does not go with auto.
        #expect(throws: BackendError.self) {
            try registry.makeBackend(named: "auto", BackendRequest(device: "0", environment: ["BACKPROP_CACHE_DIR": dir.path]))
        }
    }

    /// `train --backend auto` calibrates on the run's own network and batch, then trains; the
    /// second run reuses the cached choice.
    @Test func trainCalibratesOnItsNetwork() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try blobsCSV(in: dir)
        let arguments = ["BACKPROP_CACHE_DIR=\(dir.path)", try backpropExecutable().path, "train", "--data", data,
                         "--hidden", "8", "--batch-size", "16", "--epochs", "1", "--backend", "auto"]
        let first = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), arguments, in: dir)
        try #require(first.status == 0, "\(first.stderr)")
        if !first.stderr.contains("the only device") {
            #expect(first.stderr.contains("backend auto: calibrating 4 → 8 relu → 3 softmax · cross-entropy, batch 16"), "\(first.stderr)")
            #expect(first.stderr.contains("backend auto: chose "))
            let second = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), arguments, in: dir)
            #expect(second.status == 0 && second.stderr.contains(", cached ("), "\(second.stderr)")
        }
        // A device is the calibration's to choose: given, it is refused in plain words.
        let device = try backprop(["train", "--data", data, "--epochs", "1", "--backend", "auto", "--device", "0"], in: dir)
        #expect(device.status == 1 && device.stderr.contains("--device 0 cannot be given with the backend auto"), "\(device.stderr)")
    }
}

