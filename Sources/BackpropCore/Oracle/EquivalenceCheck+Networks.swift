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
        let exact = DoubleOracle.lossAndGradients(architecture, parameters, inputs: inputs, targets: targets, count: n)
        let name = "network \(architecture), batch \(n)"
        let expected = Self.flatten(loss: exact.loss, output: exact.output, weights: exact.weightGradients,
                                    biases: exact.biasGradients)
        let values = Self.flatten(loss: t.loss, output: t.output.map(Double.init),
                                  weights: t.gradients.map { $0.weight.map(Double.init) },
                                  biases: t.gradients.map { $0.bias.map(Double.init) })
        let refValues = Self.flatten(loss: r.loss, output: r.output.map(Double.init),
                                     weights: r.gradients.map { $0.weight.map(Double.init) },
                                     biases: r.gradients.map { $0.bias.map(Double.init) })
        return [EquivalenceCheck(name: name, values: values, reference: refValues, bounds: expected.map { 2 * $0.error }),
                EquivalenceCheck(name: name + " vs Double", values: values, reference: expected.map(\.value),
                                 bounds: expected.map(\.error))]
    }

    /// Loss, outputs, then every layer's weight and bias gradients, as one vector.
    static func flatten<T>(loss: T, output: [T], weights: [[T]], biases: [[T]]) -> [T] {
        [loss] + output + zip(weights, biases).flatMap { $0 + $1 }
    }
}

extension EquivalenceSuite {
    /// A short run for slow devices and simulators (Oclgrind): every operation at sizes 1, 7, 33
    /// and 130 (edge tiles and, for 128-wide tiles, a full one), two small networks and three
    /// training steps per optimizer. `operationSizes` replaces 1, 7, 33, 130 (fewer or smaller
    /// sizes for a simulator that must finish in minutes).
    public mutating func quickChecks(operationSizes: [Int] = [1, 7, 33, 130]) throws -> [EquivalenceCheck] {
        sizes = operationSizes
        var checks = try allOperationChecks()
        checks += try networkCheck(Architecture(sizes: [33, 16, 10], activations: [.relu, .softmax], loss: .softmaxCrossEntropy),
                                   batch: 13, seed: 1)
        checks += try networkCheck(Architecture(sizes: [7, 33, 1], activations: [.tanh, .sigmoid], loss: .binaryCrossEntropy),
                                   batch: 5, seed: 2)
        return checks + (try trainingChecks(steps: 3))
    }
}
