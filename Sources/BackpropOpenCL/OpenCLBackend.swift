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
    /// The GEMM tilings compiled into `program`: the device type's family, largest first, then
    /// the tuned ones not in it; each product picks one by shape.
    let tilings: [GemmTiling]
    /// How many of `tilings` are the family that shapes without a tuned tiling choose from.
    let familyCount: Int
    /// The tuned tiling of each shape class, as an index into `tilings` (from the tuning file).
    let tunedTilings: [GemmShapeClass: Int]
    /// Where the tuned tilings came from (the file), or why there are none.
    public let tilingSource: String
    /// Set by the tuner: every product runs `tilings[forcedTiling]`.
    var forcedTiling: Int?
    let gemmKernels: [CLKernel]
    /// `gemm2_t<i>`: two products in one launch (a layer's backward pass).
    let gemm2Kernels: [CLKernel]
    /// Work-items per group of the elementwise kernels and of the single-group reductions.
    let groupSize: Int
    let reduceGroup: Int
    private let kernels: [Kernel: CLKernel]
    /// The one path of every launch: synchronous mode, the last launch for error messages,
    /// profiling events.
    let launcher: KernelLauncher
    /// What the build changed to fit the compiled kernels' limits (also printed to stderr).
    let buildNotes: [String]
    /// `CL_DEVICE_MAX_MEM_ALLOC_SIZE`: the largest single buffer.
    private let maxAllocation: UInt64
    /// `CL_DEVICE_MEM_BASE_ADDR_ALIGN` in floats: where a sub-buffer may start.
    let baseAlignment: Int
    /// Kernel launches (`clEnqueueNDRangeKernel` calls) since the backend was made: a training
    /// step's count is the difference across it.
    public var launches: Int { launcher.launches }

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
        try self.init(info: info, device: device, cache: .fromEnvironment(), launch: .fromEnvironment())
    }

    /// `tilings`: exactly these (the tuner's candidates), no tuning file; else the family of
    /// the device's type (or of `BACKPROP_OPENCL_TILING`) and, unless that variable says
    /// otherwise, the tuned tilings of `tuning` or of the cache's tuning file.
    /// `launch` defaults to `BACKPROP_OPENCL_SYNC` from the process's environment, no profiling.
    init(info: OpenCLDeviceInfo, device: CLDevice, cache: ProgramCache, tilings: [GemmTiling]? = nil,
         tuning: [GemmShapeClass: GemmTiling]? = nil, launch: LaunchOptions = .fromEnvironment()) throws {
        self.device = info
        context = try CLContext(device: device)
        queue = try CLQueue(context: context, profiling: launch.profiling)
        launcher = KernelLauncher(queue: queue, options: launch)
        let maxGroup = Int(try device.value(cl_device_info(CL_DEVICE_MAX_WORK_GROUP_SIZE),
                                            "CL_DEVICE_MAX_WORK_GROUP_SIZE", as: Int.self))
        let mode = try TilingMode.fromEnvironment()
        let family = tilings ?? GemmTiling.family(isGPU: mode.isGPU(device: info.isGPU), maxWorkGroupSize: maxGroup,
                                                  localMemoryBytes: Int(info.localMemoryBytes))
        let tuned: [GemmShapeClass: GemmTiling]
        if tilings != nil {
            (tuned, tilingSource) = ([:], "candidates")
        } else if let tuning {
            (tuned, tilingSource) = (tuning, "given")
        } else if !mode.readsTuningFile {
            (tuned, tilingSource) = ([:], "\(TilingMode.variable)=\(mode.rawValue)")
        } else {
            (tuned, tilingSource) = Self.tunedTilings(cache: cache, info: info, maxWorkGroupSize: maxGroup)
        }
        let extra = Set(tuned.values).subtracting(family).sorted { $0.description < $1.description }
        let fp = try device.value(cl_device_info(CL_DEVICE_SINGLE_FP_CONFIG), "CL_DEVICE_SINGLE_FP_CONFIG",
                                  as: cl_device_fp_config.self)
        // Division and square root rounded as on the CPU (Adam divides by √v).
        let roundedDivide = fp & cl_device_fp_config(CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0
        let built = try Self.buildChecked(
            context: context, info: info, device: device, family: family + extra,
            reduceGroup: Self.powerOfTwo(atMost: min(info.isGPU ? 256 : 64, maxGroup)),
            options: { "-cl-std=CL1.2 -DREDUCE_GROUP=\($0)" + (roundedDivide ? " -cl-fp32-correctly-rounded-divide-sqrt" : "") },
            cache: cache)
        program = built.program
        programWasCached = built.cached
        self.tilings = built.tilings
        // The compiled limits may have dropped some; untuned shapes choose among the family's
        // survivors (all of them if only tuned ones survived).
        let familyLeft = built.tilings.filter { !extra.contains($0) }.count
        familyCount = familyLeft > 0 ? familyLeft : built.tilings.count
        let all = built.tilings
        tunedTilings = tuned.compactMapValues { t in all.firstIndex(of: t) }
        gemmKernels = built.gemmKernels
        gemm2Kernels = built.gemm2Kernels
        kernels = built.kernels
        reduceGroup = built.reduceGroup
        groupSize = min(256, maxGroup, built.elementwiseLimit)
        buildNotes = built.notes
        for note in built.notes { FileHandle.standardError.write(Data("OpenCL (\(info.name)): \(note)\n".utf8)) }
        maxAllocation = try device.value(cl_device_info(CL_DEVICE_MAX_MEM_ALLOC_SIZE), "CL_DEVICE_MAX_MEM_ALLOC_SIZE",
                                         as: cl_ulong.self)
        // In bits; at least a float's, and at least 64 bytes.
        let alignBits = Int(try device.value(cl_device_info(CL_DEVICE_MEM_BASE_ADDR_ALIGN), "CL_DEVICE_MEM_BASE_ADDR_ALIGN",
                                             as: cl_uint.self))
        baseAlignment = max(16, alignBits / 32)
    }

    /// The tuning file's tilings that this device can run, and where they came from; a file
    /// that is there but unusable is reported on stderr and ignored.
    private static func tunedTilings(cache: ProgramCache, info: OpenCLDeviceInfo, maxWorkGroupSize: Int)
        -> ([GemmShapeClass: GemmTiling], String) {
        switch cache.loadTuning(device: info.name, driver: info.driverVersion) {
        case .missing:
            return ([:], "defaults (no tuning file; `backprop tune` makes one)")
        case let .ignored(reason):
            FileHandle.standardError.write(Data("warning: ignoring GEMM tuning: \(reason)\n".utf8))
            return ([:], "defaults (tuning file ignored)")
        case let .loaded(file):
            var tuned: [GemmShapeClass: GemmTiling] = [:]
            for entry in file.entries {
                guard let shapeClass = GemmShapeClass(key: entry.shapeClass),
                      entry.tiling.problem(maxWorkGroupSize: maxWorkGroupSize, localMemoryBytes: Int(info.localMemoryBytes)) == nil
                else { continue }
                tuned[shapeClass] = entry.tiling
            }
            let path = cache.tuningFile(device: info.name, driver: info.driverVersion)?.path ?? "tuning file"
            return (tuned, "tuned (\(path))")
        }
    }

    /// The tiling a product of this shape runs, and whether it is the tuned one.
    public func gemmTiling(for shape: GemmShape) -> (tiling: GemmTiling, tuned: Bool) {
        let index = tilingIndex(m: shape.m, n: shape.n, k: shape.k, transposeA: shape.transposeA, transposeB: shape.transposeB)
        return (tilings[index], forcedTiling == nil && tunedTilings[shape.shapeClass] == index)
    }

    /// The index into `tilings` for a product: the tuner's forced one, the tuned one of its
    /// class, else the family's choice by shape.
    func tilingIndex(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) -> Int {
        if let forcedTiling { return forcedTiling }
        if let tuned = tunedTilings[GemmShape(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB).shapeClass] {
            return tuned
        }
        return GemmTiling.choose(Array(tilings.prefix(familyCount)), m: m, n: n, computeUnits: device.computeUnits)
    }

    // MARK: Program

    /// Every `Kernels/*.cl` file as one program (one compile), in dependency order (`loss.cl`
    /// uses the work-group sum of `reduce.cl`), and `gemm.cl` once per tiling. Each file starts
    /// with `#line 1 "Kernels/NAME.cl"`, so the compiler's messages name the file and line.
    static func kernelSource(tilings: [GemmTiling], files: [String: String] = KernelSources.files) -> String {
        let order = ["elementwise.cl", "activations.cl", "reduce.cl", "loss.cl", "optimizers.cl", "data.cl"]
        let rest = files.keys.filter { !order.contains($0) && $0 != "gemm.cl" }.sorted()
        let parts = (order + rest).compactMap { name in
            files[name].map { "#line 1 \"Kernels/\(name)\"\n\($0)\n" }
        }
        let gemm = files["gemm.cl"] ?? ""
        return (parts + tilings.enumerated().map { i, t in
            "// Kernels/gemm.cl, \(t)\n\(t.defines(index: i))#line 1 \"Kernels/gemm.cl\"\n\(gemm)\n"
        }).joined()
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

    static func powerOfTwo(atMost n: Int) -> Int {
        var p = 1
        while p * 2 <= n { p *= 2 }
        return p
    }

    // MARK: Launching

    /// Sets the arguments and enqueues `kernel` over `global` work-items (no wait, unless
    /// `BACKPROP_OPENCL_SYNC`): through ``KernelLauncher``, as every launch.
    func run(_ kernel: Kernel, global: [Int], local: [Int], _ arguments: [KernelArgument]) throws {
        try launcher.launch(try built(kernel), global: global, local: local, arguments)
    }

    /// Exactly one work-item per element `0 ..< n`: the whole groups of `groupSize`, then the
    /// remainder as groups of one at an offset. The kernels can then skip the `i < n` test that
    /// keeps PoCL from vectorizing them; the remainder costs a few microseconds.
    func runElementwise(_ kernel: Kernel, count n: Int, _ arguments: [KernelArgument]) throws {
        let whole = n / groupSize * groupSize
        guard n > 0 else { return }
        let k = try built(kernel)
        if whole > 0 { try launcher.launch(k, global: [whole], local: [groupSize], arguments) }
        if whole < n { try launcher.launch(k, global: [n - whole], local: [1], offset: [whole], arguments) }
    }

    /// The GEMM kernel of `tilings[index]` over `global` work-items (no wait).
    func runGemm(tiling index: Int, global: [Int], local: [Int], _ arguments: [KernelArgument]) throws {
        try launcher.launch(gemmKernels[index], global: global, local: local, arguments)
    }

    /// The two-product GEMM kernel of `tilings[index]` (no wait).
    func runGemm2(tiling index: Int, global: [Int], local: [Int], _ arguments: [KernelArgument]) throws {
        try launcher.launch(gemm2Kernels[index], global: global, local: local, arguments)
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
        try launcher.check(clEnqueueWriteBuffer(queue.handle, matrix.buffer.handle, cl_bool(CL_TRUE), 0,
                                                matrix.count * 4, base, 0, nil, nil), "clEnqueueWriteBuffer")
    }

    /// A blocking `clEnqueueReadBuffer`: waits for every queued write to `matrix`.
    public func download(_ matrix: Operand<OpenCLStorage>, into values: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = values.baseAddress else { return }
        try launcher.check(clEnqueueReadBuffer(queue.handle, matrix.buffer.handle, cl_bool(CL_TRUE), 0,
                                               matrix.count * 4, base, 0, nil, nil), "clEnqueueReadBuffer")
    }

    /// A blocking write of the indices, also kept on the host so that
    /// ``gatherColumns(_:indices:offset:into:)`` can check them.
    public func upload(_ indices: UnsafeBufferPointer<Int32>, to buffer: OpenCLStorage) throws {
        guard let base = indices.baseAddress else { return }
        try launcher.check(clEnqueueWriteBuffer(queue.handle, buffer.buffer.handle, cl_bool(CL_TRUE), 0,
                                                indices.count * 4, base, 0, nil, nil), "clEnqueueWriteBuffer")
        // A host copy, so gatherColumns can check indices before the device reads them.
        buffer.indices.replaceSubrange(0..<indices.count, with: indices)
    }

    /// `clEnqueueFillBuffer` with `value` (queued, no wait).
    public func fill(_ matrix: Operand<OpenCLStorage>, with value: Float) throws {
        try fillBuffer(matrix.buffer, value: value, count: matrix.count)
    }

    /// `clFinish` on the queue; a failure names the last kernel launched.
    public func synchronize() throws { try launcher.check(clFinish(queue.handle), "clFinish") }

    private func fillBuffer(_ buffer: CLBuffer, value: Float, count: Int) throws {
        guard count > 0 else { return }
        var pattern = value
        try launcher.check(clEnqueueFillBuffer(queue.handle, buffer.handle, &pattern, 4, 0, count * 4, 0, nil, nil),
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
