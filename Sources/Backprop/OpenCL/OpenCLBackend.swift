import COpenCL
import Foundation
import Synchronization

/// The backend for any OpenCL device: the kernels of `Kernels/*.cl`, built once per backend
/// as one program, enqueued on one in-order queue with no wait between them. Only `download`,
/// `upload` and `synchronize` wait; a training step therefore copies nothing between host and
/// device but the indices and the scalars read for progress.
///
/// Sendable by this rule: every stored property is immutable, and the only non-thread-safe
/// OpenCL state — a kernel's arguments between `clSetKernelArg` and the enqueue — is touched
/// only inside `kernels.withLock`.
public final class OpenCLBackend: Backend, @unchecked Sendable {
    public let device: OpenCLDeviceInfo
    let context: CLContext
    let queue: CLQueue
    let program: CLProgram
    /// Whether `program` came from the on-disk cache rather than a compile.
    let programWasCached: Bool
    let tiling: GemmTiling
    /// Work-items per group of the elementwise kernels and of the single-group reductions.
    let groupSize: Int
    let reduceGroup: Int
    private let kernels: Mutex<[String: CLKernel]>

    public var name: String { "OpenCL: \(device.name)" }

    /// The device `spec` names (index or case-insensitive name fragment; nil: first GPU, else
    /// first device), with compiled programs cached under `BACKPROP_CACHE_DIR`.
    public convenience init(device spec: String? = nil) throws {
        let (info, device) = try selectOpenCLDevice(spec)
        try self.init(info: info, device: device, cache: .fromEnvironment())
    }

    init(info: OpenCLDeviceInfo, device: CLDevice, cache: ProgramCache, tiling: GemmTiling? = nil) throws {
        self.device = info
        context = try CLContext(device: device)
        queue = try CLQueue(context: context)
        let maxGroup = Int(try device.value(cl_device_info(CL_DEVICE_MAX_WORK_GROUP_SIZE),
                                            "CL_DEVICE_MAX_WORK_GROUP_SIZE", as: Int.self))
        self.tiling = tiling ?? GemmTiling.forDevice(isGPU: info.isGPU, maxWorkGroupSize: maxGroup,
                                                     localMemoryBytes: Int(info.localMemoryBytes))
        groupSize = min(256, maxGroup)
        reduceGroup = Self.powerOfTwo(atMost: min(info.isGPU ? 256 : 64, maxGroup))

        var options = "-cl-std=CL1.2 \(self.tiling.buildOptions) -DREDUCE_GROUP=\(reduceGroup)"
        let fp = try device.value(cl_device_info(CL_DEVICE_SINGLE_FP_CONFIG), "CL_DEVICE_SINGLE_FP_CONFIG",
                                  as: cl_device_fp_config.self)
        if fp & cl_device_fp_config(CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0 {
            // Division and square root rounded as on the CPU (Adam divides by √v).
            options += " -cl-fp32-correctly-rounded-divide-sqrt"
        }
        (program, programWasCached) = try Self.buildProgram(context: context, info: info, source: Self.kernelSource,
                                                            options: options, cache: cache)
        var table: [String: CLKernel] = [:]
        for name in Self.kernelNames { table[name] = try CLKernel(program: program, name: name) }
        kernels = Mutex(table)
    }

    // MARK: Program

    /// Every `Kernels/*.cl` file as one program (one compile), in dependency order:
    /// `loss.cl` uses the work-group sum of `reduce.cl`.
    static var kernelSource: String {
        let order = ["elementwise.cl", "activations.cl", "reduce.cl", "loss.cl", "optimizers.cl", "data.cl", "gemm.cl"]
        let rest = KernelSources.files.keys.filter { !order.contains($0) }.sorted()
        return (order + rest).compactMap { name in
            KernelSources.files[name].map { "// ---- Kernels/\(name)\n\($0)\n" }
        }.joined()
    }

    static let kernelNames = [
        "fill", "scale", "axpy", "hadamard", "add_bias",
        "identity_forward", "sigmoid_forward", "relu_forward", "tanh_forward", "softmax_forward",
        "identity_backward", "sigmoid_backward", "relu_backward", "tanh_backward",
        "sum_columns", "count_correct",
        "squared_error", "softmax_cross_entropy", "binary_cross_entropy",
        "sgd_step", "momentum_step", "adam_step",
        "gather_columns", "gemm",
    ]

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
    func run(_ kernel: String, global: [Int], local: [Int], _ arguments: [KernelArgument]) throws {
        try kernels.withLock { table in
            guard let k = table[kernel] else {
                throw BackendError.unsupported(operation: kernel, detail: "no such kernel in Kernels/*.cl")
            }
            try k.set(arguments)
            try k.enqueue(on: queue, global: global, local: local)
        }
    }

    /// Exactly one work-item per element `0 ..< n`: the whole groups of `groupSize`, then the
    /// remainder as groups of one at an offset. The kernels can then skip the `i < n` test that
    /// keeps PoCL from vectorizing them; the remainder costs a few microseconds.
    func runElementwise(_ kernel: String, count n: Int, _ arguments: [KernelArgument]) throws {
        let whole = n / groupSize * groupSize
        guard n > 0 else { return }
        try kernels.withLock { table in
            guard let k = table[kernel] else {
                throw BackendError.unsupported(operation: kernel, detail: "no such kernel in Kernels/*.cl")
            }
            try k.set(arguments)
            if whole > 0 { try k.enqueue(on: queue, global: [whole], local: [groupSize]) }
            if whole < n { try k.enqueue(on: queue, global: [n - whole], local: [1], offset: [whole]) }
        }
    }

    /// One work-group of `reduceGroup` work-items.
    func runSingleGroup(_ kernel: String, _ arguments: [KernelArgument]) throws {
        try run(kernel, global: [reduceGroup], local: [reduceGroup], arguments)
    }

    // MARK: Buffers

    public func makeMatrix(rows: Int, cols: Int) throws -> Matrix {
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        guard rows >= 0, cols >= 0, !overflow, count <= Int(Int32.max) else {
            throw BackendError.shapeMismatch(operation: "makeMatrix", detail: "\(rows)×\(cols)")
        }
        let storage = try OpenCLStorage(context: context, capacity: count)
        try fillBuffer(storage.buffer, value: 0, count: count)
        return Matrix(rows: rows, cols: cols, storage: storage)
    }

    public func upload(_ values: UnsafeBufferPointer<Float>, to matrix: Matrix) throws {
        let buffer = try self.buffer(matrix, "upload")
        try check(values.count >= matrix.count, "upload", "\(values.count) values for \(matrix.shape)")
        guard matrix.count > 0, let base = values.baseAddress else { return }
        try clCheck(clEnqueueWriteBuffer(queue.handle, buffer.handle, cl_bool(CL_TRUE), 0,
                                         matrix.count * 4, base, 0, nil, nil), "clEnqueueWriteBuffer")
    }

    public func download(_ matrix: Matrix, into values: UnsafeMutableBufferPointer<Float>) throws {
        let buffer = try self.buffer(matrix, "download")
        try check(values.count >= matrix.count, "download", "room for \(values.count) values, need \(matrix.count)")
        guard matrix.count > 0, let base = values.baseAddress else { return }
        try clCheck(clEnqueueReadBuffer(queue.handle, buffer.handle, cl_bool(CL_TRUE), 0,
                                        matrix.count * 4, base, 0, nil, nil), "clEnqueueReadBuffer")
    }

    public func makeIndexBuffer(count: Int) throws -> IndexBuffer {
        guard count >= 0, count <= Int(Int32.max) else {
            throw BackendError.shapeMismatch(operation: "makeIndexBuffer", detail: "\(count) indices")
        }
        let storage = try OpenCLStorage(context: context, capacity: count)
        storage.indices = [Int32](repeating: 0, count: count)
        try fillBuffer(storage.buffer, value: 0, count: count)
        return IndexBuffer(count: count, storage: storage)
    }

    public func upload(_ indices: UnsafeBufferPointer<Int32>, to buffer: IndexBuffer) throws {
        guard let s = buffer.storage as? OpenCLStorage, s.context === context else {
            throw BackendError.foreignStorage(operation: "upload")
        }
        try check(indices.count <= buffer.count, "upload", "\(indices.count) indices for a buffer of \(buffer.count)")
        guard let base = indices.baseAddress, !indices.isEmpty else { return }
        try clCheck(clEnqueueWriteBuffer(queue.handle, s.buffer.handle, cl_bool(CL_TRUE), 0,
                                         indices.count * 4, base, 0, nil, nil), "clEnqueueWriteBuffer")
        // A host copy, so gatherColumns can check indices before the device reads them.
        s.indices.replaceSubrange(0..<indices.count, with: indices)
    }

    public func fill(_ matrix: Matrix, with value: Float) throws {
        try fillBuffer(try buffer(matrix, "fill"), value: value, count: matrix.count)
    }

    public func synchronize() throws { try queue.finish() }

    private func fillBuffer(_ buffer: CLBuffer, value: Float, count: Int) throws {
        guard count > 0 else { return }
        var pattern = value
        try clCheck(clEnqueueFillBuffer(queue.handle, buffer.handle, &pattern, 4, 0, count * 4, 0, nil, nil),
                    "clEnqueueFillBuffer")
    }

    /// The matrix's buffer, if it belongs to this backend.
    func buffer(_ matrix: Matrix, _ operation: String) throws -> CLBuffer {
        guard let s = matrix.storage as? OpenCLStorage, s.context === context else {
            throw BackendError.foreignStorage(operation: operation)
        }
        return s.buffer
    }
}

/// A buffer in one OpenCL context. Index buffers also keep a host copy of their indices.
final class OpenCLStorage: DeviceStorage {
    let capacity: Int
    let buffer: CLBuffer
    let context: CLContext
    var indices: [Int32] = []

    init(context: CLContext, capacity: Int) throws {
        self.capacity = capacity
        self.context = context
        buffer = try CLBuffer(context: context, bytes: capacity * 4)
    }
}
