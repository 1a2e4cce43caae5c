import ArgumentParser
import Backprop

/// `--backend` and `--device`, for every command that computes. They override
/// `BACKPROP_BACKEND` and `BACKPROP_OPENCL_DEVICE`.
struct BackendOptions: ParsableArguments {
    @Option(help: "cpu or opencl (default: $BACKPROP_BACKEND, else cpu).")
    var backend: String?

    @Option(help: "OpenCL device: index from `backprop devices` or a name fragment (default: $BACKPROP_OPENCL_DEVICE, else the first GPU, else the first device).")
    var device: String?

    /// The chosen backend; a bad value or a missing OpenCL platform is an error, never a fall-back.
    func makeBackend() throws -> any Backend {
        let kind = try backend.map { try BackendKind(parsing: $0, variable: "--backend") }
        return try Backprop.makeBackend(kind: kind, device: device, deviceLabel: "--device")
    }
}
