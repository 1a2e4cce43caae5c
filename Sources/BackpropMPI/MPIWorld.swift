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
        // Rank 0's piece for every process: cutting buffers differently would pair calls wrongly.
        var piece = Int64(ProcessInfo.processInfo.environment["BACKPROP_MPI_PIECE"].flatMap { Int($0) }
            .map { min(max($0, 1), 1 << 30) } ?? 1 << 30)
        try check(MPI_Bcast(&piece, 1, cmpi_int64(), 0, world), "MPI_Bcast")
        self.piece = Int(piece)
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

    /// A ring (as in Horovod and NCCL): in step s = 1 … p−1 each rank sends its partial sum of
    /// shard (r − s) to rank r + 1 and adds what rank r − 1 sends of shard (r − s − 1), so after
    /// p − 1 steps shard r is summed on rank r; each rank sends (p − 1)/p of the buffer. Written
    /// over `MPI_Sendrecv` because Open MPI 4.1's `MPI_Reduce_scatter` took about twice as long
    /// on 535,818 floats (Benchmarks/mpi_collectives.c, Benchmarks/RESULTS.md).
    public func reduceScatterSum(_ values: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws {
        try checkShards(shards, covering: values.count)
        guard size > 1, let base = values.baseAddress else { return }
        let largest = shards.map(\.count).max() ?? 0
        if scratch.count < largest { scratch = [Float](repeating: 0, count: largest) }
        let next = Int32((rank + 1) % size), previous = Int32((rank + size - 1) % size)
        for s in 1..<size {
            let send = shards[(rank - s + size) % size], receive = shards[(rank - s - 1 + 2 * size) % size]
            try scratch.withUnsafeMutableBufferPointer { incoming in
                // MPI counts are Int32: every rank makes as many calls as the largest shard needs
                // pieces (some moving nothing), so that each call has its partner.
                var done = 0
                for _ in 0..<max(1, (largest + piece - 1) / piece) {
                    let out = max(0, min(piece, send.count - done)), into = max(0, min(piece, receive.count - done))
                    try check(MPI_Sendrecv(base + send.lowerBound + done, Int32(out), cmpi_float(), next, 0,
                                           incoming.baseAddress! + done, Int32(into), cmpi_float(), previous, 0,
                                           world, cmpi_status_ignore()), "MPI_Sendrecv")
                    done += piece
                }
                let target = base + receive.lowerBound
                for i in 0..<receive.count { target[i] += incoming[i] }
            }
        }
    }

    /// `MPI_Allgatherv` in place; a buffer longer than a piece (its displacements are Int32) goes
    /// shard by shard as broadcasts from each owner.
    public func allgather(_ values: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws {
        try checkShards(shards, covering: values.count)
        guard size > 1, let base = values.baseAddress else { return }
        if values.count <= piece {
            let counts = shards.map { Int32($0.count) }, displacements = shards.map { Int32($0.lowerBound) }
            try check(MPI_Allgatherv(cmpi_in_place(), 0, cmpi_float(), base, counts, displacements, cmpi_float(), world),
                      "MPI_Allgatherv")
            return
        }
        for (owner, shard) in shards.enumerated() {
            try inChunks(shard.count) { start, n in
                try check(MPI_Bcast(base + shard.lowerBound + start, n, cmpi_float(), Int32(owner), world), "MPI_Bcast")
            }
        }
    }

    /// The largest piece of a buffer one MPI call moves: counts are Int32, so 2³⁰ elements;
    /// `BACKPROP_MPI_PIECE` makes it smaller, for the tests of the paths that cut buffers (which
    /// would otherwise need gigabytes).
    private let piece: Int
    /// The reduce-scatter's receive buffer, kept between steps.
    private var scratch: [Float] = []

    private func checkShards(_ shards: [Range<Int>], covering count: Int) throws {
        guard shards.count == size, shards.first?.lowerBound == 0, shards.last?.upperBound == count,
              zip(shards, shards.dropFirst()).allSatisfy({ $0.upperBound == $1.lowerBound }) else {
            throw MPIError(call: "reduce-scatter/allgather", detail: "\(shards.count) shards that do not cover \(count) floats in rank order")
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
        let chunk = piece
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
