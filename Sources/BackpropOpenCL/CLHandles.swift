import BackpropCore
import COpenCL
import Foundation

// One small final class per OpenCL object: it owns one reference and releases it in deinit.
//
// Sendability rule for the classes marked `@unchecked Sendable` below: their handle is set once
// in `init` and never changes, and the OpenCL specification makes every API call on contexts,
// queues, programs and memory objects thread-safe. The exception is a kernel object
// (`clSetKernelArg` followed by an enqueue), so `CLKernel` is not Sendable: it belongs to one
// backend, which like every backend is used from one thread at a time.

/// A device id. Root devices are owned by their platform and need no release.
struct CLDevice: @unchecked Sendable {
    let id: cl_device_id

    func string(_ parameter: cl_device_info, _ what: String) throws -> String {
        var size = 0
        try clCheck(clGetDeviceInfo(id, parameter, 0, nil, &size), "clGetDeviceInfo(\(what))")
        var bytes = [CChar](repeating: 0, count: max(size, 1))
        try clCheck(clGetDeviceInfo(id, parameter, size, &bytes, nil), "clGetDeviceInfo(\(what))")
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .trimmingCharacters(in: .whitespaces)
    }

    func value<T: FixedWidthInteger>(_ parameter: cl_device_info, _ what: String, as: T.Type) throws -> T {
        var x: T = 0
        try clCheck(clGetDeviceInfo(id, parameter, MemoryLayout<T>.size, &x, nil), "clGetDeviceInfo(\(what))")
        return x
    }
}

/// A platform id (owned by the ICD loader; nothing to release).
struct CLPlatform: @unchecked Sendable {
    let id: cl_platform_id

    func name() throws -> String {
        var size = 0
        try clCheck(clGetPlatformInfo(id, cl_platform_info(CL_PLATFORM_NAME), 0, nil, &size),
                    "clGetPlatformInfo(CL_PLATFORM_NAME)")
        var bytes = [CChar](repeating: 0, count: max(size, 1))
        try clCheck(clGetPlatformInfo(id, cl_platform_info(CL_PLATFORM_NAME), size, &bytes, nil),
                    "clGetPlatformInfo(CL_PLATFORM_NAME)")
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func devices() throws -> [CLDevice] {
        var count: cl_uint = 0
        let status = clGetDeviceIDs(id, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &count)
        if status == CL_DEVICE_NOT_FOUND || count == 0 { return [] }
        try clCheck(status, "clGetDeviceIDs")
        var ids = [cl_device_id?](repeating: nil, count: Int(count))
        try clCheck(clGetDeviceIDs(id, cl_device_type(CL_DEVICE_TYPE_ALL), count, &ids, nil), "clGetDeviceIDs")
        return ids.compactMap { $0.map(CLDevice.init) }
    }

    /// Every platform the ICD loader knows. No driver installed: `CL_PLATFORM_NOT_FOUND_KHR`
    /// from the loader, or zero platforms; both give an empty list.
    static func all() throws -> [CLPlatform] {
        _ = poclCacheReady
        var count: cl_uint = 0
        let status = clGetPlatformIDs(0, nil, &count)
        if status == CL_PLATFORM_NOT_FOUND_KHR || count == 0 { return [] }
        try clCheck(status, "clGetPlatformIDs")
        var ids = [cl_platform_id?](repeating: nil, count: Int(count))
        try clCheck(clGetPlatformIDs(count, &ids, nil), "clGetPlatformIDs")
        return ids.compactMap { $0.map(CLPlatform.init) }
    }
}

/// PoCL keeps compiled kernels under `$POCL_CACHE_DIR`, else `$XDG_CACHE_HOME/pocl`, else
/// `~/.cache/pocl`, and where it cannot create that folder it offers no device at all: a
/// read-only home (common in containers and on clusters) read as "no OpenCL platform". So,
/// before the first OpenCL call and unless the user chose, a folder it cannot create is
/// replaced by one in the temporary directory. Set once per process, before any thread asks.
private let poclCacheReady: Void = {
    let environment = ProcessInfo.processInfo.environment
    guard (environment["POCL_CACHE_DIR"] ?? "").isEmpty else { return }
    let base = (environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 })
        ?? (environment["HOME"].map { $0 + "/.cache" } ?? NSTemporaryDirectory())
    let manager = FileManager.default
    func usable(_ path: String) -> Bool {
        (try? manager.createDirectory(atPath: path, withIntermediateDirectories: true)) != nil && manager.isWritableFile(atPath: path)
    }
    if usable(base + "/pocl") { return }
    // PoCL loads the kernels it finds there: a folder of ours only (another user could make one
    // by this name first and plant kernels), else a fresh one.
    let fallback = NSTemporaryDirectory() + "pocl-cache-\(getuid())"
    _ = mkdir(fallback, 0o700)
    var info = stat()
    if lstat(fallback, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid(), info.st_mode & 0o077 == 0 {
        setenv("POCL_CACHE_DIR", fallback, 1)
    } else {
        var template = Array((NSTemporaryDirectory() + "pocl-cache-XXXXXX").utf8CString)
        if let made = mkdtemp(&template) { setenv("POCL_CACHE_DIR", String(cString: made), 1) }
    }
}()

final class CLContext: @unchecked Sendable {
    let handle: cl_context
    let device: CLDevice

    init(device: CLDevice) throws {
        var status: cl_int = CL_SUCCESS
        var ids: [cl_device_id?] = [device.id]
        guard let handle = clCreateContext(nil, 1, &ids, nil, nil, &status), status == CL_SUCCESS else {
            throw OpenCLError(code: status == CL_SUCCESS ? CL_INVALID_CONTEXT : status, operation: "clCreateContext")
        }
        self.handle = handle
        self.device = device
    }

    deinit { clReleaseContext(handle) }
}

/// An in-order command queue; with `profiling`, made with `CL_QUEUE_PROFILING_ENABLE` (only
/// then: drivers may slow a profiling queue down).
final class CLQueue: @unchecked Sendable {
    let handle: cl_command_queue
    let context: CLContext

    init(context: CLContext, profiling: Bool = false) throws {
        var status: cl_int = CL_SUCCESS
        var properties: [cl_queue_properties] = profiling
            ? [cl_queue_properties(CL_QUEUE_PROPERTIES), cl_queue_properties(CL_QUEUE_PROFILING_ENABLE), 0] : [0]
        guard let handle = clCreateCommandQueueWithProperties(context.handle, context.device.id, &properties, &status),
              status == CL_SUCCESS else {
            throw OpenCLError(code: status == CL_SUCCESS ? CL_INVALID_COMMAND_QUEUE : status,
                              operation: "clCreateCommandQueueWithProperties")
        }
        self.handle = handle
        self.context = context
    }

    func finish() throws { try clCheck(clFinish(handle), "clFinish") }

    deinit {
        clFinish(handle)
        clReleaseCommandQueue(handle)
    }
}

final class CLBuffer: @unchecked Sendable {
    let handle: cl_mem
    let bytes: Int
    /// The buffer a sub-buffer is a region of (kept alive with it); nil for a buffer of its own.
    let parent: CLBuffer?

    /// `bytes` bytes of `parent` from `origin` (a multiple of `CL_DEVICE_MEM_BASE_ADDR_ALIGN`),
    /// sharing its memory: `clCreateSubBuffer`.
    init(subBufferOf parent: CLBuffer, origin: Int, bytes: Int) throws {
        var status: cl_int = CL_SUCCESS
        var region = cl_buffer_region(origin: origin, size: bytes)
        guard let handle = clCreateSubBuffer(parent.handle, cl_mem_flags(CL_MEM_READ_WRITE),
                                             cl_buffer_create_type(CL_BUFFER_CREATE_TYPE_REGION), &region, &status),
              status == CL_SUCCESS else {
            throw OpenCLError(code: status == CL_SUCCESS ? CL_INVALID_VALUE : status,
                              operation: "clCreateSubBuffer(\(bytes) bytes at \(origin))")
        }
        self.handle = handle
        self.bytes = bytes
        self.parent = parent
    }

    init(context: CLContext, bytes: Int) throws {
        var status: cl_int = CL_SUCCESS
        // OpenCL has no empty buffers; an empty matrix gets one element it never uses.
        let size = max(bytes, 4)
        guard let handle = clCreateBuffer(context.handle, cl_mem_flags(CL_MEM_READ_WRITE), size, nil, &status),
              status == CL_SUCCESS else {
            throw OpenCLError(code: status == CL_SUCCESS ? CL_MEM_OBJECT_ALLOCATION_FAILURE : status,
                              operation: "clCreateBuffer(\(size) bytes)")
        }
        self.handle = handle
        self.bytes = size
        parent = nil
    }

    // The runtime keeps the memory alive until queued commands that use it have finished.
    deinit { clReleaseMemObject(handle) }
}

final class CLProgram: @unchecked Sendable {
    let handle: cl_program
    let context: CLContext

    /// Compiles `source`; a compile error throws with the build log.
    init(context: CLContext, source: String, options: String) throws {
        var status: cl_int = CL_SUCCESS
        let program: cl_program? = source.withCString { text in
            var strings: [UnsafePointer<CChar>?] = [text]
            return clCreateProgramWithSource(context.handle, 1, &strings, nil, &status)
        }
        guard let program, status == CL_SUCCESS else {
            throw OpenCLError(code: status == CL_SUCCESS ? CL_INVALID_PROGRAM : status,
                              operation: "clCreateProgramWithSource")
        }
        handle = program
        self.context = context
        try build(options: options)
    }

    /// Loads a binary from `binary(device:)`; throws if the driver rejects it.
    init(context: CLContext, binary: [UInt8], options: String) throws {
        var status: cl_int = CL_SUCCESS, binaryStatus: cl_int = CL_SUCCESS
        var ids: [cl_device_id?] = [context.device.id]
        var lengths = [binary.count]
        let program: cl_program? = binary.withUnsafeBufferPointer { bytes in
            var pointers: [UnsafePointer<UInt8>?] = [bytes.baseAddress]
            return clCreateProgramWithBinary(context.handle, 1, &ids, &lengths, &pointers, &binaryStatus, &status)
        }
        guard let program, status == CL_SUCCESS, binaryStatus == CL_SUCCESS else {
            if let program { clReleaseProgram(program) }
            throw OpenCLError(code: status != CL_SUCCESS ? status : binaryStatus != CL_SUCCESS ? binaryStatus : CL_INVALID_BINARY,
                              operation: "clCreateProgramWithBinary")
        }
        handle = program
        self.context = context
        try build(options: options)
    }

    private func build(options: String) throws {
        var ids: [cl_device_id?] = [context.device.id]
        let status = clBuildProgram(handle, 1, &ids, options, nil, nil)
        guard status == CL_SUCCESS else {
            throw OpenCLError(code: status, operation: "clBuildProgram", buildLog: (try? buildLog()) ?? "")
        }
    }

    func buildLog() throws -> String {
        var size = 0
        try clCheck(clGetProgramBuildInfo(handle, context.device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG),
                                          0, nil, &size), "clGetProgramBuildInfo")
        var bytes = [CChar](repeating: 0, count: max(size, 1))
        try clCheck(clGetProgramBuildInfo(handle, context.device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG),
                                          size, &bytes, nil), "clGetProgramBuildInfo")
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The built program's binary for its one device.
    func binary() throws -> [UInt8] {
        var size = 0
        try clCheck(clGetProgramInfo(handle, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil),
                    "clGetProgramInfo(CL_PROGRAM_BINARY_SIZES)")
        var bytes = [UInt8](repeating: 0, count: size)
        try bytes.withUnsafeMutableBufferPointer { buffer in
            var pointers: [UnsafeMutablePointer<UInt8>?] = [buffer.baseAddress]
            try clCheck(clGetProgramInfo(handle, cl_program_info(CL_PROGRAM_BINARIES),
                                         MemoryLayout<UnsafeMutablePointer<UInt8>?>.stride, &pointers, nil),
                        "clGetProgramInfo(CL_PROGRAM_BINARIES)")
        }
        return bytes
    }

    deinit { clReleaseProgram(handle) }
}

/// A kernel and its arguments. Not Sendable: setting arguments then enqueuing must not interleave.
final class CLKernel {
    let handle: cl_kernel
    let name: String

    init(program: CLProgram, name: String) throws {
        var status: cl_int = CL_SUCCESS
        guard let handle = clCreateKernel(program.handle, name, &status), status == CL_SUCCESS else {
            throw OpenCLError(code: status == CL_SUCCESS ? CL_INVALID_KERNEL : status, operation: "clCreateKernel(\(name))")
        }
        self.handle = handle
        self.name = name
    }

    func set(_ arguments: [KernelArgument]) throws {
        for (index, argument) in arguments.enumerated() {
            let status: cl_int
            switch argument {
            case let .int(x):
                var v = x
                status = clSetKernelArg(handle, cl_uint(index), MemoryLayout<Int32>.size, &v)
            case let .float(x):
                var v = x
                status = clSetKernelArg(handle, cl_uint(index), MemoryLayout<Float>.size, &v)
            case let .buffer(b):
                var mem: cl_mem? = b.handle
                status = clSetKernelArg(handle, cl_uint(index), MemoryLayout<cl_mem?>.size, &mem)
            }
            try clCheck(status, "clSetKernelArg(\(name), argument \(index))")
        }
    }

    /// `CL_KERNEL_WORK_GROUP_SIZE` on `device`: the most work-items per group the compiled
    /// kernel allows (registers and local memory can make it less than the device's limit).
    func maxWorkGroupSize(on device: CLDevice) throws -> Int {
        var size = 0
        try clCheck(clGetKernelWorkGroupInfo(handle, device.id, cl_kernel_work_group_info(CL_KERNEL_WORK_GROUP_SIZE),
                                             MemoryLayout<Int>.size, &size, nil),
                    "clGetKernelWorkGroupInfo(\(name), CL_KERNEL_WORK_GROUP_SIZE)")
        return size
    }

    deinit { clReleaseKernel(handle) }
}

enum KernelArgument {
    case int(Int32)
    case float(Float)
    case buffer(CLBuffer)
}
