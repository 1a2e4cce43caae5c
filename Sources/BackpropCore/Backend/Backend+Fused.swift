// Default implementations of the optional requirements: views (none), and the fused layer
// passes built from the backend's own primitive operations. A backend that implements only the
// primitives (a test's, a new one) trains correctly with these; the CPU and OpenCL backends
// override them to make one pass over memory, or one kernel launch, of each.
extension Backend {
    /// No views: parameters get one buffer per tensor.
    public var viewAlignment: Int? { nil }

    /// Never called while ``viewAlignment`` is nil; throws `unsupported` if it is.
    public func view(of storage: Storage, offset: Int, count: Int) throws -> Storage {
        throw BackendError.unsupported(operation: "view", detail: "\(name) makes no views of its buffers")
    }

    /// `gemm`, `addBias`, then `activate` when `activated` is given.
    public func denseForward(weight: Operand<Storage>, bias: Operand<Storage>, input: Operand<Storage>,
                             activation: Activation, z: Operand<Storage>, activated: Operand<Storage>?) throws {
        try gemm(transposeA: false, transposeB: false, alpha: 1, weight, input, beta: 0, z)
        try addBias(bias, to: z)
        if let activated { try activate(activation, z, into: activated) }
    }

    /// `gemm` (`δ·Aᵀ`), then `sumColumns`.
    public func parameterGradients(delta: Operand<Storage>, input: Operand<Storage>,
                                   weightGradient: Operand<Storage>, biasGradient: Operand<Storage>) throws {
        try gemm(transposeA: false, transposeB: true, alpha: 1, delta, input, beta: 0, weightGradient)
        try sumColumns(delta, alpha: 1, beta: 0, into: biasGradient)
    }

    /// `gemm` (`Wᵀ·δ`), then `activationBackward` in place.
    public func backpropagate(weight: Operand<Storage>, delta: Operand<Storage>, activation: Activation,
                              z: Operand<Storage>, a: Operand<Storage>, into below: Operand<Storage>) throws {
        try gemm(transposeA: true, transposeB: false, alpha: 1, weight, delta, beta: 0, below)
        try activationBackward(activation, z: z, a: a, upstream: below, into: below)
    }

    /// `parameterGradients`, then `backpropagate` (`input` is the layer below's `a`).
    public func layerBackward(weight: Operand<Storage>, delta: Operand<Storage>, input: Operand<Storage>,
                              weightGradient: Operand<Storage>, biasGradient: Operand<Storage>, activation: Activation,
                              z: Operand<Storage>, into below: Operand<Storage>) throws {
        try parameterGradients(delta: delta, input: input, weightGradient: weightGradient, biasGradient: biasGradient)
        try backpropagate(weight: weight, delta: delta, activation: activation, z: z, a: input, into: below)
    }

    /// `activate`, `lossAndGradient`, `activationBackward` (squared error only) and `countCorrect`.
    public func outputLoss(_ loss: Loss, activation: Activation, z: Operand<Storage>, a: Operand<Storage>,
                           activate: Bool, targets y: Operand<Storage>, meanOver n: Int, gradient: Operand<Storage>,
                           lossSum: Operand<Storage>, correct: Operand<Storage>?) throws {
        if activate { try self.activate(activation, z, into: a) }
        try lossAndGradient(loss, z: z, a: a, targets: y, meanOver: n, gradient: gradient, lossSum: lossSum)
        if !loss.fusesOutputDerivative {
            try activationBackward(activation, z: z, a: a, upstream: gradient, into: gradient)
        }
        if let correct { try countCorrect(output: a, targets: y, into: correct) }
    }

    /// One `sgdStep`/`momentumStep`/`adamStep` per run of elements with the same decay, on
    /// views; the runs must start at multiples of ``viewAlignment``.
    public func updateParameters(_ rule: UpdateRule, parameters: Operand<Storage>, gradient: Operand<Storage>,
                                 first: Operand<Storage>?, second: Operand<Storage>?, decayed: [Range<Int>]) throws {
        try updateParametersByRuns(rule, parameters: parameters, gradient: gradient, first: first, second: second,
                                   decayed: decayed)
    }

    /// The default ``updateParameters(_:parameters:gradient:first:second:decayed:)``, by name, for
    /// a backend that overrides it to fall back on.
    public func updateParametersByRuns(_ rule: UpdateRule, parameters: Operand<Storage>, gradient: Operand<Storage>,
                                       first: Operand<Storage>?, second: Operand<Storage>?, decayed: [Range<Int>]) throws {
        for (run, decays) in decayRuns(count: parameters.count, decayed: decayed) {
            func part(_ o: Operand<Storage>) throws -> Operand<Storage> {
                if run == 0..<o.count { return o }
                guard let align = viewAlignment, run.lowerBound % align == 0 else {
                    throw BackendError.unsupported(operation: "updateParameters",
                                                   detail: "elements \(run) do not start a view of \(name)")
                }
                return Operand(rows: run.count, cols: 1, storage: try view(of: o.storage, offset: run.lowerBound, count: run.count))
            }
            let p = try part(parameters), g = try part(gradient)
            let wd = decays ? rule.weightDecay : 0
            switch rule {
            case let .sgd(lr, _):
                try sgdStep(parameters: p, gradient: g, learningRate: lr, weightDecay: wd)
            case let .momentum(lr, mu, _):
                guard let first else { throw BackendError.unsupported(operation: "updateParameters", detail: "momentum needs a velocity") }
                try momentumStep(parameters: p, gradient: g, velocity: try part(first), learningRate: lr,
                                 momentum: mu, weightDecay: wd)
            case let .adam(lr, b1, b2, eps, c1, c2, _):
                guard let first, let second else {
                    throw BackendError.unsupported(operation: "updateParameters", detail: "Adam needs two moments")
                }
                try adamStep(parameters: p, gradient: g, m: try part(first), v: try part(second), learningRate: lr,
                             beta1: b1, beta2: b2, epsilon: eps, corrections: c1, c2, weightDecay: wd)
            }
        }
    }
}

/// `0 ..< count` cut into runs that alternate between outside and inside `decayed` (sorted,
/// disjoint), each with whether weight decay applies; empty runs left out.
public func decayRuns(count: Int, decayed: [Range<Int>]) -> [(Range<Int>, Bool)] {
    var runs: [(Range<Int>, Bool)] = []
    var start = 0
    for r in decayed {
        if r.lowerBound > start { runs.append((start..<r.lowerBound, false)) }
        if !r.isEmpty { runs.append((r, true)) }
        start = r.upperBound
    }
    if start < count { runs.append((start..<count, false)) }
    return runs
}
