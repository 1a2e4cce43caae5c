import Foundation

// The operations callers use. Each checks its operands once, here, for every backend — shapes,
// sizes, and that each matrix lives in this backend's memory — then calls the backend's
// requirement of the same name on ``Operand``s. No backend repeats these checks.
extension Backend {
    /// The largest matrix, in elements: every backend indexes with 32-bit integers somewhere
    /// (BLAS sizes, OpenCL kernel arguments).
    public static var maxElements: Int { Int(Int32.max) }

    // MARK: Checks

    /// `matrix` as this backend's operand, or ``BackendError/foreignStorage(operation:)``.
    func operand(_ matrix: Matrix, _ operation: String) throws -> Operand<Storage> {
        guard let s = matrix.storage as? Storage, owns(s) else { throw BackendError.foreignStorage(operation: operation) }
        return Operand(matrix, s)
    }

    func indexStorage(_ buffer: IndexBuffer, _ operation: String) throws -> Storage {
        guard let s = buffer.storage as? Storage, owns(s) else { throw BackendError.foreignStorage(operation: operation) }
        return s
    }

    // MARK: Buffers

    /// A new zero-filled `rows × cols` matrix.
    public func makeMatrix(rows: Int, cols: Int) throws -> Matrix {
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        try require(rows >= 0 && cols >= 0 && !overflow && count <= Self.maxElements,
                    "makeMatrix", "\(rows)×\(cols)")
        return Matrix(rows: rows, cols: cols, storage: try makeStorage(count: count))
    }

    /// A `rows × cols` matrix holding `values` (column-major, exactly `rows · cols` of them),
    /// taking the array: on the CPU the matrix keeps the array's buffer, with no copy, provided
    /// the caller held the only reference (`consume` it); otherwise it is copied.
    public func makeMatrix(rows: Int, cols: Int, adopting values: consuming [Float]) throws -> Matrix {
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        try require(rows >= 0 && cols >= 0 && !overflow && count <= Self.maxElements && values.count == count,
                    "makeMatrix", "\(values.count) values for \(rows)×\(cols)")
        return Matrix(rows: rows, cols: cols, storage: try makeStorage(adopting: consume values))
    }

    /// A new zero-filled buffer of `count` indices.
    public func makeIndexBuffer(count: Int) throws -> IndexBuffer {
        try require(count >= 0 && count <= Self.maxElements, "makeIndexBuffer", "\(count) indices")
        return IndexBuffer(count: count, storage: try makeIndexStorage(count: count))
    }

    /// Copies `values` (column-major, at least `matrix.count` of them) into `matrix`.
    public func upload(_ values: UnsafeBufferPointer<Float>, to matrix: Matrix) throws {
        let m = try operand(matrix, "upload")
        try require(values.count >= matrix.count, "upload", "\(values.count) values for \(matrix.shape)")
        if m.count > 0 { try upload(values, to: m) }
    }

    /// Copies `matrix` (column-major) into `values`, which holds at least `matrix.count` floats.
    /// Waits for every queued operation that writes `matrix`.
    public func download(_ matrix: Matrix, into values: UnsafeMutableBufferPointer<Float>) throws {
        let m = try operand(matrix, "download")
        try require(values.count >= matrix.count, "download", "room for \(values.count) values, need \(matrix.count)")
        if m.count > 0 { try download(m, into: values) }
    }

    /// Copies `indices` into the start of `buffer`.
    public func upload(_ indices: UnsafeBufferPointer<Int32>, to buffer: IndexBuffer) throws {
        let s = try indexStorage(buffer, "upload")
        try require(indices.count <= buffer.count, "upload", "\(indices.count) indices for a buffer of \(buffer.count)")
        if !indices.isEmpty { try upload(indices, to: s) }
    }

    /// Sets every element of `matrix` to `value`.
    public func fill(_ matrix: Matrix, with value: Float) throws {
        let m = try operand(matrix, "fill")
        if m.count > 0 { try fill(m, with: value) }
    }

    // MARK: Linear algebra

    /// `C ← α·op(A)·op(B) + β·C`, where `op(X)` is `Xᵀ` when the flag is set.
    public func gemm(transposeA: Bool, transposeB: Bool, alpha: Float, _ a: Matrix, _ b: Matrix,
                     beta: Float, _ c: Matrix) throws {
        let (m, k) = transposeA ? (a.cols, a.rows) : (a.rows, a.cols)
        let (kb, n) = transposeB ? (b.cols, b.rows) : (b.rows, b.cols)
        try require(k == kb && c.rows == m && c.cols == n, "gemm",
                    "op(A) \(m)×\(k) · op(B) \(kb)×\(n) into C \(c.shape)")
        let oa = try operand(a, "gemm"), ob = try operand(b, "gemm"), oc = try operand(c, "gemm")
        if m == 0 || n == 0 { return }
        if k == 0 { try scale(oc, by: beta); return }  // an empty sum: C ← β·C
        try gemm(transposeA: transposeA, transposeB: transposeB, alpha: alpha, oa, ob, beta: beta, oc)
    }

    /// `Z ← Z + b·1ᵀ`: adds the column vector `bias` (`rows × 1`) to every column of `z`.
    public func addBias(_ bias: Matrix, to z: Matrix) throws {
        try require(bias.rows == z.rows && bias.cols == 1, "addBias", "bias \(bias.shape) for Z \(z.shape)")
        let ob = try operand(bias, "addBias"), oz = try operand(z, "addBias")
        if z.count > 0 { try addBias(ob, to: oz) }
    }

    /// `s ← α·Σⱼ M[:, j] + β·s`: the sum over the batch (columns), as ∂C/∂b = Σ δ needs.
    public func sumColumns(_ m: Matrix, alpha: Float, beta: Float, into s: Matrix) throws {
        try require(s.rows == m.rows && s.cols == 1, "sumColumns", "sum \(s.shape) of \(m.shape)")
        let om = try operand(m, "sumColumns"), os = try operand(s, "sumColumns")
        if s.count > 0 { try sumColumns(om, alpha: alpha, beta: beta, into: os) }
    }

    /// `C ← A ⊙ B`, elementwise.
    public func hadamard(_ a: Matrix, _ b: Matrix, into c: Matrix) throws {
        try requireSameShape("hadamard", a, b, c)
        let oa = try operand(a, "hadamard"), ob = try operand(b, "hadamard"), oc = try operand(c, "hadamard")
        if c.count > 0 { try hadamard(oa, ob, into: oc) }
    }

    /// `Y ← α·X + Y`.
    public func axpy(alpha: Float, _ x: Matrix, _ y: Matrix) throws {
        try requireSameShape("axpy", x, y)
        let ox = try operand(x, "axpy"), oy = try operand(y, "axpy")
        if y.count > 0 { try axpy(alpha: alpha, ox, oy) }
    }

    /// `X ← α·X`.
    public func scale(_ x: Matrix, by alpha: Float) throws {
        let ox = try operand(x, "scale")
        if x.count > 0 { try scale(ox, by: alpha) }
    }

    // MARK: Activations

    /// `A ← σ(Z)`; `.softmax` normalizes each column.
    public func activate(_ activation: Activation, _ z: Matrix, into a: Matrix) throws {
        try requireSameShape("activate", z, a)
        let oz = try operand(z, "activate"), oa = try operand(a, "activate")
        if z.count > 0 { try activate(activation, oz, into: oa) }
    }

    /// `δ ← upstream ⊙ σ'(Z)`, fused; `a = σ(z)` is passed so sigmoid and tanh need not
    /// recompute it. Not defined for `.softmax` (its Jacobian is not diagonal: use a fused loss).
    public func activationBackward(_ activation: Activation, z: Matrix, a: Matrix, upstream: Matrix,
                                   into delta: Matrix) throws {
        try requireSameShape("activationBackward", z, a, upstream, delta)
        guard activation != .softmax else {
            throw BackendError.unsupported(operation: "activationBackward",
                                           detail: "softmax has no elementwise derivative; pair it with cross-entropy")
        }
        let op = "activationBackward"
        let oz = try operand(z, op), oa = try operand(a, op), ou = try operand(upstream, op), od = try operand(delta, op)
        if z.count > 0 { try activationBackward(activation, z: oz, a: oa, upstream: ou, into: od) }
    }

    // MARK: Losses

    /// For a batch of `n = output.cols` samples with cost `C = (1/n)·Σₓ Cₓ`:
    /// adds `Σₓ Cₓ` to the `1 × 1` matrix `lossSum`, and writes into `gradient`
    ///   - `.squaredError`: `∇ₐC = (a − y)/n` (the network then applies `⊙ σ'(zᴸ)`);
    ///   - `.softmaxCrossEntropy`, `.binaryCrossEntropy`: `δᴸ = (a − y)/n`, the output
    ///     activation's derivative already folded in (see ``Loss/fusesOutputDerivative``).
    /// For `.softmaxCrossEntropy` each target column must be a probability vector (one-hot, or
    /// summing to 1): the fused gradient `a − y` is `(Σᵢyᵢ)·a − y` only then.
    /// `z` are the pre-activations (the cross-entropies are computed stably from them),
    /// `a` the output activations, `y` the targets, all `classes × n`. `n` may be less than
    /// the batch the buffers were made for; `meanOver` is the `n` to divide by.
    public func lossAndGradient(_ loss: Loss, z: Matrix, a: Matrix, targets y: Matrix,
                                meanOver n: Int, gradient: Matrix, lossSum: Matrix) throws {
        try requireSameShape("lossAndGradient", z, a, y, gradient)
        try require(n > 0, "lossAndGradient", "mean over \(n) samples")
        try require(lossSum.count >= 1, "lossAndGradient", "loss sum \(lossSum.shape)")
        let op = "lossAndGradient"
        let oz = try operand(z, op), oa = try operand(a, op), oy = try operand(y, op)
        let og = try operand(gradient, op), os = try operand(lossSum.reshaped(rows: 1, cols: 1), op)
        try lossAndGradient(loss, z: oz, a: oa, targets: oy, meanOver: n, gradient: og, lossSum: os)
    }

    /// Adds to the `1 × 1` matrix `count` the number of columns of `output` whose predicted
    /// class (``Prediction``) is the class of the same column of `targets`.
    public func countCorrect(output: Matrix, targets: Matrix, into count: Matrix) throws {
        try requireSameShape("countCorrect", output, targets)
        try require(count.count >= 1, "countCorrect", "count \(count.shape)")
        let oo = try operand(output, "countCorrect"), ot = try operand(targets, "countCorrect")
        let oc = try operand(count.reshaped(rows: 1, cols: 1), "countCorrect")
        if output.count > 0 { try countCorrect(output: oo, targets: ot, into: oc) }
    }

    // MARK: Optimizers (in place)

    /// `θ ← θ − η·(g + λθ)`.
    public func sgdStep(parameters: Matrix, gradient: Matrix, learningRate: Float, weightDecay: Float) throws {
        try requireSameShape("sgdStep", parameters, gradient)
        let p = try operand(parameters, "sgdStep"), g = try operand(gradient, "sgdStep")
        if p.count > 0 { try sgdStep(parameters: p, gradient: g, learningRate: learningRate, weightDecay: weightDecay) }
    }

    /// `v ← μ·v + (g + λθ)`, `θ ← θ − η·v`.
    public func momentumStep(parameters: Matrix, gradient: Matrix, velocity: Matrix,
                             learningRate: Float, momentum: Float, weightDecay: Float) throws {
        try requireSameShape("momentumStep", parameters, gradient, velocity)
        let p = try operand(parameters, "momentumStep"), g = try operand(gradient, "momentumStep")
        let v = try operand(velocity, "momentumStep")
        if p.count > 0 {
            try momentumStep(parameters: p, gradient: g, velocity: v, learningRate: learningRate,
                             momentum: momentum, weightDecay: weightDecay)
        }
    }

    /// Adam (Kingma & Ba) with bias correction at step `t` (1-based), L2 decay added to g.
    public func adamStep(parameters: Matrix, gradient: Matrix, m: Matrix, v: Matrix,
                         learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
                         step t: Int, weightDecay: Float) throws {
        try requireSameShape("adamStep", parameters, gradient, m, v)
        try require(t >= 1, "adamStep", "step \(t); steps count from 1")
        let op = "adamStep"
        let p = try operand(parameters, op), g = try operand(gradient, op), om = try operand(m, op), ov = try operand(v, op)
        // The bias corrections, in Float on the host, the same for every backend.
        let c1 = 1 - powf(beta1, Float(t)), c2 = 1 - powf(beta2, Float(t))
        if p.count > 0 {
            try adamStep(parameters: p, gradient: g, m: om, v: ov, learningRate: learningRate, beta1: beta1,
                         beta2: beta2, epsilon: epsilon, corrections: c1, c2, weightDecay: weightDecay)
        }
    }

    // MARK: Data

    /// `destination[:, j] ← source[:, indices[offset + j]]` for `j < destination.cols`:
    /// gathers a minibatch from a dataset that already lives in the backend's memory.
    public func gatherColumns(_ source: Matrix, indices: IndexBuffer, offset: Int, into destination: Matrix) throws {
        try require(source.rows == destination.rows && offset >= 0 && offset + destination.cols <= indices.count,
                    "gatherColumns", "source \(source.shape), destination \(destination.shape), "
                    + "indices \(offset)..<\(offset + destination.cols) of \(indices.count)")
        let os = try operand(source, "gatherColumns"), od = try operand(destination, "gatherColumns")
        let oi = try indexStorage(indices, "gatherColumns")
        if destination.count > 0 { try gatherColumns(os, indices: oi, offset: offset, into: od) }
    }
}

@inline(__always)
func require(_ condition: Bool, _ operation: String, _ detail: @autoclosure () -> String) throws {
    if !condition { throw BackendError.shapeMismatch(operation: operation, detail: detail()) }
}

func requireSameShape(_ operation: String, _ matrices: Matrix...) throws {
    guard let first = matrices.first else { return }
    for m in matrices.dropFirst() where m.shape != first.shape {
        throw BackendError.shapeMismatch(operation: operation,
                                         detail: matrices.map(\.shape.description).joined(separator: " vs "))
    }
}
