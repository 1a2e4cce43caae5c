import BackpropCore
import Foundation

/// The CPU backend's entry in the registry.
extension BackendRegistration {
    /// `cpu`: this machine's cores. It has one device; `--device` accepts `0` or `cpu`.
    public static let cpu = BackendRegistration(
        name: "cpu",
        summary: "CPU: OpenBLAS products and loops vectorized for this machine",
        devices: { [CPUBackend.device] },
        make: { request in
            if let spec = request.device?.trimmingCharacters(in: .whitespaces), !spec.isEmpty,
               spec != "0", spec.lowercased() != "cpu" {
                throw BackendError.invalidChoice(variable: request.deviceLabel, value: spec, valid: "0 (\(CPUBackend.device.name))")
            }
            return CPUBackend()
        })
}

extension CPUBackend {
    /// The one device: this machine's processor, as `/proc/cpuinfo` names it.
    static var device: DeviceDescription {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "this machine's processor"
        return DeviceDescription(index: 0, name: model, details: [
            "\(ProcessInfo.processInfo.activeProcessorCount) cores; GEMM threads: \(ParallelGEMM.defaultThreads)",
        ])
    }
}
