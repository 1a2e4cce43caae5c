import BackpropCore
import COpenCL
import Foundation

/// One OpenCL device as `backprop devices` lists it. `index` counts devices across all
/// platforms, in the order the ICD loader reports them; `BACKPROP_OPENCL_DEVICE` accepts it.
public struct OpenCLDeviceInfo: Sendable, Equatable, CustomStringConvertible {
    /// Position across all platforms' devices, from 0: what `--device` takes.
    public let index: Int
    /// Position of its platform in `clGetPlatformIDs`' list, from 0.
    public let platformIndex: Int
    /// The platform's name (`CL_PLATFORM_NAME`): "Portable Computing Language".
    public let platform: String
    /// `CL_DEVICE_NAME`: "pthread-skylake-avx512" for PoCL on an AVX-512 CPU.
    public let name: String
    /// "GPU", "CPU", "accelerator" or "other".
    public let type: String
    /// `CL_DEVICE_MAX_COMPUTE_UNITS`: cores for a CPU driver, multiprocessors for a GPU.
    public let computeUnits: Int
    /// `CL_DEVICE_GLOBAL_MEM_SIZE`, in bytes.
    public let globalMemoryBytes: UInt64
    /// `CL_DEVICE_LOCAL_MEM_SIZE`, in bytes: the memory a work-group shares (GEMM tiles).
    public let localMemoryBytes: UInt64
    /// As the device reports it, e.g. "OpenCL 3.0 PoCL HSTR: ...".
    public let version: String
    /// `CL_DRIVER_VERSION`; part of the key of the compiled-program cache.
    public let driverVersion: String
    var isGPU: Bool { type == "GPU" }

    /// `#index name (type, platform)`.
    public var description: String { "#\(index) \(name) (\(type), \(platform))" }
}

/// Every device of every OpenCL platform. Throws `BackendError.device` saying how to
/// install a driver when there is no platform at all.
public func openCLDevices() throws -> [OpenCLDeviceInfo] {
    try enumerateOpenCLDevices().map(\.info)
}

let noPlatformMessage = """
    no OpenCL platform found: the ICD loader finds no driver. Install one, for example PoCL for the CPU: \
    apt-get install pocl-opencl-icd (or your GPU vendor's OpenCL driver)
    """

func enumerateOpenCLDevices() throws -> [(info: OpenCLDeviceInfo, device: CLDevice)] {
    let platforms = try CLPlatform.all()
    guard !platforms.isEmpty else { throw BackendError.device(noPlatformMessage) }
    var result: [(info: OpenCLDeviceInfo, device: CLDevice)] = []
    for (p, platform) in platforms.enumerated() {
        let platformName = try platform.name()
        for device in try platform.devices() {
            let type = try device.value(cl_device_info(CL_DEVICE_TYPE), "CL_DEVICE_TYPE", as: cl_device_type.self)
            let typeName = type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 ? "GPU"
                : type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 ? "CPU"
                : type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "accelerator" : "other"
            let info = OpenCLDeviceInfo(
                index: result.count, platformIndex: p, platform: platformName,
                name: try device.string(cl_device_info(CL_DEVICE_NAME), "CL_DEVICE_NAME"),
                type: typeName,
                computeUnits: Int(try device.value(cl_device_info(CL_DEVICE_MAX_COMPUTE_UNITS),
                                                   "CL_DEVICE_MAX_COMPUTE_UNITS", as: cl_uint.self)),
                globalMemoryBytes: try device.value(cl_device_info(CL_DEVICE_GLOBAL_MEM_SIZE),
                                                    "CL_DEVICE_GLOBAL_MEM_SIZE", as: cl_ulong.self),
                localMemoryBytes: try device.value(cl_device_info(CL_DEVICE_LOCAL_MEM_SIZE),
                                                   "CL_DEVICE_LOCAL_MEM_SIZE", as: cl_ulong.self),
                version: try device.string(cl_device_info(CL_DEVICE_VERSION), "CL_DEVICE_VERSION"),
                driverVersion: try device.string(cl_device_info(CL_DRIVER_VERSION), "CL_DRIVER_VERSION"))
            result.append((info, device))
        }
    }
    return result
}

/// Picks a device by `spec`: an index into ``openCLDevices()``, or a case-insensitive fragment
/// of a device name (first match). No spec: the first GPU, else the first device. `variable`
/// names where the spec came from, for the error message.
func selectOpenCLDevice(_ spec: String?, variable: String = "BACKPROP_OPENCL_DEVICE") throws
    -> (info: OpenCLDeviceInfo, device: CLDevice) {
    let all = try enumerateOpenCLDevices()
    guard let first = all.first else {
        throw BackendError.device("the OpenCL platforms found have no devices; " + noPlatformMessage)
    }
    let listing = all.map { "\($0.info.index) (\($0.info.name))" }.joined(separator: ", ")
    guard let spec = spec?.trimmingCharacters(in: .whitespaces), !spec.isEmpty else {
        return all.first { $0.info.isGPU } ?? first
    }
    if let index = Int(spec) {
        guard all.indices.contains(index) else {
            throw BackendError.invalidChoice(variable: variable, value: spec, valid: listing)
        }
        return all[index]
    }
    if let match = all.first(where: { $0.info.name.range(of: spec, options: .caseInsensitive) != nil }) {
        return match
    }
    throw BackendError.invalidChoice(variable: variable, value: spec,
                                     valid: listing + ", or a fragment of one of those names")
}
