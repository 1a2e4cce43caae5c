import Foundation

/// Measured SGEMM speed of `backend`, in GFLOP/s (2·m·n·k per product): `C ← op(A)·op(B)` on
/// random matrices, one untimed warm-up (which also compiles kernels lazily built by the
/// driver), then the best of `repetitions` runs, each ended by `synchronize`.
public func gemmThroughput(backend: any Backend, m: Int, n: Int, k: Int, transA: Bool = false,
                           transB: Bool = false, repetitions: Int = 5) throws -> Double {
    var rng = SeededGenerator(seed: 42)
    func random(_ rows: Int, _ cols: Int) throws -> Matrix {
        try backend.makeMatrix(rows: rows, cols: cols,
                               values: (0..<(rows * cols)).map { _ in Float(rng.nextUniform() - 0.5) })
    }
    let a = transA ? try random(k, m) : try random(m, k)
    let b = transB ? try random(n, k) : try random(k, n)
    let c = try backend.makeMatrix(rows: m, cols: n)
    try backend.gemm(transposeA: transA, transposeB: transB, alpha: 1, a, b, beta: 0, c)
    try backend.synchronize()
    var best = Double.infinity
    let clock = ContinuousClock()
    for _ in 0..<max(1, repetitions) {
        let elapsed = try clock.measure {
            try backend.gemm(transposeA: transA, transposeB: transB, alpha: 1, a, b, beta: 0, c)
            try backend.synchronize()
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        best = min(best, seconds)
    }
    return 2 * Double(m) * Double(n) * Double(k) / best / 1e9
}
