/// Whole networks and short training runs, compared between two backends.
extension EquivalenceSuite {
    /// Random networks of depth 1–4 with every hidden activation and every loss, at several
    /// widths and the given batch sizes: loss, outputs and every parameter gradient, against the
    /// reference backend and against the Double oracle (two checks per network).
    public mutating func networkChecks(batchSizes: [Int] = [1, 13, 128]) throws -> [EquivalenceCheck] {
        var checks: [EquivalenceCheck] = []
        let widths = [7, 33, 129, 16, 1]
        var index = 0
        for depth in 1...4 {
            for loss in Loss.allCases {
                let inputs = [785, 33, 7][index % 3]
                let outputs = loss == .softmaxCrossEntropy ? [10, 3][index % 2] : [1, 4][index % 2]
                let hidden = (0..<(depth - 1)).map { widths[(index + $0) % widths.count] }
                let activations = (0..<(depth - 1)).map { Activation.hidden[(index + $0) % Activation.hidden.count] }
                let output = loss.requiredOutputActivation ?? [.sigmoid, .identity, .tanh][depth % 3]
                let architecture = try Architecture(sizes: [inputs] + hidden + [outputs],
                                                    activations: activations + [output], loss: loss)
                let batch = batchSizes[(index + depth) % batchSizes.count]
                checks += try networkCheck(architecture, batch: batch, seed: UInt64(100 + index))
                index += 1
            }
        }
        return checks
    }

    /// One network on both backends from the same parameters (random biases included) and batch,
    /// compared with each other, and the backend under test compared with the Double oracle.
    public mutating func networkCheck(_ architecture: Architecture, batch n: Int, seed: UInt64) throws -> [EquivalenceCheck] {
        let test = try Network(backend: backend, architecture: architecture, seed: seed)
        let ref = try Network(backend: reference, architecture: architecture, seed: seed)
        var parameters = try ref.parameters()
        for l in parameters.indices { parameters[l].bias = random(parameters[l].bias.count, scale: 0.5) }
        try test.setParameters(parameters)
        try ref.setParameters(parameters)

        let inputs = random(architecture.sizes[0] * n)
        let outputs = architecture.sizes[architecture.sizes.count - 1]
        var targets = [Float](repeating: 0, count: outputs * n)
        for j in 0..<n {
            if architecture.loss == .softmaxCrossEntropy {
                targets[j * outputs + Int(rng.next() % UInt64(outputs))] = 1
            } else {
                for i in 0..<outputs { targets[j * outputs + i] = Float(rng.nextUniform()) }
            }
        }
        let t = try test.lossAndGradients(inputs: inputs, targets: targets, count: n)
        let r = try ref.lossAndGradients(inputs: inputs, targets: targets, count: n)
        var worst = max(relativeDifference([Float(t.loss)], [Float(r.loss)]), relativeDifference(t.output, r.output))
        for (gt, gr) in zip(t.gradients, r.gradients) {
            worst = max(worst, relativeDifference(gt.weight, gr.weight), relativeDifference(gt.bias, gr.bias))
        }
        let exact = DoubleOracle.lossAndGradients(architecture, parameters, inputs: inputs, targets: targets, count: n)
        var oracleError = max(relativeDifference([Float(t.loss)], [exact.loss]),
                              relativeDifference(t.output, exact.output))
        for (l, g) in t.gradients.enumerated() {
            oracleError = max(oracleError, relativeDifference(g.weight, exact.weightGradients[l]),
                              relativeDifference(g.bias, exact.biasGradients[l]))
        }
        let name = "network \(architecture), batch \(n)"
        return [EquivalenceCheck(name: name, error: worst, tolerance: Self.networkTolerance),
                EquivalenceCheck(name: name + " vs Double", error: oracleError, tolerance: Self.oracleTolerance)]
    }

    /// Float32 against exact (Double) arithmetic: each result carries its own rounding, not only
    /// the difference of two orders of summation, and a bias gradient Σ δ over a batch may cancel
    /// to a small sum whose relative error is larger: 1e-4.
    public static let oracleTolerance = 1e-4

    /// 50 training steps with each optimizer on both backends; the loss curves must agree to
    /// 1e-4 relative at every step (rounding differences grow slowly as parameters diverge).
    public func trainingChecks(steps: Int = 50) throws -> [EquivalenceCheck] {
        let architecture = try Architecture(inputs: 20, hidden: [33, 16], outputs: 4, activation: .tanh)
        return try CheckOptimizer.allCases.map { optimizer in
            let t = try Self.trainingCurve(backend: backend, architecture: architecture, optimizer: optimizer, steps: steps)
            let r = try Self.trainingCurve(backend: reference, architecture: architecture, optimizer: optimizer, steps: steps)
            let worst = zip(t, r).map { abs($0 - $1) / max(abs($1), 1e-30) }.max() ?? .infinity
            return EquivalenceCheck(name: "\(steps) training steps, \(optimizer), \(architecture)",
                                    error: t.count == r.count ? worst : .infinity, tolerance: Self.trainingTolerance)
        }
    }

    /// The relative difference allowed between the two loss curves at every step of
    /// ``trainingChecks(steps:)``: 1e-4.
    public static let trainingTolerance = 1e-4

    /// The update rule of a training curve, with the check's fixed hyperparameters.
    public enum CheckOptimizer: String, CaseIterable, Sendable {
        /// SGD (`η = 0.1`), momentum (`η = 0.05`, `μ = 0.9`), Adam (`η = 0.01`, `β = 0.9, 0.999`);
        /// all with `λ = 1e-4`.
        case sgd, momentum, adam
    }

    /// The loss of each of `steps` minibatch steps on a seeded synthetic classification set that
    /// lives on the device: gather, forward, loss, backward, update — only the Backend protocol.
    public static func trainingCurve(backend: any Backend, architecture: Architecture, optimizer: CheckOptimizer,
                                     steps: Int, batchSize: Int = 32, samples: Int = 200, seed: UInt64 = 7) throws -> [Double] {
        var rng = SeededGenerator(seed: seed)
        let inputs = architecture.sizes[0], classes = architecture.sizes[architecture.sizes.count - 1]
        let teacher = (0..<(inputs * classes)).map { _ in rng.nextNormal() }
        var x = [Float](), y = [Float](repeating: 0, count: classes * samples)
        for j in 0..<samples {
            let sample = (0..<inputs).map { _ in rng.nextNormal() }
            x += sample.map(Float.init)
            let scores = (0..<classes).map { c in (0..<inputs).reduce(0.0) { $0 + teacher[c * inputs + $1] * sample[$1] } }
            y[j * classes + (scores.indices.max { scores[$0] < scores[$1] } ?? 0)] = 1
        }
        let dataX = try backend.makeMatrix(rows: inputs, cols: samples, values: x)
        let dataY = try backend.makeMatrix(rows: classes, cols: samples, values: y)
        var order: [Int32] = []
        while order.count < steps * batchSize { order += rng.permutation(samples) }
        let indices = try backend.makeIndexBuffer(count: order.count)
        try order.withUnsafeBufferPointer { try backend.upload($0, to: indices) }

        let network = try Network(backend: backend, architecture: architecture, seed: seed)
        let ws = try Workspace(backend: backend, architecture: architecture, batchSize: batchSize)
        let parameters = network.layers.flatMap { [($0.weight, $0.weightGradient), ($0.bias, $0.biasGradient)] }
        let state = try parameters.map { p, _ in
            (try backend.makeMatrix(rows: p.rows, cols: p.cols), try backend.makeMatrix(rows: p.rows, cols: p.cols))
        }
        var curve: [Double] = []
        for step in 0..<steps {
            try backend.gatherColumns(dataX, indices: indices, offset: step * batchSize, into: ws.input)
            try backend.gatherColumns(dataY, indices: indices, offset: step * batchSize, into: ws.target)
            try network.forward(ws, count: batchSize)
            try backend.fill(ws.lossSum, with: 0)
            try network.backward(ws, count: batchSize)
            for ((p, g), (s1, s2)) in zip(parameters, state) {
                switch optimizer {
                case .sgd: try backend.sgdStep(parameters: p, gradient: g, learningRate: 0.1, weightDecay: 1e-4)
                case .momentum:
                    try backend.momentumStep(parameters: p, gradient: g, velocity: s1, learningRate: 0.05,
                                             momentum: 0.9, weightDecay: 1e-4)
                case .adam:
                    try backend.adamStep(parameters: p, gradient: g, m: s1, v: s2, learningRate: 0.01, beta1: 0.9,
                                         beta2: 0.999, epsilon: 1e-8, step: step + 1, weightDecay: 1e-4)
                }
            }
            curve.append(Double(try backend.scalar(ws.lossSum)) / Double(batchSize))
        }
        return curve
    }
}
