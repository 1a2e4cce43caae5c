/// Every Backend operation but GEMM, on both backends from identical inputs. The expected
/// values and bounds come from the kernels' formulas over ``Bounded`` operands, applied to the
/// same inputs in the same sequence (an output fed to the next operation carries its bound).
extension EquivalenceSuite {
    /// Every other Backend operation on `rows × cols` matrices.
    public mutating func operationChecks(rows r: Int, cols c: Int) throws -> [EquivalenceCheck] {
        let n = r * c, shape = "\(r)×\(c)"
        var checks: [EquivalenceCheck] = []
        let (xv, yv, biasv) = (random(n), random(n), random(r))
        let x = try pair(r, c, xv), y = try pair(r, c, yv), out = try pair(r, c, random(n))
        let bias = try pair(r, 1, biasv), sum = try pair(r, 1, random(r))
        let bx = xv.map(Bounded.init), by = yv.map(Bounded.init)

        try both { be, s in try be.fill(out[keyPath: s], with: 0.37) }
        var o = [Bounded](repeating: Bounded(Float(0.37)), count: n)
        checks.append(try compare("fill \(shape)", [out], expected: [o]))
        try both { be, s in try be.hadamard(x[keyPath: s], y[keyPath: s], into: out[keyPath: s]) }
        o = zip(bx, by).map(*)
        checks.append(try compare("hadamard \(shape)", [out], expected: [o]))
        try both { be, s in try be.axpy(alpha: -0.7, x[keyPath: s], out[keyPath: s]) }
        o = zip(bx, o).map { x, o in o + -0.7 * x }
        checks.append(try compare("axpy \(shape)", [out], expected: [o]))
        try both { be, s in try be.scale(out[keyPath: s], by: 0.5) }
        o = o.map { 0.5 * $0 }
        checks.append(try compare("scale \(shape)", [out], expected: [o]))
        try both { be, s in try be.addBias(bias[keyPath: s], to: out[keyPath: s]) }
        o = o.indices.map { o[$0] + Bounded(biasv[$0 % r]) }
        checks.append(try compare("addBias \(shape)", [out], expected: [o]))
        // s ← α·Σⱼ xⱼ + β·s: the row's c + 1 terms in any order.
        try both { be, s in try be.sumColumns(x[keyPath: s], alpha: 1, beta: 0, into: sum[keyPath: s]) }
        try both { be, s in try be.sumColumns(y[keyPath: s], alpha: 0.5, beta: 0.25, into: sum[keyPath: s]) }
        let s1 = (0..<r).map { i in Bounded.sum((0..<c).map { bx[i + $0 * r] }) }
        let s2 = (0..<r).map { i in Bounded.sum([0.25 * s1[i]] + (0..<c).map { 0.5 * by[i + $0 * r] }) }
        checks.append(try compare("sumColumns \(shape)", [sum], expected: [s2]))

        let zv = random(n, scale: 4)
        let z = try pair(r, c, zv), a = try pair(r, c, random(n)), d = try pair(r, c, random(n))
        let bz = zv.map(Bounded.init)
        for act in Activation.allCases {
            try both { be, s in try be.activate(act, z[keyPath: s], into: a[keyPath: s]) }
            let ba = Self.activate(act, bz, rows: r)
            checks.append(try compare("activate \(act.rawValue) \(shape)", [a], expected: [ba]))
            guard act != .softmax else { continue }
            try both { be, s in
                try be.activationBackward(act, z: z[keyPath: s], a: a[keyPath: s], upstream: y[keyPath: s],
                                          into: d[keyPath: s])
            }
            let bd = (0..<n).map { act.boundedBackward(upstream: by[$0], z: bz[$0], a: ba[$0]) }
            checks.append(try compare("activationBackward \(act.rawValue) \(shape)", [d], expected: [bd]))
        }

        checks += try lossChecks(rows: r, cols: c)
        checks += try optimizerChecks(rows: r, cols: c)
        checks.append(try gatherCheck(rows: r, cols: c))
        return checks
    }

    /// `σ(z)` over a `rows × n` batch (softmax per column).
    static func activate(_ activation: Activation, _ z: [Bounded], rows: Int) -> [Bounded] {
        guard activation == .softmax else { return z.map(activation.bounded) }
        return stride(from: 0, to: z.count, by: rows).flatMap { Activation.boundedSoftmax(Array(z[$0..<($0 + rows)])) }
    }

    mutating func lossChecks(rows r: Int, cols c: Int) throws -> [EquivalenceCheck] {
        var checks: [EquivalenceCheck] = []
        let zv = random(r * c, scale: 3)
        let z = try pair(r, c, zv), grad = try pair(r, c, random(r * c))
        for loss in Loss.allCases {
            let outputActivation = loss.requiredOutputActivation ?? .tanh
            var targets = [Float](repeating: 0, count: r * c)
            for j in 0..<c {
                switch loss {
                case .softmaxCrossEntropy: targets[j * r + Int(rng.next() % UInt64(r))] = 1
                case .binaryCrossEntropy: for i in 0..<r { targets[j * r + i] = Float(rng.nextUniform()) }
                case .squaredError: for i in 0..<r { targets[j * r + i] = Float(rng.nextUniform() * 2 - 1) }
                }
            }
            let y = try pair(r, c, targets), a = try pair(r, c, random(r * c))
            let lossSum = try pair(1, 1, [1.5]), correct = try pair(1, 1, [2])
            let meanOver = max(1, c - 1)
            try both { be, s in
                try be.activate(outputActivation, z[keyPath: s], into: a[keyPath: s])
                try be.lossAndGradient(loss, z: z[keyPath: s], a: a[keyPath: s], targets: y[keyPath: s],
                                       meanOver: meanOver, gradient: grad[keyPath: s], lossSum: lossSum[keyPath: s])
                try be.countCorrect(output: a[keyPath: s], targets: y[keyPath: s], into: correct[keyPath: s])
            }
            let bz = zv.map(Bounded.init), ba = Self.activate(outputActivation, bz, rows: r)
            let total = Bounded(Float(1.5)) + loss.boundedSum(z: bz, a: ba, targets: targets, classes: r)
            let gradient = ba.indices.map { Loss.boundedGradient(a: ba[$0], target: targets[$0], meanOver: meanOver) }
            checks.append(try compare("loss \(loss.rawValue) \(r)×\(c)", [lossSum, grad], expected: [[total], gradient]))
            let ambiguous = Self.ambiguousColumns(ba, targets: targets, rows: r)
            checks.append(EquivalenceCheck(name: "countCorrect \(loss.rawValue) \(r)×\(c)",
                                           values: try backend.download(correct.test),
                                           reference: try reference.download(correct.ref), bounds: [Double(ambiguous)]))
        }
        return checks
    }

    /// Columns whose predicted class two float32 evaluations may disagree on: the top two
    /// outputs within their bounds of each other, or a single output within its bound of ½.
    static func ambiguousColumns(_ a: [Bounded], targets: [Float], rows: Int) -> Int {
        stride(from: 0, to: a.count, by: rows).filter { start in
            let column = a[start..<(start + rows)]
            if rows == 1 { return abs(column[start].value - 0.5) <= column[start].error }
            let sorted = column.sorted { $0.value > $1.value }
            return sorted[0].value - sorted[1].value <= sorted[0].error + sorted[1].error
        }.count
    }

    mutating func optimizerChecks(rows r: Int, cols c: Int) throws -> [EquivalenceCheck] {
        let n = r * c
        let (pv, gv, qv, wv) = (random(n), random(n), random(n), random(n))
        let p = try pair(r, c, pv), g = try pair(r, c, gv)
        let m = try pair(r, c, [Float](repeating: 0, count: n)), v = try pair(r, c, [Float](repeating: 0, count: n))
        let q = try pair(r, c, qv), vel = try pair(r, c, [Float](repeating: 0, count: n))
        let w = try pair(r, c, wv)
        var sgd = wv.map { OptimizerState(parameter: Bounded($0)) }
        var momentum = qv.map { OptimizerState(parameter: Bounded($0)) }
        var adam = pv.map { OptimizerState(parameter: Bounded($0)) }
        for t in 1...3 {
            try both { be, s in
                try be.sgdStep(parameters: w[keyPath: s], gradient: g[keyPath: s], learningRate: 0.1, weightDecay: 1e-3)
                try be.momentumStep(parameters: q[keyPath: s], gradient: g[keyPath: s], velocity: vel[keyPath: s],
                                    learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4)
                try be.adamStep(parameters: p[keyPath: s], gradient: g[keyPath: s], m: m[keyPath: s], v: v[keyPath: s],
                                learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: t, weightDecay: 1e-4)
            }
            for i in 0..<n {
                let gi = Bounded(gv[i])
                sgd[i].sgd(gradient: gi, learningRate: 0.1, weightDecay: 1e-3)
                momentum[i].momentum(gradient: gi, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4)
                adam[i].adam(gradient: gi, learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: t,
                             weightDecay: 1e-4)
            }
        }
        return [
            try compare("sgdStep ×3 \(r)×\(c)", [w], expected: [sgd.map(\.parameter)]),
            try compare("momentumStep ×3 \(r)×\(c)", [q, vel], expected: [momentum.map(\.parameter), momentum.map(\.first)]),
            try compare("adamStep ×3 \(r)×\(c)", [p, m, v],
                        expected: [adam.map(\.parameter), adam.map(\.first), adam.map(\.second)]),
        ]
    }

    mutating func gatherCheck(rows r: Int, cols c: Int) throws -> EquivalenceCheck {
        let sourceCols = c + 5, offset = 2
        let source = try pair(r, sourceCols, random(r * sourceCols)), dest = try pair(r, c, random(r * c))
        let order = rng.permutation(sourceCols)
        let indices = (0..<(c + offset)).map { order[$0 % sourceCols] }
        let testIndices = try backend.makeIndexBuffer(count: indices.count)
        let refIndices = try reference.makeIndexBuffer(count: indices.count)
        try indices.withUnsafeBufferPointer {
            try backend.upload($0, to: testIndices)
            try reference.upload($0, to: refIndices)
        }
        try backend.gatherColumns(source.test, indices: testIndices, offset: offset, into: dest.test)
        try reference.gatherColumns(source.ref, indices: refIndices, offset: offset, into: dest.ref)
        return try compare("gatherColumns \(r)×\(c)", [dest], expected: [[Bounded](repeating: .zero, count: r * c)])
    }
}
