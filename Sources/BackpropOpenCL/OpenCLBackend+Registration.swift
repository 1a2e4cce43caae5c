import BackpropCore
import Foundation

/// The OpenCL backend's entry in the registry.
extension BackendRegistration {
    /// `opencl`: any OpenCL device; `--device` or `BACKPROP_OPENCL_DEVICE` picks one (index or
    /// name fragment; default the first GPU, else the first device). `BACKPROP_OPENCL_SYNC=1`
    /// waits after every kernel launch (see ``OpenCLError``).
    public static let openCL = BackendRegistration(
        name: "opencl",
        summary: "OpenCL: any GPU or CPU driver (PoCL on a plain CPU); the kernels of Kernels/*.cl",
        devices: {
            try openCLDevices().map { d in
                DeviceDescription(index: d.index, name: d.name, group: d.platform, details: [
                    "type \(d.type), \(d.computeUnits) compute units, "
                        + String(format: "%.1f GiB", Double(d.globalMemoryBytes) / 1_073_741_824) + " global memory, "
                        + "\(d.localMemoryBytes / 1024) KiB local memory",
                    "\(d.version); driver \(d.driverVersion)",
                ])
            }
        },
        make: { request in
            let (info, device) = if let spec = request.device {
                try selectOpenCLDevice(spec, variable: request.deviceLabel)
            } else {
                try selectOpenCLDevice(request.environment["BACKPROP_OPENCL_DEVICE"])
            }
            return try OpenCLBackend(info: info, device: device, cache: .fromEnvironment(request.environment),
                                     launch: .fromEnvironment(request.environment, profiling: request.profiling))
        })
}
