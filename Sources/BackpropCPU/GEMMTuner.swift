import Foundation

/// Picks how each product shape uses the threads by timing it, once per shape and backend: one
/// thread, the library's own threads, or panels. Which wins depends on the library, the CPU and
/// the shape (on 2 vCPUs small products often run slower on two threads than on one), so no
/// constant threshold is right everywhere; an MLP step repeats the same few shapes thousands of
/// times, so timing each once costs nothing worth counting.
///
/// The trials write a scratch C (β = 0), never the caller's, so the product the caller gets is
/// computed exactly once, by the chosen plan. `BACKPROP_GEMM_VERBOSE=1` prints each decision.
final class GEMMTuner {
    struct Shape: Hashable { var transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int }

    let gemm: ParallelGEMM
    private(set) var plans: [Shape: GEMMPlan] = [:]
    private let verbose = ProcessInfo.processInfo.environment["BACKPROP_GEMM_VERBOSE"].map { $0 != "0" && !$0.isEmpty } ?? false

    init(_ gemm: ParallelGEMM) { self.gemm = gemm }

    /// Runs `call` by the plan its shape was given, timing the candidates the first time.
    func run(_ call: GEMMCall) throws {
        let shape = Shape(transposeA: call.transposeA, transposeB: call.transposeB, m: call.m, n: call.n, k: call.k)
        let plan: GEMMPlan
        if let known = plans[shape] {
            plan = known
        } else {
            plan = try choose(for: call)
            plans[shape] = plan
        }
        try gemm.run(call, plan: plan)
    }

    private func choose(for call: GEMMCall) throws -> GEMMPlan {
        var candidates = gemm.candidates(for: call)
        // A product of a GFLOP or more is never fastest on one thread when there are more.
        if call.flops >= 1 << 30 { candidates = [candidates[candidates.count - 1]] }
        guard candidates.count > 1 else { return candidates[0] }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, call.m * call.n))
        defer { scratch.deallocate() }
        var trial = call
        trial.beta = 0
        trial.c = scratch
        trial.ldc = max(1, call.m)
        // Enough calls per timing to last about a millisecond at tens of GFLOP/s.
        let repeats = max(1, min(64, (1 << 23) / max(1, call.flops)))
        // Warm-up: oneDNN generates its kernels and OpenMP starts its team on first use.
        for plan in candidates { try gemm.run(trial, plan: plan) }
        // Interleaved rounds, best of each: another process's burst hits one round, not one plan.
        var best = [Double](repeating: .infinity, count: candidates.count)
        for _ in 0..<3 {
            for (i, plan) in candidates.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<repeats { try gemm.run(trial, plan: plan) }
                best[i] = min(best[i], Double(DispatchTime.now().uptimeNanoseconds - start) / Double(repeats))
            }
        }
        // More threads must win by 10 %: a product that gains less is cheaper on one thread once
        // the machine is shared (a descheduled team thread stalls the others).
        var chosen = 0
        for i in best.indices.dropFirst() where best[i] < 0.9 * best[chosen] { chosen = i }
        if verbose {
            let rates = zip(candidates, best).map { "\($0) \(String(format: "%.0f", Double(call.flops) / $1)) GF/s" }
            FileHandle.standardError.write(Data((
                "gemm \(call.transposeA ? "T" : "N")\(call.transposeB ? "T" : "N") \(call.m)x\(call.n)x\(call.k): "
                + rates.joined(separator: ", ") + " → \(candidates[chosen])\n").utf8))
        }
        return candidates[chosen]
    }
}
