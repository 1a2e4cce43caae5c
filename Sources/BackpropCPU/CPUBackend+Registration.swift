import BackpropCore
import Foundation

/// The CPU backend's entry in the registry.
extension BackendRegistration {
    /// `cpu`: this machine's cores. It has one device; `--device` accepts `0` or `cpu`.
    /// `BACKPROP_GEMM=onednn|openblas` forces a GEMM library, `BACKPROP_GEMM_THREADING=library|panels`
    /// how oneDNN uses the threads; a value naming no choice is refused.
    public static let cpu = BackendRegistration(
        name: "cpu",
        summary: "CPU: GEMM by oneDNN (kernels chosen by instruction set) or OpenBLAS, loops vectorized for this machine",
        devices: { [CPUBackend.device] },
        make: { request in
            if let spec = request.device?.trimmingCharacters(in: .whitespaces), !spec.isEmpty,
               spec != "0", spec.lowercased() != "cpu" {
                throw BackendError.invalidChoice(variable: request.deviceLabel, value: spec, valid: "0 (\(CPUBackend.device.name))")
            }
            try CPUThreads.validate(request.environment)
            let gemm = try GEMMChoice.fromEnvironment(request.environment)
            if let gemm, let reason = gemm.unusable {
                throw BackendError.device("\(GEMMChoice.variable)=\(gemm.rawValue): \(reason)")
            }
            return CPUBackend(threads: CPUThreads.count(request.environment), gemm: gemm,
                              threading: try GEMMThreading.fromEnvironment(request.environment))
        })
}

extension CPUBackend {
    /// The one device: this machine's processor, as `/proc/cpuinfo` names it, with the GEMM
    /// libraries and the instruction set each one's kernels use.
    static var device: DeviceDescription {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "this machine's processor"
        let forced = try? GEMMChoice.fromEnvironment()
        let inUse = (forced ?? nil) ?? .automatic
        let cores = CPUThreads.available, online = ProcessInfo.processInfo.processorCount
        // A setting the backend would refuse is shown, not passed over: `devices` is where one looks.
        let refused: [String] = [{ try CPUThreads.validate() }, { _ = try GEMMChoice.fromEnvironment() },
                                 { _ = try GEMMThreading.fromEnvironment() }].compactMap { check in
            do { try check(); return nil } catch { return "error: \(error) (train, bench and gradcheck stop on it)" }
        }
        var details = refused + ["\(cores < online ? "\(cores) of \(online) cores for this process (CPU affinity or quota)" : "\(cores) cores"); "
                       + "GEMM threads: \(CPUThreads.count()) (\(CPUThreads.variables.joined(separator: ", ")) up to \(CPUThreads.limit), else every core it may use)"]
        for choice in GEMMChoice.allCases {
            let info = choice.info
            let role = choice.unusable != nil ? (choice == inUse ? "forced by \(GEMMChoice.variable), but cannot run here" : "cannot run here")
                : choice == inUse ? (forced ?? nil == nil ? "in use (chosen by instruction set)" : "in use (\(GEMMChoice.variable))")
                : "BACKPROP_GEMM=\(choice.rawValue)"
            details.append("GEMM \(info.summary) — \(role)")
            if let reason = choice.unusable { details.append("  \(reason)") }
            if let warning = info.warning { details.append("  warning: \(warning)") }
        }
        return DeviceDescription(index: 0, name: model, details: details)
    }
}
