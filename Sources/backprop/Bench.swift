import ArgumentParser
import Backprop
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure GEMM, elementwise and training throughput on the chosen backend.",
        discussion: "Benchmarks/run.py runs this beside NumPy, PyTorch, JAX, tinygrad, OpenBLAS and CLBlast.")

    @Flag(help: "A seconds-long smoke run with fewer sizes and repetitions.")
    var quick = false
    @Option(help: "Restrict to groups: gemm, elementwise, train (comma-separated).")
    var only: String?
    @Option(parsing: .unconditional, help: "Timed repetitions per workload (default 7, 2 with --quick).")
    var repetitions: Int?
    @Option(help: "Time these GEMMs instead of the suite: MxNxK with an optional :NT, :TN or :TT, comma-separated (e.g. 4096x4096x4096,128x784x128:NT).")
    var gemm: String?
    @Option(help: "Time these training steps instead of the suite: layer sizes and batch, comma-separated (e.g. 784-512-256-10/b128).")
    var train: String?
    @OptionGroup var backendOptions: BackendOptions
    @Flag(help: "Print one JSON object with every result.")
    var json = false
    @OptionGroup(title: "Kernel profile") var profiling: ProfileOptions

    func validate() throws {
        if let repetitions, repetitions < 1 { throw CommandError("--repetitions must be at least 1") }
        _ = try customGemms()
        _ = try customTraining()
        if let only {
            if only.split(separator: ",").isEmpty { throw CommandError("--only needs at least one of gemm, elementwise, train") }
            let bad = only.split(separator: ",").map(String.init).filter { !["gemm", "elementwise", "train"].contains($0) }
            if !bad.isEmpty { throw CommandError("--only takes gemm, elementwise, train; got \(bad.joined(separator: ", "))") }
        }
    }

    func run() throws {
        if profiling.profile { return try runProfile() }
        let backend = try backendOptions.makeBackend()
        let suite = BenchmarkSuite(backend: backend, quick: quick, repetitions: repetitions)
        let mnist = DataSource.bundledMNIST().flatMap { try? MNIST.load(directory: $0).train }
        var results = [BenchmarkResult]()
        if !json {
            print("backend \(backend.name)")
            if let cl = backend as? OpenCLBackend { print("GEMM tilings: \(cl.tilingSource)") }
            print(pad("workload", 34) + pad("unit", 11) + pad("median", 12) + pad("min", 12) + "max")
        }
        let report: (BenchmarkResult) -> Void = { r in
            results.append(r)
            if !json {
                print(pad(r.key, 34) + pad(r.unit, 11) + pad(fmt(r.median, 2), 12) + pad(fmt(r.min, 2), 12) + fmt(r.max, 2)
                      + (gemmTiling(backend, key: r.key).map { "  [\($0)]" } ?? ""))
                fflush(nil)
            }
        }
        if gemm != nil || train != nil {
            for shape in try customGemms() {
                report(try suite.gemm(m: shape.m, n: shape.n, k: shape.k, transposeA: shape.transposeA, transposeB: shape.transposeB))
            }
            for (sizes, batch) in try customTraining() {
                // MNIST where it fits the sizes, else Gaussian blobs of as many features and classes.
                let outputs = sizes[sizes.count - 1]
                let data = mnist.flatMap { $0.featureCount == sizes[0] && $0.classCount == outputs ? $0 : nil }
                    ?? Synthetic.blobs(classes: outputs, features: sizes[0], perClass: max(700, 2 * batch / outputs + 1), seed: 1)
                report(try suite.training(sizes: sizes, batchSize: batch, data: data))
            }
        } else {
            try suite.all(only: only.map { Set($0.split(separator: ",").map(String.init)) }, quick: quick, mnist: mnist,
                          report: report)
        }
        if json {
            let threads = CPUThreads.count()
            var object: [String: Any] = [
                "tool": "backprop", "backend": backend.name, "threads": threads,
                "results": results.map { r in
                    var o: [String: Any] = ["key": r.key, "unit": r.unit, "median": r.median, "min": r.min,
                                            "max": r.max, "repetitions": r.repetitions]
                    if let tiling = gemmTiling(backend, key: r.key) { o["tiling"] = tiling }
                    return o
                },
            ]
            if let cl = backend as? OpenCLBackend { object["tiling_source"] = cl.tilingSource }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// `--gemm`, parsed.
    private func customGemms() throws -> [GemmShape] {
        try (gemm ?? "").split(separator: ",").map { item in
            let parts = item.split(separator: ":")
            let dims = parts[0].split(separator: "x").compactMap { Int($0) }
            let kind = parts.count > 1 ? String(parts[1]).uppercased() : "NN"
            guard parts.count <= 2, dims.count == 3, dims.allSatisfy({ $0 > 0 }), ["NN", "NT", "TN", "TT"].contains(kind) else {
                throw CommandError("--gemm takes MxNxK with an optional :NT, :TN or :TT (e.g. 4096x4096x4096), got \"\(item)\"")
            }
            return GemmShape(m: dims[0], n: dims[1], k: dims[2], transposeA: kind.first == "T", transposeB: kind.last == "T")
        }
    }

    /// `--train`, parsed: layer sizes and batch.
    private func customTraining() throws -> [([Int], Int)] {
        try (train ?? "").split(separator: ",").map { item in
            let parts = item.split(separator: "/")
            let sizes = parts[0].split(separator: "-").compactMap { Int($0) }
            guard parts.count == 2, parts[1].first == "b", let batch = Int(parts[1].dropFirst()), batch > 0,
                  sizes.count >= 2, sizes.count == parts[0].split(separator: "-").count, sizes.allSatisfy({ $0 > 0 }) else {
                throw CommandError("--train takes layer sizes and a batch, e.g. 784-512-256-10/b128, got \"\(item)\"")
            }
            return (sizes, batch)
        }
    }

    func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(1, width - s.count)) }
}

/// The GEMM tiling an OpenCL backend runs for a `gemm/NT/MxNxK` result, "(tuned)" or
/// "(default)"; nil for other results and backends.
func gemmTiling(_ backend: any Backend, key: String) -> String? {
    let parts = key.split(separator: "/")
    guard let cl = backend as? OpenCLBackend, parts.count == 3, parts[0] == "gemm", parts[1].count == 2 else { return nil }
    let dims = parts[2].split(separator: "x").compactMap { Int($0) }
    guard dims.count == 3 else { return nil }
    let shape = GemmShape(m: dims[0], n: dims[1], k: dims[2], transposeA: parts[1].first == "T", transposeB: parts[1].last == "T")
    let (tiling, tuned) = cl.gemmTiling(for: shape)
    return "\(tiling) (\(tuned ? "tuned" : "default"))"
}
