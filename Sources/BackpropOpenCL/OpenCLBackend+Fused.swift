import BackpropCore
import Foundation

/// The epilogues of `Kernels/gemm.cl` (its `GEMM_PLAIN` …).
enum GemmEpilogue: Int32 {
    case plain = 0, biasActivation = 1, derivative = 2, ones = 3
}

/// The activation codes of `Kernels/activations.cl` (`ACT_IDENTITY` …).
enum ActivationCode: Int32 {
    case identity = 0, sigmoid = 1, relu = 2, tanh = 3, none = 4

    /// The elementwise σ; nil for softmax, which normalizes columns.
    init?(_ activation: Activation) {
        switch activation {
        case .identity: self = .identity
        case .sigmoid: self = .sigmoid
        case .relu: self = .relu
        case .tanh: self = .tanh
        case .softmax: return nil
        }
    }
}

// The fused layer passes: each one launch (softmax outputs: one more), the bias, σ and σ'
// applied in the GEMM's store and ∂b computed by the same product as ∂W.
extension OpenCLBackend {
    // MARK: Views

    /// `CL_DEVICE_MEM_BASE_ADDR_ALIGN` in floats (at least 16): where a sub-buffer may start.
    public var viewAlignment: Int? { baseAlignment }

    /// A sub-buffer of `storage`; throws `shapeMismatch` when it does not fit or is misaligned.
    public func view(of storage: OpenCLStorage, offset: Int, count: Int) throws -> OpenCLStorage {
        guard offset >= 0, count > 0, offset + count <= storage.capacity, offset % baseAlignment == 0 else {
            throw BackendError.shapeMismatch(operation: "view", detail: "\(count) floats at \(offset) of \(storage.capacity)")
        }
        return try OpenCLStorage(viewOf: storage, offset: offset, count: count)
    }

    // MARK: GEMMs with epilogues

    /// One product `C ← op(A)·op(B)` (`m × n`, inner `k`) with its epilogue operands, as the
    /// arguments one problem takes in `gemm` (with α = 1, β = 0) or `gemm2`.
    struct Product {
        var m: Int, n: Int, k: Int
        var a: CL, transposeA: Bool, b: CL, transposeB: Bool, c: CL
        var epilogue: GemmEpilogue, activation: ActivationCode, p: CLBuffer, q: CLBuffer

        var arguments: [KernelArgument] {
            [.int(Int32(m)), .int(Int32(n)), .int(Int32(k)),
             .buffer(a.buffer), .int(Int32(max(1, a.rows))), .int(transposeA ? 1 : 0),
             .buffer(b.buffer), .int(Int32(max(1, b.rows))), .int(transposeB ? 1 : 0),
             .buffer(c.buffer), .int(Int32(max(1, c.rows))),
             .int(epilogue.rawValue), .int(activation.rawValue), .buffer(p), .buffer(q)]
        }
    }

    /// One launch of `gemm` for `product`.
    func run(_ product: Product) throws {
        // Tuned by shape class (or forced by the tuner) as a plain product is.
        let index = tilingIndex(m: product.m, n: product.n, k: product.k,
                                transposeA: product.transposeA, transposeB: product.transposeB)
        let tiling = tilings[index], local = tiling.groupSize
        let groups = [(product.m + tiling.tm - 1) / tiling.tm, (product.n + tiling.tn - 1) / tiling.tn]
        var arguments = product.arguments
        arguments.insert(.float(1), at: 3)             // α
        arguments.insert(.float(0), at: 10)            // β, before C
        try runGemm(tiling: index, global: [groups[0] * local[0], groups[1] * local[1]], local: local, arguments)
    }

    /// One launch of `gemm2` for two products: the tiling that gives their work-groups together
    /// at least two per compute unit (or the most), the first product's groups first.
    func run(_ first: Product, _ second: Product) throws {
        let total = { (t: GemmTiling) in t.groups(m: first.m, n: first.n) + t.groups(m: second.m, n: second.n) }
        // The tuner's forced tiling, else among the family (tuning is per single product).
        let family = tilings.prefix(familyCount)
        let index = forcedTiling ?? family.firstIndex { total($0) >= 2 * device.computeUnits }
            ?? family.indices.max { total(tilings[$0]) < total(tilings[$1]) } ?? 0
        let tiling = tilings[index], local = tiling.groupSize
        let g0m = (first.m + tiling.tm - 1) / tiling.tm, g1m = (second.m + tiling.tm - 1) / tiling.tm
        let groups0 = tiling.groups(m: first.m, n: first.n)
        let groups = groups0 + tiling.groups(m: second.m, n: second.n)
        try runGemm2(tiling: index, global: [groups * local[0], local[1]], local: local,
                     [.int(Int32(groups0)), .int(Int32(g0m)), .int(Int32(g1m))] + first.arguments + second.arguments)
    }

    // MARK: Fused layer passes

    /// One GEMM launch: `Z = W·A + b` and `σ(Z)` stored together (softmax: then `softmax_forward`).
    public func denseForward(weight: CL, bias: CL, input: CL, activation: Activation, z: CL, activated: CL?) throws {
        let code = ActivationCode(activation)
        try run(Product(m: z.rows, n: z.cols, k: weight.cols, a: weight, transposeA: false, b: input, transposeB: false,
                        c: z, epilogue: .biasActivation, activation: activated == nil ? .none : code ?? .none,
                        p: bias.buffer, q: (activated ?? z).buffer))
        if code == nil, let activated {
            try runElementwise(.softmaxForward, count: z.cols, [.int(Int32(z.rows)), .buffer(z.buffer), .buffer(activated.buffer)])
        }
    }

    /// `δˡ·Aᵀ` in one GEMM launch; `op(B)` gets a virtual column of ones whose product, `Σⱼ δ`,
    /// the epilogue stores to `∂b`.
    public func parameterGradients(delta: CL, input: CL, weightGradient: CL, biasGradient: CL) throws {
        try run(gradientProduct(delta: delta, input: input, weightGradient: weightGradient, biasGradient: biasGradient))
    }

    /// `Wᵀ·δ` in one GEMM launch, `⊙ σ'(z)` applied in its store.
    public func backpropagate(weight: CL, delta: CL, activation: Activation, z: CL, a: CL, into below: CL) throws {
        try run(deltaProduct(weight: weight, delta: delta, activation: activation, z: z, a: a, below: below))
    }

    /// Both products of a layer's backward pass in one `gemm2` launch.
    public func layerBackward(weight: CL, delta: CL, input: CL, weightGradient: CL, biasGradient: CL,
                              activation: Activation, z: CL, into below: CL) throws {
        try run(gradientProduct(delta: delta, input: input, weightGradient: weightGradient, biasGradient: biasGradient),
                deltaProduct(weight: weight, delta: delta, activation: activation, z: z, a: input, below: below))
    }

    private func gradientProduct(delta: CL, input: CL, weightGradient: CL, biasGradient: CL) -> Product {
        Product(m: delta.rows, n: input.rows + 1, k: delta.cols, a: delta, transposeA: false, b: input, transposeB: true,
                c: weightGradient, epilogue: .ones, activation: .none, p: biasGradient.buffer, q: biasGradient.buffer)
    }

    private func deltaProduct(weight: CL, delta: CL, activation: Activation, z: CL, a: CL, below: CL) -> Product {
        Product(m: weight.cols, n: delta.cols, k: weight.rows, a: weight, transposeA: true, b: delta, transposeB: false,
                c: below, epilogue: .derivative, activation: ActivationCode(activation) ?? .identity,
                p: z.buffer, q: a.buffer)
    }

    /// One work-group (`output_loss`): σ, loss, `δᴸ` and the correct count, column by column.
    public func outputLoss(_ loss: Loss, activation: Activation, z: CL, a: CL, activate: Bool, targets y: CL,
                           meanOver n: Int, gradient: CL, lossSum: CL, correct: CL?) throws {
        let kind: Int32 = switch loss {
        case .squaredError: 0
        case .softmaxCrossEntropy: 1
        case .binaryCrossEntropy: 2
        }
        try runSingleGroup(.outputLoss, [
            .int(kind), .int((ActivationCode(activation) ?? .identity).rawValue), .int(activate ? 1 : 0),
            .int(Int32(z.rows)), .int(Int32(z.cols)), .float(1 / Float(n)), .buffer(z.buffer), .buffer(a.buffer),
            .buffer(y.buffer), .buffer(gradient.buffer), .buffer(lossSum.buffer), .int(correct == nil ? 0 : 1),
            .buffer((correct ?? lossSum).buffer),
        ])
    }

    /// One launch over the whole buffer, weight decay on the one range given (none: `λ` unused);
    /// several ranges fall back to one launch per run.
    public func updateParameters(_ rule: UpdateRule, parameters: CL, gradient: CL, first: CL?, second: CL?,
                                 decayed: [Range<Int>]) throws {
        guard decayed.count <= 1 else {
            try updateParametersByRuns(rule, parameters: parameters, gradient: gradient, first: first, second: second,
                                       decayed: decayed)
            return
        }
        let range = decayed.first ?? 0..<0
        let (start, end) = (Int32(clamping: range.lowerBound), Int32(clamping: range.upperBound))
        let p = parameters.buffer, g = gradient.buffer, count = parameters.count
        switch rule {
        case let .sgd(lr, wd):
            try runElementwise(.sgdStep, count: count, [.float(lr), .float(wd), .int(start), .int(end), .buffer(p), .buffer(g)])
        case let .momentum(lr, mu, wd):
            guard let v = first?.buffer else { throw BackendError.unsupported(operation: "updateParameters", detail: "momentum needs a velocity") }
            try runElementwise(.momentumStep, count: count, [
                .float(lr), .float(mu), .float(wd), .int(start), .int(end), .buffer(p), .buffer(g), .buffer(v),
            ])
        case let .adam(lr, b1, b2, eps, c1, c2, wd):
            guard let m = first?.buffer, let v = second?.buffer else {
                throw BackendError.unsupported(operation: "updateParameters", detail: "Adam needs two moments")
            }
            try runElementwise(.adamStep, count: count, [
                .float(lr), .float(b1), .float(b2), .float(eps), .float(c1), .float(c2), .float(wd), .int(start), .int(end),
                .buffer(p), .buffer(g), .buffer(m), .buffer(v),
            ])
        }
    }
}
