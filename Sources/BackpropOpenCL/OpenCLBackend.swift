import BackpropCore
import COpenCL
import Foundation

/// The backend for any OpenCL device: the kernels of `Kernels/*.cl`, built once per backend
/// as one program, enqueued on one in-order queue with no wait between them. Only `download`,
/// `upload` and `synchronize` wait; a training step therefore copies nothing between host and
/// device but the indices and the scalars read for progress.
///
/// Threading: as every `Backend`, used from one thread at a time — a kernel's arguments are
/// set with `clSetKernelArg` and then enqueued, which must not interleave. Not `Sendable`.
public final class OpenCLBackend: Backend {
    /// A buffer in this backend's context.
    public typealias Storage = OpenCLStorage
    /// The device the backend runs on.
    public let device: OpenCLDeviceInfo
    let context: CLContext
    let queue: CLQueue
    let program: CLProgram
    /// Whether `program` came from the on-disk cache rather than a compile.
    let programWasCached: Bool
    /// The GEMM tilings compiled into `program`, largest first; each product picks one by shape.
    let tilings: [GemmTiling]
    private let gemmKernels: [CLKernel]
    /// `gemm2_t<i>`: two products in one launch (a layer's backward pass).
    private let gemm2Kernels: [CLKernel]
    /// Work-items per group of the elementwise kernels and of the single-group reductions.
    let groupSize: Int
    let reduceGroup: Int
    private let kernels: [Kernel: CLKernel]
    /// `CL_DEVICE_MAX_MEM_ALLOC_SIZE`: the largest single buffer.
    private let maxAllocation: UInt64
    /// `CL_DEVICE_MEM_BASE_ADDR_ALIGN` in floats: where a sub-buffer may start.
    let baseAlignment: Int
    /// Kernel launches (`clEnqueueNDRangeKernel` calls) since the backend was made: a training
    /// step's count is the difference across it.
    public private(set) var launches = 0

    /// `OpenCL: ` and the device's name.
    public var name: String { "OpenCL: \(device.name)" }

    /// The device's global memory and its largest single allocation, as the driver reports them.
    public var memory: DeviceMemory { DeviceMemory(total: device.globalMemoryBytes, largestBuffer: maxAllocation) }

    /// Storage of another OpenCL backend (another context) is not ours.
    public func owns(_ storage: OpenCLStorage) -> Bool { storage.context === context }

    /// The device `spec` names (index or case-insensitive name fragment; nil: first GPU, else
    /// first device), with compiled programs cached under `BACKPROP_CACHE_DIR`.
    public convenience init(device spec: String? = nil) throws {
        let (info, device) = try selectOpenCLDevice(spec)
        try self.init(info: info, device: device, cache: .fromEnvironment())
    }

    init(info: OpenCLDeviceInfo, device: CLDevice, cache: ProgramCache, tilings: [GemmTiling]? = nil) throws {
        self.device = info
        context = try CLContext(device: device)
        queue = try CLQueue(context: context)
        let maxGroup = Int(try device.value(cl_device_info(CL_DEVICE_MAX_WORK_GROUP_SIZE),
                                            "CL_DEVICE_MAX_WORK_GROUP_SIZE", as: Int.self))
        self.tilings = tilings ?? GemmTiling.family(isGPU: info.isGPU, maxWorkGroupSize: maxGroup,
                                                    localMemoryBytes: Int(info.localMemoryBytes))
        groupSize = min(256, maxGroup)
        reduceGroup = Self.powerOfTwo(atMost: min(info.isGPU ? 256 : 64, maxGroup))

        var options = "-cl-std=CL1.2 -DREDUCE_GROUP=\(reduceGroup)"
        let fp = try device.value(cl_device_info(CL_DEVICE_SINGLE_FP_CONFIG), "CL_DEVICE_SINGLE_FP_CONFIG",
                                  as: cl_device_fp_config.self)
        if fp & cl_device_fp_config(CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0 {
            // Division and square root rounded as on the CPU (Adam divides by √v).
            options += " -cl-fp32-correctly-rounded-divide-sqrt"
        }
        (program, programWasCached) = try Self.buildProgram(context: context, info: info, source: Self.kernelSource(tilings: self.tilings),
                                                            options: options, cache: cache)
        var table: [Kernel: CLKernel] = [:]
        for kernel in Kernel.allCases { table[kernel] = try CLKernel(program: program, name: kernel.rawValue) }
        kernels = table
        let program = program
        gemmKernels = try self.tilings.indices.map { try CLKernel(program: program, name: "gemm_t\($0)") }
        gemm2Kernels = try self.tilings.indices.map { try CLKernel(program: program, name: "gemm2_t\($0)") }
        maxAllocation = try device.value(cl_device_info(CL_DEVICE_MAX_MEM_ALLOC_SIZE), "CL_DEVICE_MAX_MEM_ALLOC_SIZE",
                                         as: cl_ulong.self)
        // In bits; at least a float's, and at least 64 bytes.
        let alignBits = Int(try device.value(cl_device_info(CL_DEVICE_MEM_BASE_ADDR_ALIGN), "CL_DEVICE_MEM_BASE_ADDR_ALIGN",
                                             as: cl_uint.self))
        baseAlignment = max(16, alignBits / 32)
    }

    // MARK: Program

    /// Every `Kernels/*.cl` file as one program (one compile), in dependency order (`loss.cl`
    /// uses the work-group sum of `reduce.cl`), and `gemm.cl` once per tiling.
    static func kernelSource(tilings: [GemmTiling]) -> String {
        let order = ["elementwise.cl", "activations.cl", "reduce.cl", "loss.cl", "optimizers.cl", "data.cl"]
        let rest = KernelSources.files.keys.filter { !order.contains($0) && $0 != "gemm.cl" }.sorted()
        let files = (order + rest).compactMap { name in
            KernelSources.files[name].map { "// ---- Kernels/\(name)\n\($0)\n" }
        }
        let gemm = KernelSources.files["gemm.cl"] ?? ""
        return (files + tilings.enumerated().map { i, t in "// ---- Kernels/gemm.cl, \(t)\n\(t.defines(index: i))\(gemm)\n" })
            .joined()
    }


    /// Builds `source`, from the on-disk binary cache when it holds this exact (device, driver,
    /// options, source), else from source (then stores the binary). A compile error throws an
    /// ``OpenCLError`` carrying the build log.
    static func buildProgram(context: CLContext, info: OpenCLDeviceInfo, source: String, options: String,
                             cache: ProgramCache) throws -> (program: CLProgram, cached: Bool) {
        let file = cache.file(device: info.name, driver: info.driverVersion, options: options, source: source)
        if let file, let binary = cache.load(file),
           let program = try? CLProgram(context: context, binary: binary, options: options) {
            return (program, true)
        }
        let program = try CLProgram(context: context, source: source, options: options)
        if let file, let binary = try? program.binary() { cache.store(binary, to: file) }
        return (program, false)
    }

    private static func powerOfTwo(atMost n: Int) -> Int {
        var p = 1
        while p * 2 <= n { p *= 2 }
        return p
    }

    // MARK: Launching

    /// Sets the arguments and enqueues `kernel` over `global` work-items (no wait).
    func run(_ kernel: Kernel, global: [Int], local: [Int], _ arguments: [KernelArgument]) throws {
        let k = try built(kernel)
        try k.set(arguments)
        try k.enqueue(on: queue, global: global, local: local)
        launches += 1
    }

    /// Exactly one work-item per element `0 ..< n`: the whole groups of `groupSize`, then the
    /// remainder as groups of one at an offset. The kernels can then skip the `i < n` test that
    /// keeps PoCL from vectorizing them; the remainder costs a few microseconds.
    func runElementwise(_ kernel: Kernel, count n: Int, _ arguments: [KernelArgument]) throws {
        let whole = n / groupSize * groupSize
        guard n > 0 else { return }
        let k = try built(kernel)
        try k.set(arguments)
        if whole > 0 { try k.enqueue(on: queue, global: [whole], local: [groupSize]); launches += 1 }
        if whole < n { try k.enqueue(on: queue, global: [n - whole], local: [1], offset: [whole]); launches += 1 }
    }

    /// The GEMM kernel of `tilings[index]` over `global` work-items (no wait).
    func runGemm(tiling index: Int, global: [Int], local: [Int], _ arguments: [KernelArgument]) throws {
        try gemmKernels[index].set(arguments)
        try gemmKernels[index].enqueue(on: queue, global: global, local: local)
        launches += 1
    }

    /// The two-product GEMM kernel of `tilings[index]` (no wait).
    func runGemm2(tiling index: Int, global: [Int], local: [Int], _ arguments: [KernelArgument]) throws {
        try gemm2Kernels[index].set(arguments)
        try gemm2Kernels[index].enqueue(on: queue, global: global, local: local)
        launches += 1
    }

    /// The compiled `kernel` (init builds every case; a missing one is an error, not a trap).
    private func built(_ kernel: Kernel) throws -> CLKernel {
        guard let k = kernels[kernel] else {
            throw BackendError.unsupported(operation: kernel.rawValue, detail: "no such kernel in Kernels/*.cl")
        }
        return k
    }

    /// One work-group of `reduceGroup` work-items.
    func runSingleGroup(_ kernel: Kernel, _ arguments: [KernelArgument]) throws {
        try run(kernel, global: [reduceGroup], local: [reduceGroup], arguments)
    }

    // MARK: Buffers

    /// A buffer of `count` floats, zero-filled on the queue.
    public func makeStorage(count: Int) throws -> OpenCLStorage {
        let storage = try OpenCLStorage(context: context, capacity: count)
        try fillBuffer(storage.buffer, value: 0, count: count)
        return storage
    }

    /// A buffer of `count` `Int32`s, zero-filled, with a host copy of the indices.
    public func makeIndexStorage(count: Int) throws -> OpenCLStorage {
        let storage = try makeStorage(count: count)
        storage.indices = [Int32](repeating: 0, count: count)
        return storage
    }

    /// A blocking `clEnqueueWriteBuffer`: queued after earlier operations, returns once copied.
    public func upload(_ values: UnsafeBufferPointer<Float>, to matrix: Operand<OpenCLStorage>) throws {
        guard let base = values.baseAddress else { return }
        try clCheck(clEnqueueWriteBuffer(queue.handle, matrix.buffer.handle, cl_bool(CL_TRUE), 0,
                                         matrix.count * 4, base, 0, nil, nil), "clEnqueueWriteBuffer")
    }

    /// A blocking `clEnqueueReadBuffer`: waits for every queued write to `matrix`.
    public func download(_ matrix: Operand<OpenCLStorage>, into values: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = values.baseAddress else { return }
        try clCheck(clEnqueueReadBuffer(queue.handle, matrix.buffer.handle, cl_bool(CL_TRUE), 0,
                                        matrix.count * 4, base, 0, nil, nil), "clEnqueueReadBuffer")
    }

    /// A blocking write of the indices, also kept on the host so that
    /// ``gatherColumns(_:indices:offset:into:)`` can check them.
    public func upload(_ indices: UnsafeBufferPointer<Int32>, to buffer: OpenCLStorage) throws {
        guard let base = indices.baseAddress else { return }
        try clCheck(clEnqueueWriteBuffer(queue.handle, buffer.buffer.handle, cl_bool(CL_TRUE), 0,
                                         indices.count * 4, base, 0, nil, nil), "clEnqueueWriteBuffer")
        // A host copy, so gatherColumns can check indices before the device reads them.
        buffer.indices.replaceSubrange(0..<indices.count, with: indices)
    }

    /// `clEnqueueFillBuffer` with `value` (queued, no wait).
    public func fill(_ matrix: Operand<OpenCLStorage>, with value: Float) throws {
        try fillBuffer(matrix.buffer, value: value, count: matrix.count)
    }

    /// `clFinish` on the queue.
    public func synchronize() throws { try queue.finish() }

    private func fillBuffer(_ buffer: CLBuffer, value: Float, count: Int) throws {
        guard count > 0 else { return }
        var pattern = value
        try clCheck(clEnqueueFillBuffer(queue.handle, buffer.handle, &pattern, 4, 0, count * 4, 0, nil, nil),
                    "clEnqueueFillBuffer")
    }
}

/// A buffer in one OpenCL context. Index buffers also keep a host copy of their indices.
public final class OpenCLStorage: DeviceStorage {
    /// Floats (or `Int32` indices) the buffer holds.
    public let capacity: Int
    let buffer: CLBuffer
    let context: CLContext
    var indices: [Int32] = []

    init(context: CLContext, capacity: Int) throws {
        self.capacity = capacity
        self.context = context
        buffer = try CLBuffer(context: context, bytes: capacity * 4)
    }

    /// `count` floats of `parent` from `offset`, a sub-buffer.
    init(viewOf parent: OpenCLStorage, offset: Int, count: Int) throws {
        capacity = count
        context = parent.context
        buffer = try CLBuffer(subBufferOf: parent.buffer, origin: offset * 4, bytes: max(count, 1) * 4)
    }
}

extension Operand<OpenCLStorage> {
    var buffer: CLBuffer { storage.buffer }
}
