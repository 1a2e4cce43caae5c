import BackpropCore
import Foundation

/// Kernel times from OpenCL events: the backend's queue is made with
/// `CL_QUEUE_PROFILING_ENABLE` only when profiling was requested (`bench --profile`).
extension OpenCLBackend: KernelProfiling {
    /// Whether the queue records an event per launch.
    public var isProfiling: Bool { launcher.options.profiling }

    /// Each launch's `CL_PROFILING_COMMAND_END − START` since the previous call, summed per
    /// kernel; GEMM kernels carry their tile (`gemm_t0 64×48×64`). Empty when not profiling.
    public func takeProfile() throws -> KernelProfile {
        let tiles = Dictionary(zip(gemmKernels.map(\.name), tilings.map { "\($0.tm)×\($0.tn)×\($0.tk)" }),
                               uniquingKeysWith: { a, _ in a })
        return KernelProfile(launches: try launcher.takeEvents().map { kernel, ns in
            (tiles[kernel].map { "\(kernel) \($0)" } ?? kernel, Double(ns) / 1e9)
        })
    }
}
