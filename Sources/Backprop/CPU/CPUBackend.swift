import CBLAS
import CPUKernels
import Foundation

/// The reference backend: every matrix product is OpenBLAS `cblas_sgemm`; everything else is a
/// tight loop over unsafe pointers. Simple, exact, and the yardstick for the OpenCL backend.
public final class CPUBackend: Backend {
    private let parallel: ParallelGEMM

    /// `threads` GEMM panels run at once (default: `OPENBLAS_NUM_THREADS`, else every core).
    /// Sets OpenBLAS's own thread count to 1 for the process: the panels are the parallelism.
    public init(threads: Int? = nil) {
        parallel = ParallelGEMM(threads: threads ?? ParallelGEMM.defaultThreads)
    }

    public var name: String { "CPU (OpenBLAS, \(parallel.threads) threads)" }

    // MARK: Buffers

    public func makeMatrix(rows: Int, cols: Int) throws -> Matrix {
        guard rows >= 0, cols >= 0, rows.multipliedReportingOverflow(by: cols).overflow == false else {
            throw BackendError.shapeMismatch(operation: "makeMatrix", detail: "\(rows)×\(cols)")
        }
        return Matrix(rows: rows, cols: cols, storage: try CPUStorage(capacity: rows * cols))
    }

    public func upload(_ values: UnsafeBufferPointer<Float>, to matrix: Matrix) throws {
        let p = try matrix.cpu("upload")
        try check(values.count >= matrix.count, "upload", "\(values.count) values for \(matrix.shape)")
        if let base = values.baseAddress { p.update(from: base, count: matrix.count) }
    }

    public func download(_ matrix: Matrix, into values: UnsafeMutableBufferPointer<Float>) throws {
        let p = try matrix.cpu("download")
        try check(values.count >= matrix.count, "download", "room for \(values.count) values, need \(matrix.count)")
        if let base = values.baseAddress { base.update(from: p, count: matrix.count) }
    }

    public func makeIndexBuffer(count: Int) throws -> IndexBuffer {
        IndexBuffer(count: count, storage: try CPUStorage(capacity: count, elementSize: 4))
    }

    public func upload(_ indices: UnsafeBufferPointer<Int32>, to buffer: IndexBuffer) throws {
        guard let s = buffer.storage as? CPUStorage else { throw BackendError.foreignStorage(operation: "upload") }
        try check(indices.count <= buffer.count, "upload", "\(indices.count) indices for a buffer of \(buffer.count)")
        if let base = indices.baseAddress { s.int32s.update(from: base, count: indices.count) }
    }

    public func fill(_ matrix: Matrix, with value: Float) throws {
        try matrix.cpu("fill").update(repeating: value, count: matrix.count)
    }

    public func synchronize() throws {}

    // MARK: Linear algebra

    public func gemm(transposeA: Bool, transposeB: Bool, alpha: Float, _ a: Matrix, _ b: Matrix,
                     beta: Float, _ c: Matrix) throws {
        let (m, k) = transposeA ? (a.cols, a.rows) : (a.rows, a.cols)
        let (kb, n) = transposeB ? (b.cols, b.rows) : (b.rows, b.cols)
        try check(k == kb && c.rows == m && c.cols == n, "gemm",
                  "op(A) \(m)×\(k) · op(B) \(kb)×\(n) into C \(c.shape)")
        try check([m, n, k, a.rows, b.rows, c.rows].allSatisfy { $0 <= Int(Int32.max) }, "gemm",
                  "dimensions beyond OpenBLAS's 32-bit sizes")
        let pa = try a.cpu("gemm"), pb = try b.cpu("gemm"), pc = try c.cpu("gemm")
        if m == 0 || n == 0 { return }
        if k == 0 { try scale(c, by: beta); return }
        parallel.run(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                     a: pa, lda: max(1, a.rows), b: pb, ldb: max(1, b.rows), beta: beta, c: pc, ldc: max(1, c.rows))
    }

    public func addBias(_ bias: Matrix, to z: Matrix) throws {
        try check(bias.rows == z.rows && bias.cols == 1, "addBias", "bias \(bias.shape) for Z \(z.shape)")
        let b = try bias.cpu("addBias"), p = try z.cpu("addBias")
        bp_add_bias(p, b, z.rows, z.cols)
    }

    public func sumColumns(_ m: Matrix, alpha: Float, beta: Float, into s: Matrix) throws {
        try check(s.rows == m.rows && s.cols == 1, "sumColumns", "sum \(s.shape) of \(m.shape)")
        let p = try m.cpu("sumColumns"), out = try s.cpu("sumColumns")
        bp_sum_columns(p, m.rows, m.cols, alpha, beta, out)
    }

    public func hadamard(_ a: Matrix, _ b: Matrix, into c: Matrix) throws {
        try sameShape("hadamard", a, b, c)
        let pa = try a.cpu("hadamard"), pb = try b.cpu("hadamard"), pc = try c.cpu("hadamard")
        bp_hadamard(pa, pb, pc, c.count)
    }

    public func axpy(alpha: Float, _ x: Matrix, _ y: Matrix) throws {
        try sameShape("axpy", x, y)
        let px = try x.cpu("axpy"), py = try y.cpu("axpy")
        bp_axpy(alpha, px, py, y.count)
    }

    public func scale(_ x: Matrix, by alpha: Float) throws {
        let p = try x.cpu("scale")
        if alpha == 0 { p.update(repeating: 0, count: x.count); return }
        bp_scale(p, alpha, x.count)
    }

    // MARK: Activations

    public func activate(_ activation: Activation, _ z: Matrix, into a: Matrix) throws {
        try sameShape("activate", z, a)
        let pz = try z.cpu("activate"), pa = try a.cpu("activate")
        let n = z.count
        switch activation {
        case .identity: if pz != pa { pa.update(from: pz, count: n) }
        case .sigmoid: for i in 0..<n { pa[i] = 1 / (1 + expf(-pz[i])) }
        case .relu: bp_relu(pz, pa, n)
        case .tanh: for i in 0..<n { pa[i] = tanhf(pz[i]) }
        case .softmax:
            let rows = z.rows
            for j in 0..<z.cols {
                let zc = pz + j * rows, ac = pa + j * rows
                // softmax(z) = e^{z − max z} / Σ e^{z − max z}: no overflow for large z.
                let m = columnMax(zc, rows)
                var sum: Float = 0
                for i in 0..<rows { let e = expf(zc[i] - m); ac[i] = e; sum += e }
                let inv = 1 / sum
                for i in 0..<rows { ac[i] *= inv }
            }
        }
    }

    public func activationBackward(_ activation: Activation, z: Matrix, a: Matrix, upstream: Matrix,
                                   into delta: Matrix) throws {
        try sameShape("activationBackward", z, a, upstream, delta)
        let pz = try z.cpu("activationBackward"), pa = try a.cpu("activationBackward")
        let pu = try upstream.cpu("activationBackward"), pd = try delta.cpu("activationBackward")
        let n = z.count
        switch activation {
        case .identity: if pu != pd { pd.update(from: pu, count: n) }
        case .sigmoid: bp_sigmoid_backward(pa, pu, pd, n)
        case .relu: bp_relu_backward(pz, pu, pd, n)
        case .tanh: bp_tanh_backward(pa, pu, pd, n)
        case .softmax:
            throw BackendError.unsupported(operation: "activationBackward",
                                           detail: "softmax has no elementwise derivative; pair it with cross-entropy")
        }
    }

    // MARK: Losses

    public func lossAndGradient(_ loss: Loss, z: Matrix, a: Matrix, targets y: Matrix,
                                meanOver n: Int, gradient: Matrix, lossSum: Matrix) throws {
        try sameShape("lossAndGradient", z, a, y, gradient)
        try check(n > 0, "lossAndGradient", "mean over \(n) samples")
        let pz = try z.cpu("loss"), pa = try a.cpu("loss"), py = try y.cpu("loss")
        let pg = try gradient.cpu("loss"), ps = try lossSum.cpu("loss")
        let inv = 1 / Float(n)
        var total: Double = 0
        switch loss {
        case .squaredError:
            for i in 0..<z.count {
                let d = pa[i] - py[i]
                total += Double(0.5 * d * d)
                pg[i] = d * inv
            }
        case .softmaxCrossEntropy:
            let rows = z.rows
            for j in 0..<z.cols {
                let zc = pz + j * rows, yc = py + j * rows
                // −Σ yᵢ log softmax(z)ᵢ = Σ yᵢ (log Σ e^{z} − zᵢ), with log Σ e^{z} taken stably.
                let m = columnMax(zc, rows)
                var sum: Float = 0
                for i in 0..<rows { sum += expf(zc[i] - m) }
                let logSumExp = m + logf(sum)
                var c: Float = 0
                for i in 0..<rows where yc[i] != 0 { c += yc[i] * (logSumExp - zc[i]) }
                total += Double(c)
            }
            for i in 0..<z.count { pg[i] = (pa[i] - py[i]) * inv }
        case .binaryCrossEntropy:
            for i in 0..<z.count {
                let x = pz[i]
                // −[y log σ(x) + (1 − y) log(1 − σ(x))], written so no exp overflows.
                total += Double(max(x, 0) - x * py[i] + log1pf(expf(-abs(x))))
                pg[i] = (pa[i] - py[i]) * inv
            }
        }
        ps[0] += Float(total)
    }

    public func countCorrect(output: Matrix, targets: Matrix, into count: Matrix) throws {
        try sameShape("countCorrect", output, targets)
        let po = try output.cpu("countCorrect"), pt = try targets.cpu("countCorrect")
        let pc = try count.cpu("countCorrect")
        let rows = output.rows
        var correct = 0
        for j in 0..<output.cols {
            let o = po + j * rows, t = pt + j * rows
            if rows == 1 {
                if !o[0].isNaN, (o[0] >= 0.5) == (t[0] >= 0.5) { correct += 1 }
            } else if let predicted = argmax(o, rows), predicted == argmax(t, rows) {
                correct += 1
            }
        }
        pc[0] += Float(correct)
    }

    // MARK: Optimizers

    public func sgdStep(parameters: Matrix, gradient: Matrix, learningRate: Float, weightDecay: Float) throws {
        try sameShape("sgdStep", parameters, gradient)
        let p = try parameters.cpu("sgdStep"), g = try gradient.cpu("sgdStep")
        bp_sgd(p, g, parameters.count, learningRate, weightDecay)
    }

    public func momentumStep(parameters: Matrix, gradient: Matrix, velocity: Matrix,
                             learningRate: Float, momentum: Float, weightDecay: Float) throws {
        try sameShape("momentumStep", parameters, gradient, velocity)
        let p = try parameters.cpu("momentumStep"), g = try gradient.cpu("momentumStep")
        let v = try velocity.cpu("momentumStep")
        bp_momentum(p, g, v, parameters.count, learningRate, momentum, weightDecay)
    }

    public func adamStep(parameters: Matrix, gradient: Matrix, m: Matrix, v: Matrix,
                         learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
                         step t: Int, weightDecay: Float) throws {
        try sameShape("adamStep", parameters, gradient, m, v)
        let p = try parameters.cpu("adamStep"), g = try gradient.cpu("adamStep")
        let pm = try m.cpu("adamStep"), pv = try v.cpu("adamStep")
        let c1 = 1 - powf(beta1, Float(t)), c2 = 1 - powf(beta2, Float(t))
        bp_adam(p, g, pm, pv, parameters.count, learningRate, beta1, beta2, c1, c2, epsilon, weightDecay)
    }

    // MARK: Data

    public func gatherColumns(_ source: Matrix, indices: IndexBuffer, offset: Int,
                              into destination: Matrix) throws {
        try check(source.rows == destination.rows && offset >= 0 && offset + destination.cols <= indices.count,
                  "gatherColumns", "source \(source.shape), destination \(destination.shape), "
                  + "indices \(offset)..<\(offset + destination.cols) of \(indices.count)")
        guard let s = indices.storage as? CPUStorage else { throw BackendError.foreignStorage(operation: "gatherColumns") }
        let ps = try source.cpu("gatherColumns"), pd = try destination.cpu("gatherColumns")
        let rows = source.rows, idx = s.int32s + offset
        for j in 0..<destination.cols {
            let k = Int(idx[j])
            try check(k >= 0 && k < source.cols, "gatherColumns", "index \(k) out of 0..<\(source.cols)")
            (pd + j * rows).update(from: ps + k * rows, count: rows)
        }
    }

    // MARK: Helpers

    private func columnMax(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        var m = -Float.infinity
        for i in 0..<n { m = max(m, p[i]) }
        return m
    }

    /// Index of the largest element, or nil when the column holds a NaN (never "correct").
    private func argmax(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Int? {
        for i in 0..<n where p[i].isNaN { return nil }
        var best = 0
        for i in 1..<max(n, 1) where p[i] > p[best] { best = i }
        return best
    }
}

@inline(__always)
func check(_ condition: Bool, _ operation: String, _ detail: @autoclosure () -> String) throws {
    if !condition { throw BackendError.shapeMismatch(operation: operation, detail: detail()) }
}

func sameShape(_ operation: String, _ matrices: Matrix...) throws {
    guard let first = matrices.first else { return }
    for m in matrices.dropFirst() where m.shape != first.shape {
        throw BackendError.shapeMismatch(operation: operation,
                                         detail: matrices.map(\.shape.description).joined(separator: " vs "))
    }
}

