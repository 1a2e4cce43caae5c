import Foundation

/// Per-kernel device time of training steps, from a backend's ``KernelProfiling``.
public struct TrainingProfile: Sendable {
    /// The workload, as in the benchmark keys: `train/784-512-256-10/b128`.
    public var key: String
    /// Training steps profiled.
    public var steps: Int
    /// The kernels of those steps, with times summed over them.
    public var profile: KernelProfile
    /// Host time of the profiled steps (launching, waiting, profiling overhead included), in seconds.
    public var wallSeconds: Double

    /// Kernel launches per step.
    public var launchesPerStep: Double { Double(profile.launches) / Double(max(steps, 1)) }
}

extension BenchmarkSuite {
    /// Profiles `steps` SGD steps of the ReLU MLP `sizes` (softmax cross-entropy) at
    /// `batchSize` on `data`, after one untimed epoch of the same steps (warm-up, and the
    /// buffers made). Throws `BackendError.unsupported` when the backend has no profiler or
    /// was not made for profiling.
    public func profileTraining(sizes: [Int], batchSize: Int, data: Dataset, steps: Int) throws -> TrainingProfile {
        guard let profiler = backend as? any KernelProfiling, profiler.isProfiling else {
            throw BackendError.unsupported(operation: "profiling",
                                           detail: "\(backend.name) has no kernel profiler (the OpenCL backend has one)")
        }
        guard sizes.count >= 2, batchSize >= 1, steps >= 1 else {
            throw BackendError.shapeMismatch(operation: "profileTraining", detail: "needs at least 2 layer sizes, a batch and a step")
        }
        let trainer = try benchmarkTrainer(sizes: sizes, batchSize: batchSize)
        let needed = steps * batchSize
        let rows = (0..<needed).map { $0 % Swift.max(data.count, 1) }
        let slice = try DeviceDataset(data.subset(rows), on: backend)
        _ = try trainer.trainEpoch(slice)
        _ = try profiler.takeProfile()
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try trainer.trainEpoch(slice)
        try backend.synchronize()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let key = "train/\(sizes.map(String.init).joined(separator: "-"))/b\(batchSize)"
        return TrainingProfile(key: key, steps: steps, profile: try profiler.takeProfile(), wallSeconds: wall)
    }
}
