// The module a user imports: every part of Backprop, and the backends registered by name.
@_exported import BackpropCore
@_exported import BackpropCPU
@_exported import BackpropExplain
@_exported import BackpropOpenCL
import Foundation

/// The registry of the backends this package ships.
extension BackendRegistry {
    /// The backends this package ships, the default first. Adding a backend is a target folder
    /// and one line here.
    public static let standard = BackendRegistry([
        .cpu,
        .openCL,
    ])
}

/// Makes the backend the user asked for from `BackendRegistry.standard`: `name` (a
/// `--backend` value) wins over `BACKPROP_BACKEND`, `device` over the backend's own variable
/// (`BACKPROP_OPENCL_DEVICE`); see `BackendRegistry.makeBackend(named:variable:_:)`.
/// `profiling`: record kernel times where the backend can (`KernelProfiling`).
public func makeBackend(named name: String? = nil, device: String? = nil, deviceLabel: String = "--device",
                        environment: [String: String] = ProcessInfo.processInfo.environment,
                        profiling: Bool = false) throws -> any Backend {
    try BackendRegistry.standard.makeBackend(
        named: name, BackendRequest(device: device, deviceLabel: deviceLabel, environment: environment, profiling: profiling))
}
