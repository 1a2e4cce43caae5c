import Foundation
@testable import BackpropCore

/// A ``DataParallelGroup`` of threads in one process, for tests (as swift-nio's embedded
/// channel is for its contract): if training on it matches one process, the Trainer needs
/// nothing from MPI beyond the protocol. Each rank sums in rank order, so every rank gets the
/// same bits.
final class ThreadGroup: DataParallelGroup {
    let rank: Int
    let size: Int
    private let meeting: Meeting

    private init(rank: Int, meeting: Meeting) {
        self.rank = rank
        size = meeting.size
        self.meeting = meeting
    }

    /// Runs `body(group)` on `size` threads, one rank each; returns their results in rank order.
    static func run<T: Sendable>(size: Int, _ body: @escaping @Sendable (ThreadGroup) throws -> T) throws -> [T] {
        let meeting = Meeting(size: size)
        let results = Results<T>(size: size)
        let done = DispatchSemaphore(value: 0)
        for rank in 0..<size {
            Thread {
                let result = Result { try body(ThreadGroup(rank: rank, meeting: meeting)) }
                // A rank that failed will not come to the next meeting: release the others (as
                // MPI_Abort ends an MPI job) instead of leaving them waiting for ever.
                if case .failure = result { meeting.abandon() }
                results.set(rank, result)
                done.signal()
            }.start()
        }
        for _ in 0..<size { done.wait() }
        let all = results.all()
        // The failure that abandoned the others, not theirs.
        for case let .failure(error) in all where !(error is Abandoned) { throw error }
        return try all.map { try $0.get() }
    }

    func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws { try sum(values) }
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws { try sum(values) }

    func broadcast(_ bytes: UnsafeMutableRawBufferPointer) throws {
        let all = try meeting.exchange(rank, Array(bytes))
        bytes.copyBytes(from: all[0])
    }

    /// Sums everything, then poisons every element outside this rank's shard with NaN: a trainer
    /// that read a gradient it does not own would train to NaN.
    func reduceScatterSum(_ values: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws {
        precondition(shards.count == size && shards.first?.lowerBound == 0 && shards.last?.upperBound == values.count)
        try sum(values)
        for i in values.indices where !shards[rank].contains(i) { values[i] = .nan }
    }

    func allgather(_ values: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws {
        precondition(shards.count == size && shards.first?.lowerBound == 0 && shards.last?.upperBound == values.count)
        let all = try meeting.exchange(rank, Array(UnsafeRawBufferPointer(values)))
        for (owner, shard) in shards.enumerated() {
            all[owner].withUnsafeBytes { raw in
                let theirs = raw.bindMemory(to: Float.self)
                for i in shard { values[i] = theirs[i] }
            }
        }
    }

    private func sum<F: BinaryFloatingPoint>(_ values: UnsafeMutableBufferPointer<F>) throws {
        let all = try meeting.exchange(rank, Array(UnsafeRawBufferPointer(values)))
        for i in values.indices { values[i] = 0 }
        for bytes in all {
            bytes.withUnsafeBytes { raw in
                for (i, x) in raw.bindMemory(to: F.self).enumerated() { values[i] += x }
            }
        }
    }
}

/// Where the ranks' threads meet: each brings bytes and leaves with everyone's, once all came.
private final class Meeting: @unchecked Sendable {   // every field is read and written under `condition`
    let size: Int
    private let condition = NSCondition()
    private var brought: [[UInt8]]
    private var arrived = 0, round = 0
    private var lastRound: [[UInt8]] = []

    init(size: Int) {
        self.size = size
        brought = Array(repeating: [], count: size)
    }

    private var abandoned = false

    /// Ends every meeting, present and future, with ``Abandoned``.
    func abandon() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        condition.unlock()
    }

    func exchange(_ rank: Int, _ bytes: [UInt8]) throws -> [[UInt8]] {
        condition.lock()
        defer { condition.unlock() }
        guard !abandoned else { throw Abandoned() }
        let mine = round
        brought[rank] = bytes
        arrived += 1
        if arrived == size {
            // The next round cannot finish before every rank, this one's waiters included, has left.
            lastRound = brought
            arrived = 0
            round += 1
            condition.broadcast()
        } else {
            while round == mine && !abandoned { condition.wait() }
            guard round != mine else { throw Abandoned() }
        }
        return lastRound
    }
}

/// Another rank failed, so this collective can never complete.
struct Abandoned: Error, CustomStringConvertible {
    var description: String { "another rank of the thread group failed" }
}

private final class Results<T: Sendable>: @unchecked Sendable {   // guarded by `lock`
    private let lock = NSLock()
    private var values: [Result<T, any Error>?]
    init(size: Int) { values = Array(repeating: nil, count: size) }
    func set(_ i: Int, _ r: Result<T, any Error>) { lock.lock(); values[i] = r; lock.unlock() }
    func all() -> [Result<T, any Error>] { lock.lock(); defer { lock.unlock() }; return values.map { $0! } }
}
