import Foundation

/// One backend as the registry knows it: the name users type, a line saying what it is, its
/// devices, and how to make one. Each backend target provides one (`BackendRegistration.cpu`,
/// `.openCL`); the `Backprop` module lists them in `BackendRegistry.standard`.
public struct BackendRegistration: Sendable {
    /// What `BACKPROP_BACKEND` and `--backend` take (matched case-insensitively): `cpu`, `opencl`.
    public let name: String
    /// One line for listings: "CPU: OpenBLAS products and vectorized loops".
    public let summary: String
    /// The devices this backend can run on, for `backprop devices` and `--device`.
    public let devices: @Sendable () throws -> [DeviceDescription]
    /// Makes a backend for a request; throws (never falls back) when it cannot.
    public let make: @Sendable (BackendRequest) throws -> any Backend

    /// A registration; `name` is stored lowercased.
    public init(name: String, summary: String,
                devices: @escaping @Sendable () throws -> [DeviceDescription],
                make: @escaping @Sendable (BackendRequest) throws -> any Backend) {
        self.name = name.lowercased()
        self.summary = summary
        self.devices = devices
        self.make = make
    }
}

/// What the user asked of a backend beyond its name.
public struct BackendRequest: Sendable {
    /// The device the user named (an index or a name fragment), or nil: the backend then reads
    /// its own environment variable (`BACKPROP_OPENCL_DEVICE`) or picks its default device.
    public var device: String?
    /// Where `device` came from, for error messages (`--device`).
    public var deviceLabel: String
    /// The environment the backend reads its variables from (the process's, or a test's own).
    public var environment: [String: String]
    /// Record the device time of every kernel (``KernelProfiling``) where the backend can;
    /// a backend without a profiler ignores it.
    public var profiling: Bool
    /// What `auto` calibrates on: the run's network and batch; nil: ``CalibrationWorkload/standard()``.
    public var workload: CalibrationWorkload?

    /// A request for the default device, reading the process's environment.
    public init(device: String? = nil, deviceLabel: String = "device",
                environment: [String: String] = ProcessInfo.processInfo.environment, profiling: Bool = false,
                workload: CalibrationWorkload? = nil) {
        self.device = device
        self.deviceLabel = deviceLabel
        self.environment = environment
        self.profiling = profiling
        self.workload = workload
    }
}

/// A device a backend can run on, as `backprop devices` prints it.
public struct DeviceDescription: Sendable, Equatable {
    /// What `--device` takes for this device.
    public var index: Int
    /// The device's name as its driver or the system reports it ("pthread-skylake-avx512").
    public var name: String
    /// The group the device belongs to (an OpenCL platform), or "" when the backend has none.
    public var group: String
    /// Lines of detail: type, compute units, memory, driver.
    public var details: [String]

    /// A device with no group and no detail lines unless given.
    public init(index: Int, name: String, group: String = "", details: [String] = []) {
        self.index = index
        self.name = name
        self.group = group
        self.details = details
    }
}

/// The backends a program can choose from by name. A value: tests copy the standard one and
/// register a backend of their own without touching anyone else's.
public struct BackendRegistry: Sendable {
    /// The registered backends, in registration order (the first is the default).
    public private(set) var registrations: [BackendRegistration]

    /// Every registered name, in registration order (the first is the default).
    public var names: [String] { registrations.map(\.name) }

    /// A registry of `registrations`, registered in order (a later one replaces an earlier
    /// one of the same name).
    public init(_ registrations: [BackendRegistration] = []) {
        self.registrations = []
        for r in registrations { register(r) }
    }

    /// Adds a backend, replacing any registered under the same name.
    public mutating func register(_ registration: BackendRegistration) {
        registrations.removeAll { $0.name == registration.name }
        registrations.append(registration)
    }

    /// The registration called `name` (case-insensitive, spaces trimmed); a bad name throws
    /// ``BackendError/invalidChoice(variable:value:valid:)`` listing the registered names and
    /// `auto`.
    public func registration(named name: String, variable: String = "BACKPROP_BACKEND") throws -> BackendRegistration {
        let key = name.trimmingCharacters(in: .whitespaces).lowercased()
        guard let found = registrations.first(where: { $0.name == key }) else {
            throw BackendError.invalidChoice(variable: variable, value: name,
                                             valid: (names + [Self.automatic]).joined(separator: ", "))
        }
        return found
    }

    /// `auto`: the backend and device a short calibration finds fastest (``AutoBackendSelector``).
    public static let automatic = "auto"

    /// Makes the backend the user asked for. An explicit `name` (a `--backend` option) wins over
    /// `BACKPROP_BACKEND`; with neither, the first registered backend. Never falls back
    /// silently: a bad name throws the valid choices, and a backend that cannot start throws why.
    /// `variable` names the source of `name` in errors. `auto` calibrates (or reads the cached
    /// choice): see ``makeAutomatic(_:log:)``.
    public func makeBackend(named name: String? = nil, variable: String = "--backend",
                            _ request: BackendRequest = BackendRequest()) throws -> any Backend {
        let requested = name ?? request.environment["BACKPROP_BACKEND"]
        if requested?.trimmingCharacters(in: .whitespaces).lowercased() == Self.automatic {
            return try makeAutomatic(request)
        }
        let chosen: BackendRegistration
        if let name {
            chosen = try registration(named: name, variable: variable)
        } else if let fromEnvironment = request.environment["BACKPROP_BACKEND"], !fromEnvironment.isEmpty {
            chosen = try registration(named: fromEnvironment)
        } else if let first = registrations.first {
            chosen = first
        } else {
            throw BackendError.device("no backend is registered")
        }
        return try chosen.make(request)
    }
}

extension BackendRegistry {
    /// Every device of every registered backend, in registration order: what `auto` compares.
    /// A backend whose devices cannot be listed (no OpenCL driver) is left out, reported
    /// through `log`.
    public func calibrationCandidates(log: (String) -> Void) -> [CalibrationCandidate] {
        var candidates: [CalibrationCandidate] = []
        for registration in registrations {
            do {
                for d in try registration.devices() {
                    candidates.append(CalibrationCandidate(
                        backend: registration.name, device: String(d.index), label: "\(registration.name) #\(d.index) (\(d.name))",
                        fingerprint: ([d.name, d.group] + d.details).filter { !$0.isEmpty }.joined(separator: "; ")))
                }
            } catch {
                log("backend auto: \(registration.name) left out: \(error)")
            }
        }
        return candidates
    }

    /// `auto`: the fastest candidate for `request.workload` (default
    /// ``CalibrationWorkload/standard()``), from the cache beside the compiled programs or by
    /// calibrating each (``AutoBackendSelector``); the choice and the figures go to stderr
    /// unless `log` says otherwise. A `--device` does not apply: the calibration picks it.
    public func makeAutomatic(_ request: BackendRequest,
                              log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        throws -> any Backend {
        try makeAutomaticChoice(request, log: log).backend
    }

    /// ``makeAutomatic(_:log:)``, and the name of the registration it chose (`cpu`, `opencl`):
    /// what the other processes of a group make when one process calibrates for all.
    public func makeAutomaticChoice(_ request: BackendRequest,
                                    log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        throws -> (backend: any Backend, registration: String) {
        if let device = request.device, !device.isEmpty {
            throw BackendError.device("\(request.deviceLabel)\(request.deviceLabel.hasPrefix("--") ? " " : "=")\(device) cannot be given with the backend auto, whose calibration chooses the device: name the backend (cpu or opencl) with it, or leave the device out")
        }
        let workload = try request.workload ?? CalibrationWorkload.standard()
        let candidates = calibrationCandidates(log: log)
        func make(_ candidate: CalibrationCandidate, profiling: Bool) throws -> any Backend {
            var specific = request
            specific.device = candidate.device
            specific.deviceLabel = "auto"
            specific.profiling = profiling
            return try registration(named: candidate.backend).make(specific)
        }
        if candidates.count == 1, let only = candidates.first {
            log("backend auto: \(only.label), the only device")
            return (try make(only, profiling: request.profiling), only.backend)
        }
        let selector = AutoBackendSelector(cacheDirectory: CacheDirectory.fromEnvironment(request.environment), log: log)
        let (choice, _, _) = try selector.select(candidates: candidates, workload: workload) { candidate in
            try AutoBackendSelector.measure(try make(candidate, profiling: false), workload: workload)
        }
        return (try make(choice, profiling: request.profiling), choice.backend)
    }
}
