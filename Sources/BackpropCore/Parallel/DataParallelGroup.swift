/// The processes that train one model together by data parallelism (as Horovod or PyTorch DDP
/// do): each holds the whole network, computes the gradient of its share of every global
/// minibatch, and the shares' gradients are summed before every process makes the same update
/// (or each its part of it, and the parts are gathered).
///
/// The contract is the collectives training needs. Every process calls them in the same order
/// with buffers of the same size; a call returns when this process has its result.
/// ``SingleProcess`` is the group of one (every call a no-op); the `BackpropMPI` module
/// (package trait `MPI`) implements it over MPI. Groups, like backends, are used from one thread.
public protocol DataParallelGroup: AnyObject {
    /// This process's index in `0 ..< size`. Rank 0 prints and saves.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// `values ← Σ over processes of values`, element by element, on every process.
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// The same for `Double` (metrics: loss sums and counts).
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws
    /// Every process's `bytes` become rank 0's.
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer) throws
    /// Reduce-scatter: `values[shards[rank]] ← Σ over processes of values[shards[rank]]` on each
    /// process; the rest of `values` is left unspecified. `shards` are contiguous ranges in rank
    /// order covering `values`, one per process (some may be empty).
    func reduceScatterSum(_ values: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws
    /// Allgather: `values[shards[r]] ←` rank r's `values[shards[r]]` on every process, for every r
    /// (`shards` as in ``reduceScatterSum(_:shards:)``).
    func allgather(_ values: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws
}

/// The group of one process: training as if there were no group at all.
public final class SingleProcess: DataParallelGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
    public func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {}
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer) throws {}
    public func reduceScatterSum(_ values: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws {}
    public func allgather(_ values: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws {}
}

extension DataParallelGroup {
    /// By default an allreduce of everything: every shard then holds its sum (a group with a
    /// cheaper reduce-scatter, as `MPIWorld`'s ring, implements its own).
    public func reduceScatterSum(_ values: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws {
        try allreduceSum(values)
    }

    /// By default an allreduce in which each process contributes its own shard and zeros
    /// elsewhere (a -0.0 comes back as +0.0; `MPIWorld` implements its own).
    public func allgather(_ values: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws {
        for (owner, shard) in shards.enumerated() where owner != rank {
            UnsafeMutableBufferPointer(rebasing: values[shard]).update(repeating: 0)
        }
        try allreduceSum(values)
    }
}

extension DataParallelGroup {
    /// This process's columns of a global batch of `n`: contiguous, in rank order, sizes
    /// differing by at most one (128 on 3 ranks: 43, 43, 42). Empty when `n < size` leaves none.
    public func share(of n: Int) -> Range<Int> {
        let base = n / size, extra = n % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }

    /// Sums of `values` over every process.
    public func sum(_ values: [Double]) throws -> [Double] {
        var total = values
        if size > 1 { try total.withUnsafeMutableBufferPointer { try allreduceSum($0) } }
        return total
    }

    /// Checks that this process agrees with rank 0 on each named fingerprint (a hash of the
    /// data, the seed, the architecture, …); throws ``ParallelError/mismatch(rank:what:hint:)`` naming what
    /// differs, followed by `hint`.
    public func requireAgreement(_ fingerprints: KeyValuePairs<String, UInt64>, hint: String = "") throws {
        guard size > 1 else { return }
        let mine = fingerprints.map(\.value)
        var rankZero = mine
        try rankZero.withUnsafeMutableBytes { try broadcast($0) }
        let differing = fingerprints.indices.filter { mine[$0] != rankZero[$0] }
        guard differing.isEmpty else {
            throw ParallelError.mismatch(rank: rank, what: differing.map {
                "\(fingerprints[$0].key) (fingerprint \(hex(mine[$0])) here, \(hex(rankZero[$0])) on rank 0)"
            }, hint: hint)
        }
    }
}

public enum ParallelError: Error, CustomStringConvertible, Equatable {
    /// This process (`rank`) disagrees with rank 0 on `what`.
    case mismatch(rank: Int, what: [String], hint: String)

    public var description: String {
        switch self {
        case let .mismatch(_, what, hint):
            // The rank is the caller's to print (the command line prefixes every error with it).
            "differs from rank 0 in \(what.joined(separator: "; "))\(hint.isEmpty ? "" : "; " + hint)"
        }
    }
}

func hex(_ x: UInt64) -> String {
    let digits = String(x, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}
