import BackpropCore
import CBLAS
import Dispatch
import Foundation

/// Column-major SGEMM `C ← α·op(A)·op(B) + β·C` split into one panel of C per thread, each panel
/// a single-threaded OpenBLAS call.
///
/// Why not OpenBLAS's own threads: on the products of an MLP step (128×128×784 and its
/// transposes) Debian's OpenBLAS 0.3.21 reaches 65–90 GFLOP/s on two threads, little more than
/// on one, while two independent single-threaded calls on halves of C reach nearly twice one
/// thread's speed. Large squares run as fast either way. Splitting C by columns (or by rows
/// when it is tall) keeps each panel a plain sub-matrix: only the pointers move.
struct ParallelGEMM: Sendable {
    let threads: Int
    /// Below this many flops per panel one call on one thread is faster: waking a sleeping
    /// worker costs tens of µs (measured: 128³ fell from 70 to 49 GFLOP/s when split in two).
    static let minimumFlopsPerThread = 1 << 22

    init(threads: Int) {
        self.threads = max(1, threads)
        // Our panels are the parallelism; OpenBLAS's own threads would oversubscribe the cores.
        openblas_set_num_threads(1)
    }

    /// The panel count for a product of `flops` floating-point operations over `extent` rows or columns.
    func panels(flops: Int, extent: Int) -> Int {
        min(threads, max(1, flops / Self.minimumFlopsPerThread), max(1, extent / 8))
    }

    // The pointers cross into the worker threads; each panel writes a disjoint part of C and
    // only reads A and B, and `concurrentPerform` returns after every panel is done.
    private struct Operands: @unchecked Sendable {
        let a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
    }

    func run(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let ta = transposeA ? CblasTrans : CblasNoTrans, tb = transposeB ? CblasTrans : CblasNoTrans
        let splitColumns = n >= m
        let extent = splitColumns ? n : m
        let count = panels(flops: 2 * m * n * k, extent: extent)
        let operands = Operands(a: a, b: b, c: c)
        // Panel boundaries on multiples of 8 rows or columns.
        let step = ((extent + count - 1) / count + 7) / 8 * 8
        DispatchQueue.concurrentPerform(iterations: count) { p in
            let start = p * step, size = min(step, extent - start)
            guard size > 0 else { return }
            if splitColumns {
                // C[:, j₀..<j₁] = op(A) · op(B)[:, j₀..<j₁]: columns of B, or rows of B when transposed.
                let bPanel = operands.b + (transposeB ? start : start * ldb)
                cblas_sgemm(CblasColMajor, ta, tb, Int32(m), Int32(size), Int32(k), alpha,
                            operands.a, Int32(lda), bPanel, Int32(ldb), beta,
                            operands.c + start * ldc, Int32(ldc))
            } else {
                // C[i₀..<i₁, :] = op(A)[i₀..<i₁, :] · op(B): rows of A, or columns of A when transposed.
                let aPanel = operands.a + (transposeA ? start * lda : start)
                cblas_sgemm(CblasColMajor, ta, tb, Int32(size), Int32(n), Int32(k), alpha,
                            aPanel, Int32(lda), operands.b, Int32(ldb), beta,
                            operands.c + start, Int32(ldc))
            }
        }
    }

    /// `OPENBLAS_NUM_THREADS` if set (the usual way to pin a BLAS's threads), else every core.
    static var defaultThreads: Int {
        if let text = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"], let n = Int(text), n > 0 { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }
}
