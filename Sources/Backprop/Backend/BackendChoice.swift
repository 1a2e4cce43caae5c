import Foundation

/// Which backend to train on.
public enum BackendKind: String, CaseIterable, Sendable {
    case cpu
    case opencl

    /// Parses a user's value (case-insensitive); a bad one throws the valid choices.
    public init(parsing value: String, variable: String = "BACKPROP_BACKEND") throws {
        guard let kind = BackendKind(rawValue: value.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw BackendError.invalidChoice(variable: variable, value: value,
                                             valid: BackendKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = kind
    }
}

/// Makes the backend the user asked for. Explicit arguments (a `--backend` option) win over the
/// environment: `kind` nil reads `BACKPROP_BACKEND` (`cpu` or `opencl`, default `cpu`), `device`
/// nil reads `BACKPROP_OPENCL_DEVICE` (index or case-insensitive name fragment; default the first
/// GPU, else the first device). Never falls back silently: a bad value throws the valid choices,
/// and OpenCL without a platform throws how to install one.
/// `deviceLabel` names the device's source in errors (the CLI passes `--device`).
public func makeBackend(kind: BackendKind? = nil, device: String? = nil, deviceLabel: String = "device",
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any Backend {
    let chosen = try kind ?? environment["BACKPROP_BACKEND"].flatMap { $0.isEmpty ? nil : $0 }
        .map { try BackendKind(parsing: $0) } ?? .cpu
    switch chosen {
    case .cpu:
        return CPUBackend()
    case .opencl:
        let (info, clDevice) = if let device {
            try selectOpenCLDevice(device, variable: deviceLabel)
        } else {
            try selectOpenCLDevice(environment["BACKPROP_OPENCL_DEVICE"])
        }
        return try OpenCLBackend(info: info, device: clDevice, cache: .fromEnvironment(environment))
    }
}
