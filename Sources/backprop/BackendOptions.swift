import ArgumentParser
import Backprop

/// `--backend` and `--device`, for every command that computes. They override
/// `BACKPROP_BACKEND` and the backend's device variable (`BACKPROP_OPENCL_DEVICE`).
struct BackendOptions: ParsableArguments {
    @Option(help: ArgumentHelp("\(BackendRegistry.standard.names.joined(separator: " or ")) (default: $BACKPROP_BACKEND, else \(BackendRegistry.standard.names[0]))."))
    var backend: String?

    @Option(help: "Device: index from `backprop devices` or a name fragment (default: $BACKPROP_OPENCL_DEVICE for OpenCL, else the first GPU, else the first device).")
    var device: String?

    /// The chosen backend; a bad value or a missing OpenCL platform is an error, never a fall-back.
    /// `profiling`: kernel times recorded where the backend can (`bench --profile`).
    func makeBackend(profiling: Bool = false) throws -> any Backend {
        try Backprop.makeBackend(named: backend, device: device, deviceLabel: "--device", profiling: profiling)
    }
}
