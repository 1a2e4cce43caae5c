/// Device time per kernel, summed over the launches a profiler recorded.
public struct KernelProfile: Sendable, Equatable {
    /// One kernel's launches and their summed device time.
    public struct Entry: Sendable, Equatable {
        /// The kernel's name (`gemm_t0 64×48×64`, `relu_forward`).
        public var kernel: String
        /// Launches recorded.
        public var launches: Int
        /// Summed device time (start to end of each launch), in seconds.
        public var seconds: Double

        /// An entry.
        public init(kernel: String, launches: Int, seconds: Double) {
            self.kernel = kernel
            self.launches = launches
            self.seconds = seconds
        }
    }

    /// One entry per kernel, the most time first.
    public var entries: [Entry]

    /// Sums `launches` (kernel name, device seconds) by kernel, the most time first (ties: by name).
    public init(launches: [(kernel: String, seconds: Double)]) {
        var byName: [String: Entry] = [:]
        for (kernel, seconds) in launches {
            byName[kernel, default: Entry(kernel: kernel, launches: 0, seconds: 0)].launches += 1
            byName[kernel, default: Entry(kernel: kernel, launches: 0, seconds: 0)].seconds += seconds
        }
        entries = byName.values.sorted { ($0.seconds, $1.kernel) > ($1.seconds, $0.kernel) }
    }

    /// Every launch recorded.
    public var launches: Int { entries.reduce(0) { $0 + $1.launches } }
    /// Device time of every launch, in seconds.
    public var seconds: Double { entries.reduce(0) { $0 + $1.seconds } }
}

/// A backend that can time its kernels on the device (the OpenCL backend, by OpenCL events on a
/// profiling queue). Kept apart from ``Backend``: a backend without a profiler (the CPU's) is
/// simply not one, and `bench --profile` says profiling is unavailable there.
public protocol KernelProfiling: AnyObject {
    /// Whether launches are being recorded: the backend was made with
    /// ``BackendRequest/profiling``.
    var isProfiling: Bool { get }
    /// Waits for the device, then returns the time of every launch since the previous call
    /// (or since the backend was made), and starts recording afresh.
    func takeProfile() throws -> KernelProfile
}
