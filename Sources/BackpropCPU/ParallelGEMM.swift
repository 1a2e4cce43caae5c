import BackpropCore
import Dispatch

/// How one product uses the machine's threads.
enum GEMMPlan: Hashable, Sendable, CustomStringConvertible {
    /// One call on the calling thread: small products, where waking a thread costs more than it saves.
    case single
    /// One call that runs the library's own threads (oneDNN's OpenMP team).
    case library(threads: Int)
    /// C cut into panels, one single-threaded call per panel, each on its own thread.
    case panels(Int)

    var description: String {
        switch self {
        case .single: "1 thread"
        case let .library(n): "\(n) library threads"
        case let .panels(n): "\(n) panels"
        }
    }
}

/// Runs a provider's SGEMM by a plan. Panels split C by columns (or by rows when it is tall), so
/// each panel is a plain sub-matrix and only the pointers move; boundaries fall on multiples of
/// 8 rows or columns so that each panel keeps whole vector registers.
struct ParallelGEMM: Sendable {
    let provider: any GEMMProvider
    /// The most threads any plan may use.
    let threads: Int
    /// Whether a library that threads itself runs its own threads (else panels, as for OpenBLAS).
    let libraryThreads: Bool

    init(provider: any GEMMProvider, threads: Int, libraryThreads: Bool = true) {
        self.provider = provider
        self.threads = max(1, threads)
        self.libraryThreads = libraryThreads && provider.threadsItself
    }

    /// The plans worth timing for `call` on this provider: one thread, or all of them. A library
    /// that threads itself is never also given panels: mixing its OpenMP team (which spins a
    /// while after each product) with our panel threads on the same cores made both slower (a
    /// 784-128-10 step fell to a tenth of its speed on 2 vCPUs), and its own threads beat
    /// panels at every MLP step shape measured. Nor are teams of sizes in between offered (2, 4,
    /// … of 8): libgomp ends the threads a smaller team leaves out and creates them again for the
    /// next larger one (1001 thread creations in 1000 regions alternating 2 and 4 threads, 3 at
    /// one size), so each shape's choice changed the others' times. With 4 threads on 2 vCPUs (as where a container's CPU quota is
    /// below its visible cores) the choices then flipped between 2 and 4 threads for good, and
    /// 784-512-512-10 trained at 11–19k samples/s against 28–34k with 1 or 4 (2026-12-03).
    func candidates(for call: GEMMCall) -> [GEMMPlan] {
        guard threads > 1 else { return [.single] }
        if libraryThreads { return [.single, .library(threads: threads)] }
        return max(call.m, call.n) >= 8 * threads ? [.single, .panels(threads)] : [.single]
    }

    func run(_ call: GEMMCall, plan: GEMMPlan) throws {
        switch plan {
        case .single: try provider.run(call, threads: 1)
        case let .library(n): try provider.run(call, threads: n)
        case let .panels(n): try runPanels(call, count: n)
        }
    }

    private func runPanels(_ call: GEMMCall, count: Int) throws {
        let splitColumns = call.n >= call.m
        let extent = splitColumns ? call.n : call.m
        let step = ((extent + count - 1) / count + 7) / 8 * 8
        let provider = self.provider
        // One slot per panel for an error, read after every panel is done.
        let failures = UnsafeMutableBufferPointer<BackendError?>.allocate(capacity: count)
        failures.initialize(repeating: nil)
        defer { failures.deinitialize(); failures.deallocate() }
        let slots = Slots(buffer: failures)
        DispatchQueue.concurrentPerform(iterations: count) { p in
            let start = p * step, size = min(step, extent - start)
            guard size > 0 else { return }
            var panel = call
            if splitColumns {
                // C[:, j₀..<j₁] = op(A) · op(B)[:, j₀..<j₁]: columns of B, or rows of B when transposed.
                panel.n = size
                panel.b = call.b + (call.transposeB ? start : start * call.ldb)
                panel.c = call.c + start * call.ldc
            } else {
                // C[i₀..<i₁, :] = op(A)[i₀..<i₁, :] · op(B): rows of A, or columns of A when transposed.
                panel.m = size
                panel.a = call.a + (call.transposeA ? start * call.lda : start)
                panel.c = call.c + start
            }
            do { try provider.run(panel, threads: 1) } catch {
                slots.buffer[p] = error as? BackendError ?? .device("\(error)")
            }
        }
        if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }
    }

    // Each panel writes only its own slot.
    private struct Slots: @unchecked Sendable { let buffer: UnsafeMutableBufferPointer<BackendError?> }
}
