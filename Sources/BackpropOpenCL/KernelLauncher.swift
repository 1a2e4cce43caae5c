import BackpropCore
import COpenCL
import Foundation

/// How the backend launches its kernels, read from the environment:
/// `BACKPROP_OPENCL_SYNC=1` waits (`clFinish`) after every launch, so a fault is reported by
/// the launch that caused it, with the kernel's name and sizes; profiling (`bench --profile`)
/// records an event per launch on a queue made with `CL_QUEUE_PROFILING_ENABLE`.
struct LaunchOptions: Sendable, Equatable {
    /// Wait after every launch (`BACKPROP_OPENCL_SYNC`).
    var synchronous = false
    /// Record an OpenCL event per launch and time it (`bench --profile`).
    var profiling = false

    /// `BACKPROP_OPENCL_SYNC` set to anything but empty, `0`, `false`, `no` or `off`.
    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                profiling: Bool = false) -> LaunchOptions {
        let value = (environment["BACKPROP_OPENCL_SYNC"] ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        return LaunchOptions(synchronous: !["", "0", "false", "no", "off"].contains(value), profiling: profiling)
    }
}

/// One kernel launch as the error messages describe it: `gemm_t1 (global [64, 32], local [16, 8])`.
struct LaunchRecord: Equatable, CustomStringConvertible {
    var kernel: String
    var global: [Int]
    var local: [Int]
    var offset: [Int]?

    var description: String {
        "\(kernel) (global \(global), local \(local)" + (offset.map { ", offset \($0)" } ?? "") + ")"
    }
}

/// The one path every kernel launch of the backend takes: sets the arguments, enqueues, and —
/// in synchronous mode — waits and reports a failure by the kernel that caused it. It remembers
/// the last launch, so that an error surfacing later (at a read, a write or `clFinish`) names
/// the kernel most likely at fault; with profiling on, it keeps each launch's event.
///
/// Not Sendable: it belongs to one backend, used from one thread at a time.
final class KernelLauncher {
    let queue: CLQueue
    let options: LaunchOptions
    /// The most recent launch (nil before the first).
    private(set) var last: LaunchRecord?
    /// Launches so far (`clEnqueueNDRangeKernel` calls).
    private(set) var launches = 0
    /// Launches recorded for profiling since the last `takeEvents()`.
    private var events: [(kernel: String, event: cl_event)] = []

    init(queue: CLQueue, options: LaunchOptions) {
        self.queue = queue
        self.options = options
    }

    deinit { for e in events { clReleaseEvent(e.event) } }

    /// Sets `arguments` on `kernel` and enqueues it over `global` work-items in groups of
    /// `local`, from `offset`. In synchronous mode waits for it; a failure then throws an
    /// ``OpenCLError`` naming the kernel, its sizes and the error.
    func launch(_ kernel: CLKernel, global: [Int], local: [Int], offset: [Int]? = nil,
                _ arguments: [KernelArgument]) throws {
        try kernel.set(arguments)
        let record = LaunchRecord(kernel: kernel.name, global: global, local: local, offset: offset)
        last = record
        launches += 1
        var event: cl_event?
        let wantsEvent = options.profiling
        let status = global.withUnsafeBufferPointer { g in
            local.withUnsafeBufferPointer { l in
                (offset ?? []).withUnsafeBufferPointer { o in
                    wantsEvent
                        ? clEnqueueNDRangeKernel(queue.handle, kernel.handle, cl_uint(global.count),
                                                 offset == nil ? nil : o.baseAddress, g.baseAddress, l.baseAddress,
                                                 0, nil, &event)
                        : clEnqueueNDRangeKernel(queue.handle, kernel.handle, cl_uint(global.count),
                                                 offset == nil ? nil : o.baseAddress, g.baseAddress, l.baseAddress,
                                                 0, nil, nil)
                }
            }
        }
        try clCheck(status, "clEnqueueNDRangeKernel(\(record))")
        if let event { events.append((kernel.name, event)) }
        if options.synchronous {
            let finished = clFinish(queue.handle)
            if finished != CL_SUCCESS {
                throw OpenCLError(code: finished, operation: "kernel \(record), clFinish after the launch (BACKPROP_OPENCL_SYNC)")
            }
        }
    }

    /// Throws an ``OpenCLError`` for a failed non-launch call (`clFinish`, a read or a write),
    /// naming the last kernel launched: without synchronous mode a kernel's fault surfaces at
    /// the next call that waits.
    func check(_ status: cl_int, _ operation: @autoclosure () -> String) throws {
        guard status != CL_SUCCESS else { return }
        var error = OpenCLError(code: status, operation: operation())
        if let last { error.lastKernel = last.description }
        throw error
    }

    /// The recorded launches' device times (`CL_PROFILING_COMMAND_END − START`), in launch
    /// order, after waiting for the queue; clears the record.
    func takeEvents() throws -> [(kernel: String, nanoseconds: UInt64)] {
        try check(clFinish(queue.handle), "clFinish")
        defer {
            for e in events { clReleaseEvent(e.event) }
            events = []
        }
        return try events.map { kernel, event in
            var start: cl_ulong = 0, end: cl_ulong = 0
            try clCheck(clGetEventProfilingInfo(event, cl_profiling_info(CL_PROFILING_COMMAND_START),
                                                MemoryLayout<cl_ulong>.size, &start, nil),
                        "clGetEventProfilingInfo(\(kernel), CL_PROFILING_COMMAND_START)")
            try clCheck(clGetEventProfilingInfo(event, cl_profiling_info(CL_PROFILING_COMMAND_END),
                                                MemoryLayout<cl_ulong>.size, &end, nil),
                        "clGetEventProfilingInfo(\(kernel), CL_PROFILING_COMMAND_END)")
            return (kernel, end >= start ? end - start : 0)
        }
    }

    /// Forgets the recorded launches.
    func discardEvents() {
        for e in events { clReleaseEvent(e.event) }
        events = []
    }
}
