import BackpropCore
import COpenCL
import Foundation

/// The program as built for one device, its settings fitted to what the compiled kernels allow.
struct BuiltProgram {
    var program: CLProgram
    var cached: Bool
    /// The GEMM tilings kept, largest first, and their kernels (`gemm_t<i>`, i its index in
    /// the family compiled).
    var tilings: [GemmTiling]
    var gemmKernels: [CLKernel]
    /// `gemm2_t<i>` of the same tilings: two products in one launch.
    var gemm2Kernels: [CLKernel]
    var kernels: [Kernel: CLKernel]
    var reduceGroup: Int
    /// The fewest work-items per group any kernel without a required group size allows.
    var elementwiseLimit: Int
    /// What was changed to fit, one sentence each.
    var notes: [String]
}

/// A compiled kernel's limits (`clGetKernelWorkGroupInfo`).
struct KernelLimits: Equatable {
    /// `CL_KERNEL_WORK_GROUP_SIZE`.
    var maxWorkGroupSize: Int
    /// `CL_KERNEL_LOCAL_MEM_SIZE`: local memory the kernel uses, in bytes.
    var localMemoryBytes: Int
}

extension GemmTiling {
    /// The indices of `family` whose compiled kernel can run its tiling — `workItems` at most
    /// `CL_KERNEL_WORK_GROUP_SIZE`, local memory within the device's — and a note for each
    /// dropped one. Pure, for tests with made-up limits.
    static func fitting(_ family: [GemmTiling], limits: [KernelLimits], deviceLocalMemory: Int)
        -> (kept: [Int], notes: [String]) {
        var kept: [Int] = [], notes: [String] = []
        for (i, (tiling, limit)) in zip(family, limits).enumerated() {
            if tiling.workItems > limit.maxWorkGroupSize {
                notes.append("GEMM tiling \(tiling) needs \(tiling.workItems) work-items per group, "
                             + "but its compiled kernel allows \(limit.maxWorkGroupSize) (CL_KERNEL_WORK_GROUP_SIZE); not used")
            } else if limit.localMemoryBytes > deviceLocalMemory {
                notes.append("GEMM tiling \(tiling) uses \(limit.localMemoryBytes) bytes of local memory, "
                             + "more than the device's \(deviceLocalMemory); not used")
            } else {
                kept.append(i)
            }
        }
        return (kept, notes)
    }
}

extension OpenCLBackend {
    /// Builds the program for `family` and checks each kernel against its compiled limits:
    /// GEMM tilings whose kernel allows fewer work-items than the tiling needs are dropped (all
    /// of them: rebuilt with `GemmTiling.small`); single-group reductions whose kernel allows
    /// fewer than `reduceGroup` work-items are rebuilt with a smaller group. Every change is a
    /// note; a device that cannot run even the smallest settings is an error.
    static func buildChecked(context: CLContext, info: OpenCLDeviceInfo, device: CLDevice, family initial: [GemmTiling],
                             reduceGroup initialReduce: Int, options: (Int) -> String,
                             cache: ProgramCache) throws -> BuiltProgram {
        var family = initial, reduce = initialReduce, notes: [String] = []
        while true {
            let (program, cached) = try buildProgram(context: context, info: info, source: kernelSource(tilings: family),
                                                     options: options(reduce), cache: cache)
            var table: [Kernel: CLKernel] = [:]
            var elementwiseLimit = Int.max, reduceLimit = Int.max
            for kernel in Kernel.allCases {
                let k = try CLKernel(program: program, name: kernel.rawValue)
                table[kernel] = k
                let limit = try k.maxWorkGroupSize(on: device)
                // A required group size (the reductions' REDUCE_GROUP) must fit whole; the
                // others take any group size up to their limit.
                let required = try k.compiledGroupSize(on: device)
                if required > 1 {
                    if limit < required { reduceLimit = min(reduceLimit, limit) }
                } else {
                    elementwiseLimit = min(elementwiseLimit, limit)
                }
            }
            if reduceLimit < Int.max {
                let smaller = powerOfTwo(atMost: reduceLimit)
                guard smaller >= 1, smaller < reduce else {
                    throw BackendError.device("OpenCL device \(info.name): the reduction kernels allow \(reduceLimit) work-items per group")
                }
                notes.append("the reduction kernels allow \(reduceLimit) work-items per group "
                             + "(CL_KERNEL_WORK_GROUP_SIZE), not \(reduce); rebuilt with REDUCE_GROUP=\(smaller)")
                reduce = smaller
                continue
            }
            let gemm = try family.indices.map { try CLKernel(program: program, name: "gemm_t\($0)") }
            let gemm2 = try family.indices.map { try CLKernel(program: program, name: "gemm2_t\($0)") }
            // A tiling runs in both kernels (one product, and two in one launch): the tighter limits of the two.
            let limits = try zip(gemm, gemm2).map { one, two in
                KernelLimits(maxWorkGroupSize: min(try one.maxWorkGroupSize(on: device), try two.maxWorkGroupSize(on: device)),
                             localMemoryBytes: max(try one.localMemoryUsed(on: device), try two.localMemoryUsed(on: device)))
            }
            let (kept, dropped) = GemmTiling.fitting(family, limits: limits, deviceLocalMemory: Int(info.localMemoryBytes))
            notes += dropped
            if kept.isEmpty {
                guard family != [.small] else {
                    throw BackendError.device("OpenCL device \(info.name): no GEMM tiling fits its compiled kernel's limits, "
                                              + "not even \(GemmTiling.small) (\(limits.map { "\($0.maxWorkGroupSize) work-items" }))")
                }
                notes.append("no GEMM tiling fits; rebuilt with \(GemmTiling.small)")
                family = [.small]
                continue
            }
            return BuiltProgram(program: program, cached: cached, tilings: kept.map { family[$0] },
                                gemmKernels: kept.map { gemm[$0] }, gemm2Kernels: kept.map { gemm2[$0] }, kernels: table, reduceGroup: reduce,
                                elementwiseLimit: elementwiseLimit == Int.max ? 256 : elementwiseLimit, notes: notes)
        }
    }
}

extension CLKernel {
    /// `CL_KERNEL_COMPILE_WORK_GROUP_SIZE`: the product of the `reqd_work_group_size` the kernel
    /// declares, or 0 when it declares none.
    func compiledGroupSize(on device: CLDevice) throws -> Int {
        var sizes = [Int](repeating: 0, count: 3)
        try clCheck(clGetKernelWorkGroupInfo(handle, device.id, cl_kernel_work_group_info(CL_KERNEL_COMPILE_WORK_GROUP_SIZE),
                                             3 * MemoryLayout<Int>.size, &sizes, nil),
                    "clGetKernelWorkGroupInfo(\(name), CL_KERNEL_COMPILE_WORK_GROUP_SIZE)")
        return sizes.reduce(1, *)
    }

    /// `CL_KERNEL_LOCAL_MEM_SIZE`, in bytes.
    func localMemoryUsed(on device: CLDevice) throws -> Int {
        var bytes: cl_ulong = 0
        try clCheck(clGetKernelWorkGroupInfo(handle, device.id, cl_kernel_work_group_info(CL_KERNEL_LOCAL_MEM_SIZE),
                                             MemoryLayout<cl_ulong>.size, &bytes, nil),
                    "clGetKernelWorkGroupInfo(\(name), CL_KERNEL_LOCAL_MEM_SIZE)")
        return Int(bytes)
    }
}
