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
                results.set(rank, Result { try body(ThreadGroup(rank: rank, meeting: meeting)) })
                done.signal()
            }.start()
        }
        for _ in 0..<size { done.wait() }
        return try results.all().map { try $0.get() }
    }

    func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws { try sum(values) }
    func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws { try sum(values) }

    func broadcast(_ bytes: UnsafeMutableRawBufferPointer) throws {
        let all = meeting.exchange(rank, Array(bytes))
        bytes.copyBytes(from: all[0])
    }

    private func sum<F: BinaryFloatingPoint>(_ values: UnsafeMutableBufferPointer<F>) throws {
        let all = meeting.exchange(rank, Array(UnsafeRawBufferPointer(values)))
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

    func exchange(_ rank: Int, _ bytes: [UInt8]) -> [[UInt8]] {
        condition.lock()
        defer { condition.unlock() }
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
            while round == mine { condition.wait() }
        }
        return lastRound
    }
}

private final class Results<T: Sendable>: @unchecked Sendable {   // guarded by `lock`
    private let lock = NSLock()
    private var values: [Result<T, any Error>?]
    init(size: Int) { values = Array(repeating: nil, count: size) }
    func set(_ i: Int, _ r: Result<T, any Error>) { lock.lock(); values[i] = r; lock.unlock() }
    func all() -> [Result<T, any Error>] { lock.lock(); defer { lock.unlock() }; return values.map { $0! } }
}
