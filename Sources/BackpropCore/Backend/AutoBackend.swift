import Foundation

/// What `BACKPROP_BACKEND=auto` calibrates on: the run's network and batch size.
public struct CalibrationWorkload: Sendable, Equatable {
    /// The network trained.
    public var architecture: Architecture
    /// Samples per step.
    public var batchSize: Int
    /// Steps timed per candidate (after one untimed pass over them).
    public var steps: Int

    /// A workload of `steps` steps (default 5).
    public init(architecture: Architecture, batchSize: Int, steps: Int = 5) {
        self.architecture = architecture
        self.batchSize = max(1, batchSize)
        self.steps = max(1, steps)
    }

    /// For commands that train no network of their own (`bench`, `gradcheck`): the default
    /// MNIST network, 784 → 128 relu → 10 softmax, at batch 128.
    public static func standard() throws -> CalibrationWorkload {
        CalibrationWorkload(architecture: try Architecture(inputs: 784, hidden: [128], outputs: 10, activation: .relu),
                            batchSize: 128)
    }

    /// `784 → 128 relu → 10 softmax · cross-entropy, batch 128`.
    public var description: String { "\(architecture), batch \(batchSize)" }
}

/// One backend and device `auto` may choose.
public struct CalibrationCandidate: Sendable, Equatable, Codable {
    /// The registration's name (`cpu`, `opencl`).
    public var backend: String
    /// The device, as `--device` takes it (an index).
    public var device: String
    /// `opencl #0 (pthread-haswell-AMD EPYC)`.
    public var label: String
    /// What identifies the device and its driver (name, platform, details): part of the cache key.
    public var fingerprint: String

    /// A candidate.
    public init(backend: String, device: String, label: String, fingerprint: String) {
        self.backend = backend
        self.device = device
        self.label = label
        self.fingerprint = fingerprint
    }
}

/// One candidate's calibration: samples per second, or why it could not run.
public struct CalibrationFigure: Sendable, Equatable, Codable {
    /// The candidate's label.
    public var label: String
    /// Training throughput; nil when the candidate failed.
    public var samplesPerSecond: Double?
    /// Why the candidate failed; nil when it ran.
    public var error: String?

    /// A figure.
    public init(label: String, samplesPerSecond: Double? = nil, error: String? = nil) {
        self.label = label
        self.samplesPerSecond = samplesPerSecond
        self.error = error
    }
}

/// The JSON file `auto` caches its choice in, one per key.
public struct CalibrationRecord: Sendable, Equatable, Codable {
    /// Format version (1).
    public var version: Int
    /// The full key (workload and candidates) the file was written for.
    public var key: String
    /// The workload, as text.
    public var workload: String
    /// The candidate chosen.
    public var choice: CalibrationCandidate
    /// Every candidate's figure.
    public var figures: [CalibrationFigure]
    /// When the calibration ran (ISO 8601).
    public var date: String
}

/// `BACKPROP_BACKEND=auto`: times a few training steps of the run's network on every backend
/// and device, picks the fastest, prints the figures, and caches the choice as JSON beside the
/// compiled OpenCL programs (`BACKPROP_CACHE_DIR`, default `~/.cache/backprop`), keyed by the
/// network, the batch size and every candidate device with its driver. A cached choice is
/// reused without calibrating; an unreadable cache file is reported and replaced.
public struct AutoBackendSelector {
    /// Where the choice files live; nil: no cache.
    public var cacheDirectory: URL?
    /// Where the choice and the figures are reported (stderr in the command).
    public var log: (String) -> Void

    /// A selector caching under `cacheDirectory`, reporting through `log`.
    public init(cacheDirectory: URL?, log: @escaping (String) -> Void) {
        self.cacheDirectory = cacheDirectory
        self.log = log
    }

    /// The index of the fastest figure that ran (ties: the first); nil when none ran.
    public static func choose(_ figures: [CalibrationFigure]) -> Int? {
        var best: Int?
        for (i, f) in figures.enumerated() {
            guard let rate = f.samplesPerSecond, rate.isFinite, rate > 0 else { continue }
            if let b = best, let bestRate = figures[b].samplesPerSecond, bestRate >= rate { continue }
            best = i
        }
        return best
    }

    /// The cache key: the workload and every candidate with its device fingerprint.
    public static func key(workload: CalibrationWorkload, candidates: [CalibrationCandidate]) -> String {
        (["auto v1", workload.description, "steps \(workload.steps)"]
            + candidates.map { "\($0.backend) \($0.device): \($0.fingerprint)" }).joined(separator: "\n")
    }

    /// The file holding the choice for `key`.
    public func file(key: String) -> URL? {
        var print = Fingerprint()
        print.combine(key)
        return cacheDirectory?.appending(path: "backend-auto-\(String(print.finalized, radix: 16)).json")
    }

    /// The candidate to use: the cached choice for this workload and these candidates, else the
    /// fastest by `measure` (samples/s; a throw marks the candidate failed), then cached.
    /// Throws when no candidate can run.
    public func select(candidates: [CalibrationCandidate], workload: CalibrationWorkload,
                       measure: (CalibrationCandidate) throws -> Double) throws
        -> (choice: CalibrationCandidate, record: CalibrationRecord, cached: Bool) {
        let key = Self.key(workload: workload, candidates: candidates)
        let file = file(key: key)
        if let file, let record = load(file, key: key, candidates: candidates) {
            log("backend auto: \(record.choice.label), cached (\(summary(record.figures)); calibrated \(record.date)); "
                + "delete \(file.path) to calibrate again")
            return (record.choice, record, true)
        }
        log("backend auto: calibrating \(workload.description): \(workload.steps) steps on each of \(candidates.count) candidates")
        var figures: [CalibrationFigure] = []
        for candidate in candidates {
            do {
                let rate = try measure(candidate)
                figures.append(CalibrationFigure(label: candidate.label, samplesPerSecond: rate))
                log("backend auto:   \(candidate.label): \(formatRate(rate)) samples/s")
            } catch {
                figures.append(CalibrationFigure(label: candidate.label, error: "\(error)"))
                log("backend auto:   \(candidate.label): failed: \(error)")
            }
        }
        guard let best = Self.choose(figures) else {
            throw BackendError.device("BACKPROP_BACKEND=auto: no backend could run the calibration ("
                                      + figures.map { "\($0.label): \($0.error ?? "no figure")" }.joined(separator: "; ") + ")")
        }
        let record = CalibrationRecord(version: 1, key: key, workload: workload.description, choice: candidates[best],
                                       figures: figures, date: ISO8601DateFormatter().string(from: Date()))
        var stored = "not cached (no cache directory)"
        if let file {
            stored = store(record, to: file) ? "cached in \(file.path)" : "not cached (cannot write \(file.path))"
        }
        log("backend auto: chose \(candidates[best].label); \(stored)")
        return (candidates[best], record, false)
    }

    /// The record in `file` if it was written for `key` and names one of `candidates`; an
    /// unreadable file is reported (never a crash) and ignored.
    func load(_ file: URL, key: String, candidates: [CalibrationCandidate]) -> CalibrationRecord? {
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        let record: CalibrationRecord
        do {
            record = try JSONDecoder().decode(CalibrationRecord.self, from: try Data(contentsOf: file))
        } catch {
            log("backend auto: warning: ignoring the unreadable cache file \(file.path) (\(describe(error))); calibrating again")
            return nil
        }
        guard record.version == 1, record.key == key, candidates.contains(record.choice) else {
            log("backend auto: warning: ignoring the cache file \(file.path), written for other devices or another network; calibrating again")
            return nil
        }
        return record
    }

    /// Writes atomically; false on any failure.
    func store(_ record: CalibrationRecord, to file: URL) -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(record) else { return false }
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        return (try? data.write(to: file, options: .atomic)) != nil
    }

    private func summary(_ figures: [CalibrationFigure]) -> String {
        figures.map { "\($0.label) " + ($0.samplesPerSecond.map { formatRate($0) + " samples/s" } ?? "failed") }
            .joined(separator: ", ")
    }

    private func formatRate(_ x: Double) -> String { String(format: "%.0f", x) }

    private func describe(_ error: Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted: return "not valid JSON"
            case let .keyNotFound(key, _): return "no \"\(key.stringValue)\""
            case .typeMismatch, .valueNotFound: return "a value of the wrong type"
            @unknown default: return "\(decoding)"
            }
        }
        return error.localizedDescription
    }
}

extension AutoBackendSelector {
    /// Samples/s of `workload` on `backend`: `steps` SGD steps on random data, timed after one
    /// untimed pass over the same steps (buffers made, kernels warm); the faster of two timed
    /// passes.
    public static func measure(_ backend: any Backend, workload: CalibrationWorkload) throws -> Double {
        let architecture = workload.architecture
        let n = workload.batchSize * workload.steps
        var random = SeededGenerator(seed: 7)
        let features = architecture.sizes[0], outputs = architecture.outputCount
        let data = Dataset(featureCount: features, classCount: outputs,
                           inputs: (0..<(features * n)).map { _ in Float(random.nextUniform()) },
                           labels: (0..<n).map { _ in Int32(Double(outputs) * random.nextUniform()) % Int32(outputs) })
        let network = try Network(backend: backend, architecture: architecture, seed: 1)
        // A small rate: random targets must not make the loss diverge within the steps.
        let optimizer = try Optimizer(OptimizerConfiguration(kind: .sgd, learningRate: 1e-4), for: network)
        let trainer = try Trainer(network: network, optimizer: optimizer, batchSize: workload.batchSize, seed: 1)
        let device = try DeviceDataset(data, on: backend)
        _ = try trainer.trainEpoch(device)
        try backend.synchronize()
        var best = Double.infinity
        for _ in 0..<2 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try trainer.trainEpoch(device)
            try backend.synchronize()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return Double(n) / max(best, 1e-9)
    }
}
