import ArgumentParser
import Backprop

struct GemmBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm-bench",
        abstract: "SGEMM GFLOP/s on the chosen backend, at square sizes and the shapes of an MNIST MLP step."
    )

    @OptionGroup var backendOptions: BackendOptions

    @Option(help: "Timed runs per shape (the best is reported).")
    var repetitions = 10

    @Option(help: "Square sizes to time.")
    var sizes: [Int] = [256, 512, 1024]

    func run() throws {
        let backend = try backendOptions.makeBackend()
        print("SGEMM on \(backend.name), best of \(repetitions)")
        // (m, n, k, op): the forward product W·X of a 784-128-10 MLP at batch 128, the weight
        // gradient δ·Xᵀ and the back-propagated error Wᵀ·δ.
        var shapes = sizes.map { ($0, $0, $0, false, false, "square") }
        shapes += [(128, 128, 784, false, false, "W·X  (128×784)·(784×128)"),
                   (128, 784, 128, false, true, "δ·Xᵀ (128×128)·(128×784)"),
                   (784, 128, 128, true, false, "Wᵀ·δ (784×128)ᵀ·(128×128)"),
                   (10, 128, 128, false, false, "W·A  (10×128)·(128×128)")]
        for (m, n, k, ta, tb, label) in shapes {
            let gflops = try gemmThroughput(backend: backend, m: m, n: n, k: k, transA: ta, transB: tb,
                                            repetitions: repetitions)
            print("\(m)×\(n)×\(k) \(ta ? "T" : "N")\(tb ? "T" : "N")  \(label): \((gflops * 10).rounded() / 10) GFLOP/s")
        }
    }
}
