#if MPI
import BackpropCore
import CMPI
import Foundation

/// Every process of an `mpirun`/`srun` job (`MPI_COMM_WORLD`) as a ``DataParallelGroup``.
/// The only code in the package that calls MPI.
///
/// MPI errors are returned, not fatal, so that each becomes a Swift error the caller can report
/// with its rank before ending the job with ``abort(_:)``.
public final class MPIWorld: DataParallelGroup {
    public let rank: Int
    public let size: Int
    /// This process's index among the job's processes on its machine, and their number: ranks on
    /// one machine share its cores and devices.
    public let localRank: Int
    public let localSize: Int
    private let world: MPI_Comm

    /// Whether a launcher (mpirun, srun, hydra) started this process. `MPI_Init` outside one
    /// works but costs about 0.5 s and leaves a helper daemon, so a plain run skips MPI.
    public static var isLaunched: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"].contains { environment[$0] != nil }
    }

    /// Initializes MPI (once per process; collectives are issued from one thread at a time).
    public init() throws {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        guard initialized == 0 else { throw MPIError(call: "MPI_Init_thread", detail: "MPI is already initialized in this process") }
        var provided: Int32 = 0
        try check(MPI_Init_thread(nil, nil, Int32(MPI_THREAD_SERIALIZED), &provided), "MPI_Init_thread")
        world = cmpi_comm_world()
        try check(MPI_Comm_set_errhandler(world, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        var rank: Int32 = 0, size: Int32 = 0
        try check(MPI_Comm_rank(world, &rank), "MPI_Comm_rank")
        try check(MPI_Comm_size(world, &size), "MPI_Comm_size")
        // The processes that share this machine's memory are the ones that share its cores.
        var node: MPI_Comm?
        try check(MPI_Comm_split_type(world, Int32(MPI_COMM_TYPE_SHARED), rank, cmpi_info_null(), &node),
                  "MPI_Comm_split_type")
        var localRank: Int32 = 0, localSize: Int32 = 1
        try check(MPI_Comm_rank(node, &localRank), "MPI_Comm_rank")
        try check(MPI_Comm_size(node, &localSize), "MPI_Comm_size")
        MPI_Comm_free(&node)
        (self.rank, self.size) = (Int(rank), Int(size))
        (self.localRank, self.localSize) = (Int(localRank), Int(localSize))
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        try inChunks(values.count) { start, count in
            try check(MPI_Allreduce(cmpi_in_place(), values.baseAddress! + start, count, cmpi_float(), cmpi_sum(), world),
                      "MPI_Allreduce")
        }
    }

    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {
        try inChunks(values.count) { start, count in
            try check(MPI_Allreduce(cmpi_in_place(), values.baseAddress! + start, count, cmpi_double(), cmpi_sum(), world),
                      "MPI_Allreduce")
        }
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer) throws {
        try inChunks(bytes.count) { start, count in
            try check(MPI_Bcast(bytes.baseAddress! + start, count, cmpi_byte(), 0, world), "MPI_Bcast")
        }
    }

    /// Waits until every process has called it.
    public func barrier() throws { try check(MPI_Barrier(world), "MPI_Barrier") }

    /// Ends MPI after a successful run: every process calls it once, last.
    public func finalize() { MPI_Finalize() }

    /// Prints `message` on this process's standard error and ends the whole job (every rank, not
    /// only this one: a rank that stops alone would leave the others waiting in a collective).
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        MPI_Abort(world, code)
        exit(code)
    }

    /// MPI counts are `Int32`: larger buffers go in pieces, the same on every process.
    private func inChunks(_ count: Int, _ body: (Int, Int32) throws -> Void) throws {
        let chunk = 1 << 30
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            try body(start, Int32(n))
            start += n
        }
    }
}

/// A failed MPI call, with MPI's own description of the error.
public struct MPIError: Error, CustomStringConvertible {
    public let call: String
    public let detail: String
    public var description: String { "\(call) failed: \(detail)" }
}

private func check(_ code: Int32, _ call: String) throws {
    guard code != MPI_SUCCESS else { return }
    var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
    var length: Int32 = 0
    MPI_Error_string(code, &text, &length)
    throw MPIError(call: call, detail: String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
}
#endif
