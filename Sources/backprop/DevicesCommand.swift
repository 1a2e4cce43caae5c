import ArgumentParser
import Backprop

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List every backend and its devices (the index is what --device takes).",
        discussion: "A backend that cannot list its devices (no OpenCL driver installed) says why and the others are still listed."
    )

    func run() throws {
        for backend in BackendRegistry.standard.registrations {
            print("\(backend.name): \(backend.summary)")
            let devices: [DeviceDescription]
            do { devices = try backend.devices() } catch {
                print("  unavailable: \(error)")
                continue
            }
            var group: String?
            for d in devices {
                if d.group != group, !d.group.isEmpty {
                    group = d.group
                    print("  Platform: \(d.group)")
                }
                print("  [\(d.index)] \(d.name)")
                for line in d.details { print("      \(line)") }
            }
            if devices.isEmpty { print("  no devices") }
        }
    }
}
