import Foundation

// The Backend operations: check shapes exactly as CPUBackend does, then enqueue one kernel.
extension OpenCLBackend {
    // MARK: Linear algebra

    public func gemm(transposeA: Bool, transposeB: Bool, alpha: Float, _ a: Matrix, _ b: Matrix,
                     beta: Float, _ c: Matrix) throws {
        let (m, k) = transposeA ? (a.cols, a.rows) : (a.rows, a.cols)
        let (kb, n) = transposeB ? (b.cols, b.rows) : (b.rows, b.cols)
        try check(k == kb && c.rows == m && c.cols == n, "gemm",
                  "op(A) \(m)×\(k) · op(B) \(kb)×\(n) into C \(c.shape)")
        let ba = try buffer(a, "gemm"), bb = try buffer(b, "gemm"), bc = try buffer(c, "gemm")
        if m == 0 || n == 0 { return }
        if k == 0 { try scale(c, by: beta); return }
        let groups = [(m + tiling.tm - 1) / tiling.tm, (n + tiling.tn - 1) / tiling.tn]
        let local = tiling.groupSize
        try run("gemm", global: [groups[0] * local[0], groups[1] * local[1]], local: local, [
            .int(Int32(m)), .int(Int32(n)), .int(Int32(k)), .float(alpha),
            .buffer(ba), .int(Int32(max(1, a.rows))), .int(transposeA ? 1 : 0),
            .buffer(bb), .int(Int32(max(1, b.rows))), .int(transposeB ? 1 : 0),
            .float(beta), .buffer(bc), .int(Int32(max(1, c.rows))),
        ])
    }

    public func addBias(_ bias: Matrix, to z: Matrix) throws {
        try check(bias.rows == z.rows && bias.cols == 1, "addBias", "bias \(bias.shape) for Z \(z.shape)")
        try runElementwise("add_bias", count: z.count, [
            .int(Int32(z.rows)), .buffer(try buffer(bias, "addBias")),
            .buffer(try buffer(z, "addBias")),
        ])
    }

    public func sumColumns(_ m: Matrix, alpha: Float, beta: Float, into s: Matrix) throws {
        try check(s.rows == m.rows && s.cols == 1, "sumColumns", "sum \(s.shape) of \(m.shape)")
        try runElementwise("sum_columns", count: m.rows, [
            .int(Int32(m.rows)), .int(Int32(m.cols)), .float(alpha), .float(beta),
            .buffer(try buffer(m, "sumColumns")), .buffer(try buffer(s, "sumColumns")),
        ])
    }

    public func hadamard(_ a: Matrix, _ b: Matrix, into c: Matrix) throws {
        try sameShape("hadamard", a, b, c)
        try runElementwise("hadamard", count: c.count, [
            .buffer(try buffer(a, "hadamard")), .buffer(try buffer(b, "hadamard")),
            .buffer(try buffer(c, "hadamard")),
        ])
    }

    public func axpy(alpha: Float, _ x: Matrix, _ y: Matrix) throws {
        try sameShape("axpy", x, y)
        try runElementwise("axpy", count: y.count, [
            .float(alpha), .buffer(try buffer(x, "axpy")), .buffer(try buffer(y, "axpy")),
        ])
    }

    public func scale(_ x: Matrix, by alpha: Float) throws {
        try runElementwise("scale", count: x.count, [.buffer(try buffer(x, "scale")), .float(alpha)])
    }

    // MARK: Activations

    public func activate(_ activation: Activation, _ z: Matrix, into a: Matrix) throws {
        try sameShape("activate", z, a)
        let bz = try buffer(z, "activate"), ba = try buffer(a, "activate")
        if activation == .softmax {
            try runElementwise("softmax_forward", count: z.cols, [
                .int(Int32(z.rows)), .buffer(bz), .buffer(ba),
            ])
            return
        }
        if activation == .identity && bz === ba { return }
        let kernel = switch activation {
        case .identity, .softmax: "identity_forward"
        case .sigmoid: "sigmoid_forward"
        case .relu: "relu_forward"
        case .tanh: "tanh_forward"
        }
        try runElementwise(kernel, count: z.count, [.buffer(bz), .buffer(ba)])
    }

    public func activationBackward(_ activation: Activation, z: Matrix, a: Matrix, upstream: Matrix,
                                   into delta: Matrix) throws {
        try sameShape("activationBackward", z, a, upstream, delta)
        let bz = try buffer(z, "activationBackward"), ba = try buffer(a, "activationBackward")
        let bu = try buffer(upstream, "activationBackward"), bd = try buffer(delta, "activationBackward")
        switch activation {
        case .identity:
            if bu !== bd { try runElementwise("identity_backward", count: z.count, [.buffer(bu), .buffer(bd)]) }
        case .sigmoid:
            try runElementwise("sigmoid_backward", count: z.count, [.buffer(ba), .buffer(bu), .buffer(bd)])
        case .relu:
            try runElementwise("relu_backward", count: z.count, [.buffer(bz), .buffer(bu), .buffer(bd)])
        case .tanh:
            try runElementwise("tanh_backward", count: z.count, [.buffer(ba), .buffer(bu), .buffer(bd)])
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
        let bz = try buffer(z, "loss"), ba = try buffer(a, "loss"), by = try buffer(y, "loss")
        let bg = try buffer(gradient, "loss"), bs = try buffer(lossSum, "loss")
        let inv = 1 / Float(n)
        switch loss {
        case .squaredError:
            try runSingleGroup("squared_error", [
                .int(Int32(z.count)), .float(inv), .buffer(ba), .buffer(by), .buffer(bg), .buffer(bs),
            ])
        case .softmaxCrossEntropy:
            try runSingleGroup("softmax_cross_entropy", [
                .int(Int32(z.rows)), .int(Int32(z.cols)), .float(inv),
                .buffer(bz), .buffer(ba), .buffer(by), .buffer(bg), .buffer(bs),
            ])
        case .binaryCrossEntropy:
            try runSingleGroup("binary_cross_entropy", [
                .int(Int32(z.count)), .float(inv), .buffer(bz), .buffer(ba), .buffer(by), .buffer(bg), .buffer(bs),
            ])
        }
    }

    public func countCorrect(output: Matrix, targets: Matrix, into count: Matrix) throws {
        try sameShape("countCorrect", output, targets)
        guard output.rows > 0 else { return }
        try runSingleGroup("count_correct", [
            .int(Int32(output.rows)), .int(Int32(output.cols)), .buffer(try buffer(output, "countCorrect")),
            .buffer(try buffer(targets, "countCorrect")), .buffer(try buffer(count, "countCorrect")),
        ])
    }

    // MARK: Optimizers

    public func sgdStep(parameters: Matrix, gradient: Matrix, learningRate: Float, weightDecay: Float) throws {
        try sameShape("sgdStep", parameters, gradient)
        try runElementwise("sgd_step", count: parameters.count, [
            .float(learningRate), .float(weightDecay),
            .buffer(try buffer(parameters, "sgdStep")), .buffer(try buffer(gradient, "sgdStep")),
        ])
    }

    public func momentumStep(parameters: Matrix, gradient: Matrix, velocity: Matrix,
                             learningRate: Float, momentum: Float, weightDecay: Float) throws {
        try sameShape("momentumStep", parameters, gradient, velocity)
        try runElementwise("momentum_step", count: parameters.count, [
            .float(learningRate), .float(momentum), .float(weightDecay),
            .buffer(try buffer(parameters, "momentumStep")), .buffer(try buffer(gradient, "momentumStep")),
            .buffer(try buffer(velocity, "momentumStep")),
        ])
    }

    public func adamStep(parameters: Matrix, gradient: Matrix, m: Matrix, v: Matrix,
                         learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
                         step t: Int, weightDecay: Float) throws {
        try sameShape("adamStep", parameters, gradient, m, v)
        // The bias corrections, on the host in Float exactly as CPUBackend computes them.
        let c1 = 1 - powf(beta1, Float(t)), c2 = 1 - powf(beta2, Float(t))
        try runElementwise("adam_step", count: parameters.count, [
            .float(learningRate), .float(beta1), .float(beta2),
            .float(epsilon), .float(c1), .float(c2), .float(weightDecay),
            .buffer(try buffer(parameters, "adamStep")), .buffer(try buffer(gradient, "adamStep")),
            .buffer(try buffer(m, "adamStep")), .buffer(try buffer(v, "adamStep")),
        ])
    }

    // MARK: Data

    public func gatherColumns(_ source: Matrix, indices: IndexBuffer, offset: Int,
                              into destination: Matrix) throws {
        try check(source.rows == destination.rows && offset >= 0 && offset + destination.cols <= indices.count,
                  "gatherColumns", "source \(source.shape), destination \(destination.shape), "
                  + "indices \(offset)..<\(offset + destination.cols) of \(indices.count)")
        guard let s = indices.storage as? OpenCLStorage, s.context === context else {
            throw BackendError.foreignStorage(operation: "gatherColumns")
        }
        for k in s.indices[offset..<(offset + destination.cols)] {
            try check(k >= 0 && Int(k) < source.cols, "gatherColumns", "index \(k) out of 0..<\(source.cols)")
        }
        try runElementwise("gather_columns", count: destination.count, [
            .int(Int32(max(1, source.rows))),
            .buffer(try buffer(source, "gatherColumns")), .buffer(s.buffer), .int(Int32(offset)),
            .buffer(try buffer(destination, "gatherColumns")),
        ])
    }
}
