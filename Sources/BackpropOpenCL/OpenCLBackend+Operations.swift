import BackpropCore
import Foundation

// The Backend operations, each one kernel launch on operands the protocol has already checked.
extension OpenCLBackend {
    /// The operand type of every requirement, for short signatures.
    public typealias CL = Operand<OpenCLStorage>

    // MARK: Linear algebra

    /// `C ← α·op(A)·op(B) + β·C` by the tiled `gemm` kernel of `gemm.cl`, one work-group per
    /// tile of C (tile sizes from `GemmTiling`).
    public func gemm(transposeA: Bool, transposeB: Bool, alpha: Float, _ a: CL, _ b: CL, beta: Float, _ c: CL) throws {
        let (m, n, k) = (c.rows, c.cols, transposeA ? a.rows : a.cols)
        let index = tilingIndex(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
        let tiling = tilings[index], local = tiling.groupSize
        let groups = [(m + tiling.tm - 1) / tiling.tm, (n + tiling.tn - 1) / tiling.tn]
        try runGemm(tiling: index, global: [groups[0] * local[0], groups[1] * local[1]], local: local, [
            .int(Int32(m)), .int(Int32(n)), .int(Int32(k)), .float(alpha),
            .buffer(a.buffer), .int(Int32(max(1, a.rows))), .int(transposeA ? 1 : 0),
            .buffer(b.buffer), .int(Int32(max(1, b.rows))), .int(transposeB ? 1 : 0),
            .float(beta), .buffer(c.buffer), .int(Int32(max(1, c.rows))),
            .int(GemmEpilogue.plain.rawValue), .int(ActivationCode.none.rawValue), .buffer(c.buffer), .buffer(c.buffer),
        ])
    }

    /// `Z ← Z + b·1ᵀ`, one work-item per element (`add_bias`).
    public func addBias(_ bias: CL, to z: CL) throws {
        try runElementwise(.addBias, count: z.count, [.int(Int32(z.rows)), .buffer(bias.buffer), .buffer(z.buffer)])
    }

    /// `s ← α·Σⱼ M[:, j] + β·s`, one work-item per row (`sum_columns`).
    public func sumColumns(_ m: CL, alpha: Float, beta: Float, into s: CL) throws {
        try runElementwise(.sumColumns, count: m.rows, [
            .int(Int32(m.rows)), .int(Int32(m.cols)), .float(alpha), .float(beta), .buffer(m.buffer), .buffer(s.buffer),
        ])
    }

    /// `C ← A ⊙ B`, one work-item per element.
    public func hadamard(_ a: CL, _ b: CL, into c: CL) throws {
        try runElementwise(.hadamard, count: c.count, [.buffer(a.buffer), .buffer(b.buffer), .buffer(c.buffer)])
    }

    /// `Y ← α·X + Y`, one work-item per element.
    public func axpy(alpha: Float, _ x: CL, _ y: CL) throws {
        try runElementwise(.axpy, count: y.count, [.float(alpha), .buffer(x.buffer), .buffer(y.buffer)])
    }

    /// `X ← α·X`, one work-item per element; `α = 0` writes zeros, clearing NaNs too.
    public func scale(_ x: CL, by alpha: Float) throws {
        try runElementwise(.scale, count: x.count, [.buffer(x.buffer), .float(alpha)])
    }

    // MARK: Activations

    /// `A ← σ(Z)`, one work-item per element; softmax one work-item per column, after
    /// subtracting the column's maximum.
    public func activate(_ activation: Activation, _ z: CL, into a: CL) throws {
        let kernel: Kernel
        switch activation {
        case .softmax:
            try runElementwise(.softmaxForward, count: z.cols, [.int(Int32(z.rows)), .buffer(z.buffer), .buffer(a.buffer)])
            return
        case .identity:
            if z.buffer === a.buffer { return }
            kernel = .identityForward
        case .sigmoid: kernel = .sigmoidForward
        case .relu: kernel = .reluForward
        case .tanh: kernel = .tanhForward
        }
        try runElementwise(kernel, count: z.count, [.buffer(z.buffer), .buffer(a.buffer)])
    }

    /// `δ ← upstream ⊙ σ'(Z)`, one work-item per element, `σ'` from `a` for sigmoid and tanh
    /// and from `z` for ReLU.
    public func activationBackward(_ activation: Activation, z: CL, a: CL, upstream: CL, into delta: CL) throws {
        let (bu, bd) = (upstream.buffer, delta.buffer)
        switch activation {
        case .identity:
            if bu !== bd { try runElementwise(.identityBackward, count: z.count, [.buffer(bu), .buffer(bd)]) }
        case .sigmoid: try runElementwise(.sigmoidBackward, count: z.count, [.buffer(a.buffer), .buffer(bu), .buffer(bd)])
        case .relu: try runElementwise(.reluBackward, count: z.count, [.buffer(z.buffer), .buffer(bu), .buffer(bd)])
        case .tanh: try runElementwise(.tanhBackward, count: z.count, [.buffer(a.buffer), .buffer(bu), .buffer(bd)])
        case .softmax: preconditionFailure("refused by the checked entry point")
        }
    }

    // MARK: Losses

    /// One work-group (`loss.cl`): `gradient ← (a − y)/n` and the batch's `Σₓ Cₓ`, summed by a
    /// tree in local memory (deterministic, no atomics), added to `lossSum`.
    public func lossAndGradient(_ loss: Loss, z: CL, a: CL, targets y: CL, meanOver n: Int,
                                gradient: CL, lossSum: CL) throws {
        let inv = 1 / Float(n)
        switch loss {
        case .squaredError:
            try runSingleGroup(.squaredError, [
                .int(Int32(z.count)), .float(inv), .buffer(a.buffer), .buffer(y.buffer),
                .buffer(gradient.buffer), .buffer(lossSum.buffer),
            ])
        case .softmaxCrossEntropy:
            try runSingleGroup(.softmaxCrossEntropy, [
                .int(Int32(z.rows)), .int(Int32(z.cols)), .float(inv), .buffer(z.buffer), .buffer(a.buffer),
                .buffer(y.buffer), .buffer(gradient.buffer), .buffer(lossSum.buffer),
            ])
        case .binaryCrossEntropy:
            try runSingleGroup(.binaryCrossEntropy, [
                .int(Int32(z.count)), .float(inv), .buffer(z.buffer), .buffer(a.buffer), .buffer(y.buffer),
                .buffer(gradient.buffer), .buffer(lossSum.buffer),
            ])
        }
    }

    /// One work-group (`count_correct`) applying `Prediction`'s rule per column.
    public func countCorrect(output: CL, targets: CL, into count: CL) throws {
        try runSingleGroup(.countCorrect, [
            .int(Int32(output.rows)), .int(Int32(output.cols)), .buffer(output.buffer),
            .buffer(targets.buffer), .buffer(count.buffer),
        ])
    }

    // MARK: Optimizers

    /// `θ ← θ − η·(g + λθ)`, one work-item per parameter.
    public func sgdStep(parameters: CL, gradient: CL, learningRate: Float, weightDecay: Float) throws {
        try runElementwise(.sgdStep, count: parameters.count, [
            .float(learningRate), .float(weightDecay), .int(0), .int(Int32.max),
            .buffer(parameters.buffer), .buffer(gradient.buffer),
        ])
    }

    /// `v ← μ·v + (g + λθ)`, `θ ← θ − η·v`, one work-item per parameter.
    public func momentumStep(parameters: CL, gradient: CL, velocity: CL, learningRate: Float, momentum: Float,
                             weightDecay: Float) throws {
        try runElementwise(.momentumStep, count: parameters.count, [
            .float(learningRate), .float(momentum), .float(weightDecay), .int(0), .int(Int32.max),
            .buffer(parameters.buffer), .buffer(gradient.buffer), .buffer(velocity.buffer),
        ])
    }

    /// Adam with the host's bias corrections `c1`, `c2`, one work-item per parameter; division
    /// and `sqrt` correctly rounded where the device supports it, as on the CPU.
    public func adamStep(parameters: CL, gradient: CL, m: CL, v: CL, learningRate: Float, beta1: Float,
                         beta2: Float, epsilon: Float, corrections c1: Float, _ c2: Float, weightDecay: Float) throws {
        try runElementwise(.adamStep, count: parameters.count, [
            .float(learningRate), .float(beta1), .float(beta2), .float(epsilon), .float(c1), .float(c2),
            .float(weightDecay), .int(0), .int(Int32.max),
            .buffer(parameters.buffer), .buffer(gradient.buffer), .buffer(m.buffer), .buffer(v.buffer),
        ])
    }

    // MARK: Data

    /// Copies column `indices[offset + j]` of `source` to column `j`, one work-item per element.
    /// Throws `BackendError.shapeMismatch` for an index outside `0 ..< source.cols`, found in the
    /// host copy before anything is enqueued.
    public func gatherColumns(_ source: CL, indices: OpenCLStorage, offset: Int, into destination: CL) throws {
        // The device would read out of bounds silently: check the host copy of the indices first.
        for k in indices.indices[offset..<(offset + destination.cols)] where k < 0 || Int(k) >= source.cols {
            throw BackendError.shapeMismatch(operation: "gatherColumns", detail: "index \(k) out of 0..<\(source.cols)")
        }
        try runElementwise(.gatherColumns, count: destination.count, [
            .int(Int32(max(1, source.rows))), .buffer(source.buffer), .buffer(indices.buffer), .int(Int32(offset)),
            .buffer(destination.buffer),
        ])
    }
}
