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
    @Option(help: "Timed repetitions per workload (default 7, 2 with --quick).")
    var repetitions: Int?
    @OptionGroup var backendOptions: BackendOptions
    @Flag(help: "Print one JSON object with every result.")
    var json = false
    @OptionGroup(title: "Kernel profile") var profiling: ProfileOptions

    func validate() throws {
        if let repetitions, repetitions < 1 { throw CommandError("--repetitions must be at least 1") }
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
            print(pad("workload", 34) + pad("unit", 11) + pad("median", 12) + pad("min", 12) + "max")
        }
        try suite.all(only: only.map { Set($0.split(separator: ",").map(String.init)) }, quick: quick, mnist: mnist) { r in
            results.append(r)
            if !json {
                print(pad(r.key, 34) + pad(r.unit, 11) + pad(fmt(r.median, 2), 12) + pad(fmt(r.min, 2), 12) + fmt(r.max, 2))
                fflush(nil)
            }
        }
        if json {
            let threads = CPUThreads.count()
            let object: [String: Any] = [
                "tool": "backprop", "backend": backend.name, "threads": threads,
                "results": results.map { ["key": $0.key, "unit": $0.unit, "median": $0.median, "min": $0.min,
                                          "max": $0.max, "repetitions": $0.repetitions] as [String: Any] },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(1, width - s.count)) }
}
