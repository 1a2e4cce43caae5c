import ArgumentParser
import Backprop

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List every OpenCL platform and device (the index is what --device and BACKPROP_OPENCL_DEVICE take)."
    )

    func run() throws {
        let devices = try openCLDevices()
        var platform = -1
        for d in devices {
            if d.platformIndex != platform {
                platform = d.platformIndex
                print("Platform \(platform): \(d.platform)")
            }
            let memory = String(format: "%.1f GiB", Double(d.globalMemoryBytes) / 1_073_741_824)
            print("  [\(d.index)] \(d.name)")
            print("      type \(d.type), \(d.computeUnits) compute units, \(memory) global memory, "
                  + "\(d.localMemoryBytes / 1024) KiB local memory")
            print("      \(d.version); driver \(d.driverVersion)")
        }
        if devices.isEmpty { print("No OpenCL devices.") }
    }
}
