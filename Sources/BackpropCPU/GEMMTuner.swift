import Foundation

/// Picks how each product shape uses the threads by timing it: one thread, the library's own
/// threads, or panels. Which wins depends on the library, the CPU, the shape and how busy the
/// machine is, so no constant threshold is right everywhere:
/// - on 2 idle Zen 4 vCPUs oneDNN's two OpenMP threads ran 128×128×784 at 204 GFLOP/s against
///   110 on one, but a 10×128×128 product gained nothing from the second thread;
/// - on the same machine busy with other processes, a team thread that waits for its partner's
///   time slice made the two-thread plan 20–50× slower than one thread.
///
/// So a shape is timed the first time it appears and every 8192 calls after (a plan chosen on a
/// busy machine should not outlive the busy spell). Timing runs each plan in a tight loop;
/// the step runs it between other operations, where a busy machine shows. So the first 16
/// calls of every window of 256 are timed where the caller runs them, and when their median is
/// over 1.25× what one thread took in the timing loop, the shape drops to one thread until it
/// is timed again. Each timing lasts about 0.2 ms per plan and round: under 1 % of the calls.
///
/// The trials write a scratch C (β = 0), never the caller's, so the product the caller gets is
/// computed exactly once, by one plan. `BACKPROP_GEMM_VERBOSE=1` prints each decision.
final class GEMMTuner {
    struct Shape: Hashable { var transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int }

    /// A shape's plan; what one thread took in the timing loop; the calls of this window timed
    /// where the caller runs them; the calls since the plans were timed.
    private struct Choice {
        var plan: GEMMPlan
        var singleNanoseconds = Double.infinity
        var windowCalls: [Double] = []
        var calls = 0
    }

    let gemm: ParallelGEMM
    private var choices: [Shape: Choice] = [:]
    private let verbose = ProcessInfo.processInfo.environment["BACKPROP_GEMM_VERBOSE"].map { $0 != "0" && !$0.isEmpty } ?? false
    static let callsBeforeRetiming = 8192

    init(_ gemm: ParallelGEMM) { self.gemm = gemm }

    /// The plan each shape runs by now.
    var plans: [Shape: GEMMPlan] { choices.mapValues(\.plan) }

    /// Runs `call` by the plan its shape was given, timing the candidates when due.
    func run(_ call: GEMMCall) throws {
        let shape = Shape(transposeA: call.transposeA, transposeB: call.transposeB, m: call.m, n: call.n, k: call.k)
        var choice = try choices[shape] ?? choose(for: call)
        let start = DispatchTime.now().uptimeNanoseconds
        try gemm.run(call, plan: choice.plan)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
        choice.calls += 1
        if choice.plan != .single, choice.windowCalls.count < 16 {
            choice.windowCalls.append(elapsed)
            if choice.windowCalls.count == 16, choice.windowCalls.sorted()[8] > 1.25 * choice.singleNanoseconds {
                if verbose { log(call, "\(choice.plan) slow where it runs → 1 thread") }
                choice.plan = .single
            }
        }
        if choice.calls % 256 == 0 { choice.windowCalls = [] }
        if choice.calls >= Self.callsBeforeRetiming { choice = try choose(for: call) }
        choices[shape] = choice
    }

    private func choose(for call: GEMMCall) throws -> Choice {
        var candidates = gemm.candidates(for: call)
        // A product of a GFLOP or more is never fastest on one thread when there are more.
        if call.flops >= 1 << 30 { candidates = [candidates[candidates.count - 1]] }
        guard candidates.count > 1 else { return Choice(plan: candidates[0]) }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, call.m * call.n))
        defer { scratch.deallocate() }
        var trial = call
        trial.beta = 0
        trial.c = scratch
        trial.ldc = max(1, call.m)
        // Enough calls per timing to last about 0.2 ms at tens of GFLOP/s.
        let repeats = max(1, min(16, (1 << 21) / max(1, call.flops)))
        // Warm-up: oneDNN generates its kernels and OpenMP starts its team on first use.
        for plan in candidates { try gemm.run(trial, plan: plan) }
        // Interleaved rounds, so that another process's burst hits one round, not one plan; the
        // median of each, since a busy machine's typical call is what the run will see.
        var times = [[Double]](repeating: [], count: candidates.count)
        for _ in 0..<3 {
            for (i, plan) in candidates.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<repeats { try gemm.run(trial, plan: plan) }
                times[i].append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(repeats))
            }
        }
        let typical = times.map { $0.sorted()[$0.count / 2] }
        // More threads must win by 10 %: a product that gains less is cheaper on one thread once
        // the machine is shared.
        var chosen = 0
        for i in typical.indices.dropFirst() where typical[i] < 0.9 * typical[chosen] { chosen = i }
        if verbose {
            log(call, zip(candidates, typical).map { "\($0) \(String(format: "%.0f", Double(call.flops) / $1)) GF/s" }
                .joined(separator: ", ") + " → \(candidates[chosen])")
        }
        return Choice(plan: candidates[chosen], singleNanoseconds: candidates[0] == .single ? typical[0] : .infinity)
    }

    private func log(_ call: GEMMCall, _ text: String) {
        FileHandle.standardError.write(Data(("gemm \(call.transposeA ? "T" : "N")\(call.transposeB ? "T" : "N") "
            + "\(call.m)x\(call.n)x\(call.k): \(text)\n").utf8))
    }
}
