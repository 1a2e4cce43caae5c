import ArgumentParser
import Backprop
import Foundation

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find the fastest GEMM tiling of an OpenCL device for a network's products, and keep it.",
        discussion: """
        Compiles the tile sizes the device (and each compiled kernel) allows, checks every one against \
        the CPU backend within the float32 error bound of the product (a tiling that computes a wrong \
        result is rejected), times the rest (median of 5 runs) on each shape class of the network's \
        training step — forward W·X, weight gradient δ·Xᵀ, error Wᵀ·δ — and writes the fastest per class \
        to a JSON file beside the compiled programs ($BACKPROP_CACHE_DIR, default ~/.cache/backprop), keyed \
        by device, driver and Kernels/gemm.cl. The OpenCL backend then uses it by itself; \
        BACKPROP_OPENCL_TILING=default ignores it. Without --hidden or --batch-size: the steps of \
        784-128-10 and 784-512-256-10 at batch 128, and 1024³.
        """)

    @Option(help: "OpenCL device: index from `backprop devices` or a name fragment (default: $BACKPROP_OPENCL_DEVICE, else the first GPU, else the first device).")
    var device: String?
    @Option(parsing: .unconditional, help: "Hidden layer sizes, comma-separated, as for train (e.g. 512,256; 'none' for none).")
    var hidden: String?
    @Option(parsing: .unconditional, help: "Inputs of the network (default 784, MNIST).")
    var inputs: Int = 784
    @Option(parsing: .unconditional, help: "Outputs of the network (default 10).")
    var outputs: Int = 10
    @Option(parsing: .unconditional, help: "Samples per minibatch (default 128).")
    var batchSize: Int?
    @Option(parsing: .unconditional, help: "Seconds after which shapes not yet tuned are skipped (default 40).")
    var budget: Double = 40
    @Flag(help: "Print every candidate's GFLOP/s, not only each shape's winner.")
    var verbose = false
    @Flag(help: "Print one JSON object with the results.")
    var json = false

    func validate() throws {
        if inputs < 1 || outputs < 1 { throw CommandError("--inputs and --outputs must be at least 1") }
        if let batchSize, batchSize < 1 { throw CommandError("--batch-size must be at least 1, got \(batchSize)") }
        if !(budget > 0) { throw CommandError("--budget must be positive, got \(budget)") }
        _ = try hiddenSizes()
    }

    func hiddenSizes() throws -> [Int]? { try parseHiddenSizes(hidden) }

    func run() throws {
        let shapes: [GemmShape]
        var network = "default set (784-128-10 and 784-512-256-10 at batch 128, 1024³)"
        if hidden != nil || batchSize != nil {
            let sizes = [inputs] + (try hiddenSizes() ?? [128]) + [outputs], batch = batchSize ?? 128
            shapes = GemmShape.trainingStep(sizes: sizes, batch: batch)
            network = "\(sizes.map(String.init).joined(separator: "-")) at batch \(batch)"
        } else {
            shapes = GemmShape.defaultSet
        }
        let log: (String) -> Void = json ? { _ in } : { print($0); fflush(nil) }
        log("tuning GEMM for \(network): \(Set(shapes.map(\.shapeClass)).count) shape classes")
        let report = try tuneOpenCLGemm(device: device ?? ProcessInfo.processInfo.environment["BACKPROP_OPENCL_DEVICE"],
                                        shapes: shapes, reference: CPUBackend(), budgetSeconds: budget, verbose: verbose,
                                        deviceLabel: device == nil ? "BACKPROP_OPENCL_DEVICE" : "--device",
                                        progress: log)
        for line in report.unusable { log("  unusable: \(line)") }
        for result in report.results {
            for line in result.rejected { log("  rejected on \(result.shape): \(line)") }
        }
        if json {
            try printJSON(report, network: network)
        } else {
            print("device \(report.device.name) (\(report.device.driverVersion)); \(String(format: "%.1f", report.seconds)) s")
            print(report.file.map { "saved \($0.path); the OpenCL backend uses it from now on" } ?? "nothing saved")
        }
    }

    private func printJSON(_ report: GemmTuningReport, network: String) throws {
        func tiling(_ t: GemmTiling?) -> Any { t.map { "\($0)" } ?? NSNull() }
        let object: [String: Any] = [
            "device": report.device.name, "driver": report.device.driverVersion, "network": network,
            "seconds": report.seconds, "file": report.file?.path ?? NSNull(),
            "candidates": report.candidates.map { "\($0)" }, "unusable": report.unusable,
            "skipped": report.skipped.map { "\($0)" },
            "results": report.results.map { r -> [String: Any] in
                ["shape": "\(r.shape)", "class": "\(r.shape.shapeClass)", "tiling": tiling(r.winner), "gflops": r.gflops,
                 "default_tiling": tiling(r.defaultTiling), "default_gflops": r.defaultGflops, "timed": r.timed,
                 "rejected": r.rejected]
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
