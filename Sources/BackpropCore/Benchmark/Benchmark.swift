import Foundation

/// One measured workload: throughput over several repetitions after a warm-up.
public struct BenchmarkResult: Codable, Sendable {
    /// Stable name shared with the peers' scripts, e.g. `gemm/NN/1024x1024x1024`.
    public var key: String
    /// What the rates count per second: `GFLOP/s`, `GB/s` or `samples/s`.
    public var unit: String
    /// Median rate over the repetitions, in `unit`.
    public var median: Double
    /// Slowest repetition's rate, in `unit`.
    public var min: Double
    /// Fastest repetition's rate, in `unit`.
    public var max: Double
    /// Number of timed repetitions (the warm-up not counted).
    public var repetitions: Int
}

/// Our side of the benchmark suite (`backprop bench`; `Benchmarks/run.py` runs it beside the
/// peers). Every workload goes through the `Backend` protocol, so the same code measures the CPU
/// and OpenCL backends; `synchronize()` closes each timed region.
public struct BenchmarkSuite {
    /// The backend every workload runs on.
    public let backend: any Backend
    /// Seconds each repetition should last at least.
    public var minimumSeconds: Double
    /// Timed repetitions per workload; the result is their median.
    public var repetitions: Int

    /// A suite on `backend`: repetitions of at least 0.2 s, 7 of them (0.01 s and 2 with `quick`,
    /// for smoke runs) unless `repetitions` says otherwise.
    public init(backend: any Backend, quick: Bool = false, repetitions: Int? = nil) {
        self.backend = backend
        minimumSeconds = quick ? 0.01 : 0.2
        self.repetitions = repetitions ?? (quick ? 2 : 7)
    }

    /// Runs `body` (which does `work` units) enough times per repetition to last `minimumSeconds`,
    /// after one untimed warm-up, and reports units per second.
    func measure(_ key: String, unit: String, work: Double, _ body: () throws -> Void) throws -> BenchmarkResult {
        try body()
        try backend.synchronize()
        // Calibrate: how many calls make one repetition long enough.
        var calls = 1
        while true {
            let t = try time(calls, body)
            if t >= minimumSeconds || calls >= 1 << 20 { break }
            calls = Swift.max(calls * 2, Int(Double(calls) * minimumSeconds / Swift.max(t, 1e-6) * 1.2))
        }
        var rates = [Double]()
        for _ in 0..<repetitions { rates.append(work * Double(calls) / (try time(calls, body))) }
        rates.sort()
        return BenchmarkResult(key: key, unit: unit, median: rates[rates.count / 2], min: rates[0],
                               max: rates[rates.count - 1], repetitions: repetitions)
    }

    private func time(_ calls: Int, _ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<calls { try body() }
        try backend.synchronize()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    // MARK: Workloads

    /// A 784-512-512-10 step's products at batch 128, as `(m, n, k, transposeA, transposeB)`.
    static let largeStepShapes: [(Int, Int, Int, Bool, Bool)] = [
        (512, 128, 784, false, false), (512, 128, 512, false, false), (10, 128, 512, false, false),
        (512, 784, 128, false, true), (512, 512, 128, false, true), (10, 512, 128, false, true),
        (512, 128, 512, true, false), (512, 128, 10, true, false)]

    /// `C(m×n) ← op(A)·op(B)` with `op(A)` `m×k`: GFLOP/s counting `2mnk`.
    public func gemm(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false) throws -> BenchmarkResult {
        // Refused before the host arrays of A and B are made (a failed allocation of those traps).
        // In Double: m·n of a huge shape overflows Int.
        let (dm, dn, dk) = (Double(m), Double(n), Double(k)), memory = backend.memory
        let floats = [dm * dk, dk * dn, dm * dn], bytes = 4 * 2 * floats.reduce(0, +)   // the host's copies of A and B too
        guard bytes < Double(memory.total), 4 * (floats.max() ?? 0) <= Double(memory.largestBuffer) else {
            func gb(_ x: Double) -> String { String(format: "%.1f GB", x / 1e9) }
            throw BenchmarkError(description: "gemm \(m)x\(n)x\(k) needs \(gb(bytes)) for A, B and C and their host copies; "
                + "\(backend.name) has \(gb(Double(memory.total))), at most \(gb(Double(memory.largestBuffer))) in one buffer")
        }
        var data = SeededGenerator(seed: 1)
        func random(_ count: Int) -> [Float] { (0..<count).map { _ in Float(data.nextUniform() - 0.5) } }
        let a = try backend.makeMatrix(rows: transposeA ? k : m, cols: transposeA ? m : k, values: random(m * k))
        let b = try backend.makeMatrix(rows: transposeB ? n : k, cols: transposeB ? k : n, values: random(k * n))
        let c = try backend.makeMatrix(rows: m, cols: n)
        let kind = (transposeA ? "T" : "N") + (transposeB ? "T" : "N")
        return try measure("gemm/\(kind)/\(m)x\(n)x\(k)", unit: "GFLOP/s", work: 2e-9 * Double(m * n * k)) {
            try backend.gemm(transposeA: transposeA, transposeB: transposeB, alpha: 1, a, b, beta: 0, c)
        }
    }

    /// The elementwise workloads; the raw value is the name in the result key.
    public enum Elementwise: String, CaseIterable, Sendable {
        /// `A ← max(Z, 0)` (one read and one write per element); `δ ← upstream ⊙ [Z > 0]` and
        /// `C ← A ⊙ B` (two reads, one write).
        case relu, reluBackward = "relu_backward", hadamard
        /// Bytes read and written per element.
        var bytesPerElement: Double { self == .relu ? 8 : 12 }
    }

    /// An elementwise pass over `n` floats: GB/s of memory traffic (reads + writes).
    public func elementwise(_ op: Elementwise, count n: Int) throws -> BenchmarkResult {
        var data = SeededGenerator(seed: 2)
        let x = try backend.makeMatrix(rows: n, cols: 1, values: (0..<n).map { _ in Float(data.nextUniform() - 0.5) })
        let y = try backend.makeMatrix(rows: n, cols: 1, values: (0..<n).map { _ in Float(data.nextUniform()) })
        let out = try backend.makeMatrix(rows: n, cols: 1)
        return try measure("elementwise/\(op.rawValue)/\(n)", unit: "GB/s", work: 1e-9 * op.bytesPerElement * Double(n)) {
            switch op {
            case .relu: try backend.activate(.relu, x, into: out)
            case .reluBackward: try backend.activationBackward(.relu, z: x, a: x, upstream: y, into: out)
            case .hadamard: try backend.hadamard(x, y, into: out)
            }
        }
    }

    /// The trainer every training workload times: a ReLU MLP of `sizes` with softmax
    /// cross-entropy, SGD at 0.1, seed 1.
    func benchmarkTrainer(sizes: [Int], batchSize: Int) throws -> Trainer {
        let architecture = try Architecture(inputs: sizes[0], hidden: Array(sizes.dropFirst().dropLast()),
                                            outputs: sizes[sizes.count - 1], activation: .relu)
        let network = try Network(backend: backend, architecture: architecture, seed: 1)
        return try Trainer(network: network,
                           optimizer: try Optimizer(OptimizerConfiguration(kind: .sgd, learningRate: 0.1), for: network),
                           batchSize: batchSize, seed: 1)
    }

    /// Training throughput in samples/s: whole SGD steps (gather, forward, backward, update)
    /// of a ReLU MLP with softmax cross-entropy, on `data` in shuffled minibatches.
    public func training(sizes: [Int], batchSize: Int, data: Dataset) throws -> BenchmarkResult {
        let trainer = try benchmarkTrainer(sizes: sizes, batchSize: batchSize)
        // One "call" is an epoch over whole batches (every full batch of the data, as the peers
        // gather from the whole set; 8 batches in the quick mode), so partial batches do not skew it.
        let steps = Swift.max(1, minimumSeconds < 0.1 ? Swift.min(data.count / batchSize, 8) : data.count / batchSize)
        let slice = try DeviceDataset(data.subset(Array(0..<(steps * batchSize))), on: backend)
        let key = "train/\(sizes.map(String.init).joined(separator: "-"))/b\(batchSize)"
        return try measure(key, unit: "samples/s", work: Double(steps * batchSize)) {
            _ = try trainer.trainEpoch(slice)
        }
    }

    /// Every workload of the suite (a short list with `quick`).
    public func all(only: Set<String>? = nil, quick: Bool, mnist: Dataset?,
                    report: (BenchmarkResult) -> Void) throws {
        func wanted(_ group: String) -> Bool { only.map { $0.contains(group) } ?? true }
        if wanted("gemm") {
            for s in quick ? [128, 256] : [128, 256, 512, 1024, 2048] { report(try gemm(m: s, n: s, k: s)) }
            report(try gemm(m: 128, n: 128, k: 784))                              // forward W·X
            report(try gemm(m: 128, n: 784, k: 128, transposeB: true))           // ∂W = δ·Xᵀ
            report(try gemm(m: 784, n: 128, k: 128, transposeA: true))           // error Wᵀ·δ
            // The GEMMs of a 784-512-512-10 step at batch 128 (full runs only): forward W·A,
            // ∂W = δ·Aᵀ and the error Wᵀ·δ of each layer (the first layer has no error product).
            if !quick {
                for (m, n, k, ta, tb) in Self.largeStepShapes { report(try gemm(m: m, n: n, k: k, transposeA: ta, transposeB: tb)) }
            }
        }
        if wanted("elementwise") {
            for n in quick ? [65536] : [65536, 16_777_216] {
                for op in Elementwise.allCases { report(try elementwise(op, count: n)) }
            }
        }
        if wanted("train") {
            let data = mnist ?? Synthetic.blobs(classes: 10, features: 784, perClass: 700, seed: 1)
            report(try training(sizes: [784, 128, 10], batchSize: 128, data: data))
            report(try training(sizes: [784, 128, 10], batchSize: 32, data: data))
            report(try training(sizes: [784, 512, 512, 10], batchSize: 128, data: data))
        }
    }
}

/// A workload the backend has no room for; the message says how much it needs and has.
public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
}
