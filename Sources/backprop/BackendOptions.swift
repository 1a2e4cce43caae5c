import ArgumentParser
import Backprop
import Foundation

/// `--backend` and `--device`, for every command that computes. They override
/// `BACKPROP_BACKEND` and the backend's device variable (`BACKPROP_OPENCL_DEVICE`).
struct BackendOptions: ParsableArguments {
    @Option(help: ArgumentHelp("\(BackendRegistry.standard.names.joined(separator: ", ")), or auto: the fastest by a short calibration, cached (default: $BACKPROP_BACKEND, else \(BackendRegistry.standard.names[0]))."))
    var backend: String?

    @Option(help: "Device: index from `backprop devices` or a name fragment (default: $BACKPROP_OPENCL_DEVICE for OpenCL, else the first GPU, else the first device).")
    var device: String?

    /// The chosen backend; a bad value or a missing OpenCL platform is an error, never a fall-back.
    /// `profiling`: kernel times recorded where the backend can (`bench --profile`);
    /// `workload`: what `auto` calibrates on (default: the MNIST network at batch 128).
    func makeBackend(profiling: Bool = false, workload: CalibrationWorkload? = nil) throws -> any Backend {
        try BackendRegistry.standard.makeBackend(named: backend, variable: "--backend",
                                                 request(profiling: profiling, workload: workload))
    }

    /// `auto` resolved by calibrating on `workload`: the backend, and the name of the
    /// registration it is (what the other processes of a group then make).
    func makeAutomaticChoice(workload: CalibrationWorkload?) throws -> (backend: any Backend, registration: String) {
        try BackendRegistry.standard.makeAutomaticChoice(request(profiling: false, workload: workload))
    }

    private func request(profiling: Bool, workload: CalibrationWorkload?) -> BackendRequest {
        BackendRequest(device: device, deviceLabel: "--device", profiling: profiling, workload: workload)
    }

    /// Whether the choice is `auto` (`--backend auto`, or `BACKPROP_BACKEND=auto` without it).
    var isAutomatic: Bool {
        (backend ?? ProcessInfo.processInfo.environment["BACKPROP_BACKEND"])?
            .trimmingCharacters(in: .whitespaces).lowercased() == BackendRegistry.automatic
    }
}
