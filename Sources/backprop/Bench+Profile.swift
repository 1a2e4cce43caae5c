import ArgumentParser
import Backprop
import Foundation

/// `bench --profile`: device time per kernel per training step, from OpenCL events.
struct ProfileOptions: ParsableArguments {
    @Flag(help: "Instead of the timed workloads, profile training steps: device time per kernel per step (OpenCL).")
    var profile = false
    @Option(help: ArgumentHelp("With --profile: the network's layer sizes, comma-separated (default: the training workloads 784,128,10 and 784,512,512,10).",
                               valueName: "sizes"))
    var layers: String?
    @Option(parsing: .unconditional, help: "With --profile: samples per step (default 128).")
    var batchSize: Int?
    @Option(parsing: .unconditional, help: "With --profile: steps profiled, after as many untimed (default 20, 4 with --quick).")
    var steps: Int?

    func validate() throws {
        if !profile, layers != nil || batchSize != nil || steps != nil {
            throw CommandError("--layers, --batch-size and --steps go with --profile")
        }
        if let batchSize, batchSize < 1 { throw CommandError("--batch-size must be at least 1, got \(batchSize)") }
        if let steps, steps < 1 { throw CommandError("--steps must be at least 1, got \(steps)") }
        _ = try networks()
    }

    /// The layer sizes to profile.
    func networks() throws -> [[Int]] {
        guard let layers else { return [[784, 128, 10], [784, 512, 512, 10]] }
        let sizes = layers.split(separator: ",", omittingEmptySubsequences: false).map {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        guard sizes.count >= 2, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw CommandError("--layers takes at least two positive sizes separated by commas (e.g. 784,512,256,10), got \"\(layers)\"")
        }
        return [sizes.compactMap { $0 }]
    }
}

extension Bench {
    func runProfile() throws {
        let backend = try backendOptions.makeBackend(profiling: true)
        guard let profiler = backend as? any KernelProfiling, profiler.isProfiling else {
            throw CommandError("profiling is unavailable on \(backend.name): kernel profiles come from OpenCL events (--backend opencl)")
        }
        let batch = profiling.batchSize ?? 128
        let steps = profiling.steps ?? (quick ? 4 : 20)
        let suite = BenchmarkSuite(backend: backend, quick: quick, repetitions: repetitions)
        let mnist = DataSource.bundledMNIST().flatMap { try? MNIST.load(directory: $0).train }
        var results = [TrainingProfile]()
        for sizes in try profiling.networks() {
            let classes = sizes[sizes.count - 1]
            let data = mnist.flatMap { $0.featureCount == sizes[0] && $0.classCount == classes ? $0 : nil }
                ?? Synthetic.blobs(classes: max(classes, 2), features: sizes[0], perClass: max(64, batch / max(classes, 2) + 1), seed: 1)
            let result = try suite.profileTraining(sizes: sizes, batchSize: batch, data: data, steps: steps)
            results.append(result)
            if !json { printTable(result, backend: backend.name) }
        }
        if json {
            let object: [String: Any] = [
                "tool": "backprop", "backend": backend.name,
                "profiles": results.map { r in
                    [
                        "key": r.key, "steps": r.steps, "launches_per_step": r.launchesPerStep,
                        "device_ms_per_step": 1e3 * r.profile.seconds / Double(r.steps),
                        "wall_ms_per_step": 1e3 * r.wallSeconds / Double(r.steps),
                        "kernels": r.profile.entries.map { e in
                            ["kernel": e.kernel, "launches_per_step": Double(e.launches) / Double(r.steps),
                             "ms_per_step": 1e3 * e.seconds / Double(r.steps)] as [String: Any]
                        },
                    ] as [String: Any]
                },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    private func printTable(_ r: TrainingProfile, backend: String) {
        let n = Double(r.steps), total = r.profile.seconds
        print("profile \(r.key) on \(backend): \(r.steps) steps, \(fmt(r.launchesPerStep, 1)) launches per step")
        print(pad("kernel", 30) + pad("launches/step", 15) + pad("ms/step", 10) + "share")
        for e in r.profile.entries {
            print(pad(e.kernel, 30) + pad(fmt(Double(e.launches) / n, 1), 15) + pad(fmt(1e3 * e.seconds / n, 3), 10)
                  + fmt(total > 0 ? 100 * e.seconds / total : 0, 1) + " %")
        }
        print(pad("device total", 45) + fmt(1e3 * total / n, 3))
        print(pad("wall (host) per step", 45) + fmt(1e3 * r.wallSeconds / n, 3))
        print("")
        fflush(nil)
    }
}
