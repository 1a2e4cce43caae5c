import Foundation

/// Picks how each product shape uses the threads — one thread, the library's own threads, or
/// panels — from the times of that shape's own calls, where the training step runs them. Which
/// plan wins depends on the library, the CPU, the shape and how busy the machine is, so no
/// constant threshold is right everywhere:
/// - on 2 idle Zen 4 vCPUs oneDNN's two OpenMP threads ran 128×128×784 at 204 GFLOP/s against
///   110 on one, but a 10×128×128 product gained nothing from the second thread;
/// - on the same machine busy with other processes, a team thread that waits for its partner's
///   time slice made the two-thread plan 20–50× slower than one thread.
///
/// Why in place: timing the plans on a scratch C in a tight loop when a shape first appears
/// (this type's first design) misjudged them on a quiet 2-vCPU Zen 2 — a loop of back-to-back
/// products keeps caches and the OpenMP team warm as a step never does, and one spell of
/// noise at start decided the whole run. Of 4 runs of the same binary, 2 kept one thread for
/// the 512-wide products of 784-512-512-10 and trained at 22–25k samples/s, the others at
/// 31–37k; every shape on 2 threads gave 33–42k in the same minutes.
///
/// So every call is a real call, computed once by one plan, and timed:
/// - the candidates (``ParallelGEMM/candidates(for:)``, in order of threads) run the first calls
///   of a shape one after the other, each for `samples` + 1 calls in a row (the first untimed:
///   oneDNN generates kernels and OpenMP wakes its team then);
/// - then the plan with the lowest median of its last `samples` times runs, and the others are
///   tried again now and then;
/// - another plan is tried after `interval × w` calls, where w is how many times slower than the
///   running plan its last try was (1 … 64): a try costs about w calls, so trying costs at most
///   2 calls' time in `interval` however slow the plan is (on 16 cores one thread may be 16×
///   slower, and trying it every 16 calls would triple the time). `interval` is 16 at first
///   and doubles to 256 while the plan stays slower; a try that beat the running plan is
///   repeated after 16 calls, so that a plan chosen in a busy spell does not outlive it.
/// A probe is two calls in a row, the second timed: a lone call on OpenMP's team after many on
/// one thread finds the team asleep and ran 512×128×784 at 77 GFLOP/s where the team awake
/// gives 170, so one thread was kept at 80. Each call of the running plan is timed too, so a
/// plan that only a warm probe favours is found out where it runs and dropped at the next probe.
/// A plan must be 5 % faster than the one running to replace it, so that noise does not flip
/// the choice back and forth. `BACKPROP_GEMM_VERBOSE=1` prints each choice and change.
final class GEMMTuner {
    struct Shape: Hashable { var transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int }

    /// One shape's candidates, each one's recent times (nanoseconds, newest last), the plan that
    /// runs, and when the others are tried next.
    private struct Record {
        let candidates: [GEMMPlan]
        var times: [[Double]]
        var warmed: [Bool]
        var chosen = 0
        var decided = false
        /// Per plan: calls between its tries while it stays slower, and calls until its next try.
        var interval: [Int]
        var untilProbe: [Int]
        /// The plan being tried: its first call wakes it, the second is timed.
        var probing: Int?

        init(candidates: [GEMMPlan]) {
            self.candidates = candidates
            times = Array(repeating: [], count: candidates.count)
            warmed = Array(repeating: false, count: candidates.count)
            interval = Array(repeating: GEMMTuner.firstProbeInterval, count: candidates.count)
            untilProbe = interval
        }

        func median(_ i: Int) -> Double { times[i].sorted()[times[i].count / 2] }

        /// The plan with the lowest median time.
        var fastest: Int { times.indices.min { median($0) < median($1) } ?? chosen }

        /// Counts down to plan `i`'s next try: its interval times how much slower its last try was.
        mutating func schedule(_ i: Int) {
            let slowdown = (times[i].last ?? 0) / median(chosen)
            // Clamped before the conversion: a huge ratio would not fit an Int.
            let weight = slowdown.isFinite ? Int(min(max(slowdown, 1), Double(GEMMTuner.largestWeight)).rounded(.up)) : 1
            untilProbe[i] = interval[i] * weight
        }

        /// The next call's plan: each candidate in turn until all have their samples, then the
        /// running plan, or another whose try is due.
        mutating func nextPlan() -> Int {
            guard decided else { return times.indices.first { times[$0].count < GEMMTuner.samples } ?? chosen }
            if let probing { return probing }
            var due: Int?
            // Every plan but the running one counts down (no array made: this runs on every call).
            for i in candidates.indices where i != chosen {
                untilProbe[i] -= 1
                if due == nil, untilProbe[i] <= 0 { due = i }
            }
            guard let plan = due else { return chosen }
            probing = plan
            warmed[plan] = false
            return plan
        }

        /// Runs `plan` from now on, the others tried soon.
        mutating func choose(_ plan: Int) {
            chosen = plan
            for i in candidates.indices where i != chosen {
                interval[i] = GEMMTuner.firstProbeInterval
                schedule(i)
            }
        }
    }

    let gemm: ParallelGEMM
    private var records: [Shape: Record] = [:]
    private let verbose = ProcessInfo.processInfo.environment["BACKPROP_GEMM_VERBOSE"].map { $0 != "0" && !$0.isEmpty } ?? false

    /// Times kept per plan: the median of 5 ignores two outliers (a time slice lost to another process).
    static let samples = 5
    static let firstProbeInterval = 16
    static let longestProbeInterval = 256
    /// The most a try's slowness stretches the wait for the next (a plan 64× slower, as one
    /// thread of 64 on a large product, is still tried every 1,024 to 16,384 calls).
    static let largestWeight = 64
    /// How much faster another plan must be to replace the running one.
    static let margin = 0.95

    init(_ gemm: ParallelGEMM) { self.gemm = gemm }

    /// The plan each shape runs by now.
    var plans: [Shape: GEMMPlan] { records.mapValues { $0.candidates[$0.chosen] } }

    /// Runs `call` once, by the plan its shape runs by now or by the one being tried.
    func run(_ call: GEMMCall) throws {
        let shape = Shape(transposeA: call.transposeA, transposeB: call.transposeB, m: call.m, n: call.n, k: call.k)
        var record = records[shape] ?? Record(candidates: candidates(for: call))
        guard record.candidates.count > 1 else {
            records[shape] = record
            return try gemm.run(call, plan: record.candidates[0])
        }
        let plan = record.nextPlan()
        let start = DispatchTime.now().uptimeNanoseconds
        try gemm.run(call, plan: record.candidates[plan])
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
        let timed = record.warmed[plan]
        if timed {
            record.times[plan].append(elapsed)
            if record.times[plan].count > Self.samples { record.times[plan].removeFirst() }
        }
        record.warmed[plan] = true
        if record.decided {
            if timed, plan == record.probing {
                record.probing = nil
                reconsider(&record, call, tried: plan)
            }
        } else if record.times.allSatisfy({ $0.count == Self.samples }) {
            record.choose(record.fastest)
            record.decided = true
            if verbose { log(call, record, "→ \(record.candidates[record.chosen])") }
        }
        records[shape] = record
    }

    /// After a try of plan `tried`: run it from now on when its median is faster by the margin
    /// (only plans just timed are compared: the others' times may be from another spell); else
    /// try it again soon if it beat the running plan this time, later if it did not.
    private func reconsider(_ record: inout Record, _ call: GEMMCall, tried: Int) {
        if record.median(tried) < Self.margin * record.median(record.chosen) {
            if verbose { log(call, record, "\(record.candidates[record.chosen]) → \(record.candidates[tried])") }
            record.choose(tried)
            return
        }
        let promising = record.times[tried].last! < Self.margin * record.median(record.chosen)
        record.interval[tried] = promising ? Self.firstProbeInterval
            : min(2 * record.interval[tried], Self.longestProbeInterval)
        record.schedule(tried)
    }

    private func candidates(for call: GEMMCall) -> [GEMMPlan] {
        let candidates = gemm.candidates(for: call)
        // A product of a GFLOP or more gives each of 64 threads over 100 µs of work: it runs on all.
        return call.flops >= 1 << 30 ? [candidates[candidates.count - 1]] : candidates
    }

    private func log(_ call: GEMMCall, _ record: Record, _ text: String) {
        let rates = record.candidates.indices.map {
            "\(record.candidates[$0]) \(String(format: "%.0f", Double(call.flops) / record.median($0))) GF/s"
        }
        FileHandle.standardError.write(Data(("gemm \(call.transposeA ? "T" : "N")\(call.transposeB ? "T" : "N") "
            + "\(call.m)x\(call.n)x\(call.k): \(rates.joined(separator: ", ")) \(text)\n").utf8))
    }
}
