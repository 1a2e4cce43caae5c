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

    // MARK: Fused layer passes

    /// `Z ← W·A + b·1ᵀ` and, when `activated` is given, `A' ← σ(Z)`: a layer's forward pass
    /// (equations `zˡ = Wˡ·aˡ⁻¹ + bˡ`, `aˡ = σ(zˡ)`). `W` is `out × in`, `b` `out × 1`, `A`
    /// `in × n`, `Z` and `A'` `out × n`.
    public func denseForward(weight: Matrix, bias: Matrix, input: Matrix, activation: Activation,
                             z: Matrix, activated: Matrix?) throws {
        let op = "denseForward"
        try require(bias.rows == weight.rows && bias.cols == 1 && input.rows == weight.cols
                    && z.rows == weight.rows && z.cols == input.cols, op,
                    "W \(weight.shape) · A \(input.shape) + b \(bias.shape) into Z \(z.shape)")
        if let activated { try requireSameShape(op, z, activated) }
        let ow = try operand(weight, op), ob = try operand(bias, op), oa = try operand(input, op), oz = try operand(z, op)
        let oact = try activated.map { try operand($0, op) }
        if z.count == 0 { return }
        if weight.cols == 0 {  // an empty product: Z = b·1ᵀ
            try scale(oz, by: 0)
            try addBias(ob, to: oz)
            if let oact { try activate(activation, oz, into: oact) }
            return
        }
        try denseForward(weight: ow, bias: ob, input: oa, activation: activation, z: oz, activated: oact)
    }

    /// `∂W ← δ·Aᵀ` and `∂b ← Σⱼ δ[:, j]` (equations (4) and (3)): `δ` is `out × n`, `A` `in × n`.
    public func parameterGradients(delta: Matrix, input: Matrix, weightGradient: Matrix, biasGradient: Matrix) throws {
        let op = "parameterGradients"
        try require(input.cols == delta.cols && weightGradient.rows == delta.rows && weightGradient.cols == input.rows
                    && biasGradient.rows == delta.rows && biasGradient.cols == 1, op,
                    "δ \(delta.shape) · Aᵀ of \(input.shape) into ∂W \(weightGradient.shape), ∂b \(biasGradient.shape)")
        let od = try operand(delta, op), oa = try operand(input, op)
        let ow = try operand(weightGradient, op), ob = try operand(biasGradient, op)
        if delta.cols == 0 {  // no samples: both sums are empty
            if ow.count > 0 { try scale(ow, by: 0) }
            if ob.count > 0 { try scale(ob, by: 0) }
            return
        }
        if ow.count == 0 && ob.count == 0 { return }
        if ow.count == 0 { try sumColumns(od, alpha: 1, beta: 0, into: ob); return }
        try parameterGradients(delta: od, input: oa, weightGradient: ow, biasGradient: ob)
    }

    /// `δˡ⁻¹ ← (Wᵀ·δˡ) ⊙ σ'(zˡ⁻¹)` (equation (2)): `W` is `out × in`, `δ` `out × n`, and
    /// `z`, `a` (the layer below's) and `below` `in × n`. Not for `.softmax`.
    public func backpropagate(weight: Matrix, delta: Matrix, activation: Activation, z: Matrix, a: Matrix,
                              into below: Matrix) throws {
        let op = "backpropagate"
        try require(delta.rows == weight.rows && below.rows == weight.cols && below.cols == delta.cols, op,
                    "Wᵀ of \(weight.shape) · δ \(delta.shape) into \(below.shape)")
        try requireSameShape(op, below, z, a)
        guard activation != .softmax else {
            throw BackendError.unsupported(operation: op, detail: "softmax has no elementwise derivative; it is an output layer's")
        }
        let ow = try operand(weight, op), od = try operand(delta, op), oz = try operand(z, op)
        let oa = try operand(a, op), ob = try operand(below, op)
        if below.count == 0 { return }
        if weight.rows == 0 { try scale(ob, by: 0); return }
        try backpropagate(weight: ow, delta: od, activation: activation, z: oz, a: oa, into: ob)
    }

    /// A hidden layer's backward pass in one call: `∂W ← δ·aᵀ`, `∂b ← Σⱼ δ[:, j]` (equations (4),
    /// (3)) and `δˡ⁻¹ ← (Wᵀ·δ) ⊙ σ'(zˡ⁻¹)` (equation (2)), where `a` and `z` are the layer
    /// below's (`in × n`) and `below` its δ. Shapes as the two calls it stands for.
    public func layerBackward(weight: Matrix, delta: Matrix, a: Matrix, weightGradient: Matrix, biasGradient: Matrix,
                              activation: Activation, z: Matrix, into below: Matrix) throws {
        let op = "layerBackward"
        try require(a.cols == delta.cols && weightGradient.rows == delta.rows && weightGradient.cols == a.rows
                    && biasGradient.rows == delta.rows && biasGradient.cols == 1 && weight.shape == weightGradient.shape,
                    op, "δ \(delta.shape), a \(a.shape), W \(weight.shape), ∂W \(weightGradient.shape), ∂b \(biasGradient.shape)")
        try requireSameShape(op, below, z, a)
        guard activation != .softmax else {
            throw BackendError.unsupported(operation: op, detail: "softmax has no elementwise derivative; it is an output layer's")
        }
        let ow = try operand(weight, op), od = try operand(delta, op), oa = try operand(a, op)
        let ogw = try operand(weightGradient, op), ogb = try operand(biasGradient, op)
        let oz = try operand(z, op), ob = try operand(below, op)
        if delta.cols == 0 || delta.rows == 0 || a.rows == 0 {  // empty sums or products: the two calls handle them
            try parameterGradients(delta: delta, input: a, weightGradient: weightGradient, biasGradient: biasGradient)
            try backpropagate(weight: weight, delta: delta, activation: activation, z: z, a: a, into: below)
            return
        }
        try layerBackward(weight: ow, delta: od, input: oa, weightGradient: ogw, biasGradient: ogb,
                          activation: activation, z: oz, into: ob)
    }

    /// The output layer's pass (equation (1)): `aᴸ ← σ(zᴸ)` when `activate` is set, then as
    /// ``lossAndGradient(_:z:a:targets:meanOver:gradient:lossSum:)`` but with `gradient`
    /// always `δᴸ = ∇ₐC ⊙ σ'(zᴸ)` (for squared error too), and the columns predicted right
    /// (``Prediction``) added to the `1 × 1` matrix `correct` when it is given.
    public func outputLoss(_ loss: Loss, activation: Activation, z: Matrix, a: Matrix, activate: Bool,
                           targets y: Matrix, meanOver n: Int, gradient: Matrix, lossSum: Matrix,
                           correct: Matrix?) throws {
        let op = "outputLoss"
        try requireSameShape(op, z, a, y, gradient)
        try require(n > 0, op, "mean over \(n) samples")
        try require(lossSum.count >= 1, op, "loss sum \(lossSum.shape)")
        if let correct { try require(correct.count >= 1, op, "count \(correct.shape)") }
        if !loss.fusesOutputDerivative && activation == .softmax {
            throw BackendError.unsupported(operation: op, detail: "softmax has no elementwise derivative; pair it with cross-entropy")
        }
        let oz = try operand(z, op), oa = try operand(a, op), oy = try operand(y, op), og = try operand(gradient, op)
        let os = try operand(lossSum.reshaped(rows: 1, cols: 1), op)
        let oc = try correct.map { try operand($0.reshaped(rows: 1, cols: 1), op) }
        try outputLoss(loss, activation: activation, z: oz, a: oa, activate: activate && z.count > 0, targets: oy,
                       meanOver: n, gradient: og, lossSum: os, correct: oc)
    }

    /// One optimizer step over a whole parameter buffer (`parameters`, `gradient` and the
    /// rule's state of one shape): weight decay only inside `decayed`, sorted disjoint ranges
    /// of element indices. `first` is the velocity or Adam's `m`, `second` Adam's `v`; exactly
    /// as many as the rule keeps (``UpdateRule/stateCount``).
    public func updateParameters(_ rule: UpdateRule, parameters: Matrix, gradient: Matrix, first: Matrix?,
                                 second: Matrix?, decayed: [Range<Int>]) throws {
        let op = "updateParameters"
        let states = [first, second].compactMap { $0 }
        try require(states.count == rule.stateCount && (second == nil || first != nil), op,
                    "\(states.count) state buffers for a rule that keeps \(rule.stateCount)")
        try requireSameShape(op, [parameters, gradient] + states)
        var end = 0
        for r in decayed {
            try require(r.lowerBound >= end && r.upperBound <= parameters.count, op,
                        "decay ranges \(decayed) in \(parameters.count) elements")
            end = r.upperBound
        }
        let p = try operand(parameters, op), g = try operand(gradient, op)
        let f = try first.map { try operand($0, op) }, s = try second.map { try operand($0, op) }
        if p.count > 0 { try updateParameters(rule, parameters: p, gradient: g, first: f, second: s, decayed: decayed) }
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
    try requireSameShape(operation, matrices)
}

func requireSameShape(_ operation: String, _ matrices: [Matrix]) throws {
    guard let first = matrices.first else { return }
    for m in matrices.dropFirst() where m.shape != first.shape {
        throw BackendError.shapeMismatch(operation: operation,
                                         detail: matrices.map(\.shape.description).joined(separator: " vs "))
    }
}
