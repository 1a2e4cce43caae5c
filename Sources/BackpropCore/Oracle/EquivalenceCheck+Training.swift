import Foundation

/// Short training runs on a synthetic task that lives on the device, compared between backends.
extension EquivalenceSuite {
    public enum CheckOptimizer: String, CaseIterable, Sendable {
        case sgd, momentum, adam

        /// The rule as the library's ``Optimizer`` runs it in these checks.
        var configuration: OptimizerConfiguration {
            switch self {
            case .sgd: OptimizerConfiguration(kind: .sgd, learningRate: 0.1, weightDecay: 1e-4)
            case .momentum: OptimizerConfiguration(kind: .momentum, learningRate: 0.05, weightDecay: 1e-4)
            case .adam: OptimizerConfiguration(kind: .adam, learningRate: 0.01, weightDecay: 1e-4)
            }
        }

        /// The same update by the kernels' formula, with its float32 bound; `decays` is false for
        /// a bias (the library decays weights only).
        func step(_ state: inout OptimizerState, gradient g: Bounded, t: Int, decays: Bool) {
            let c = configuration, decay = decays ? c.weightDecay : 0
            switch self {
            case .sgd: state.sgd(gradient: g, learningRate: c.learningRate, weightDecay: decay)
            case .momentum:
                state.momentum(gradient: g, learningRate: c.learningRate, momentum: c.momentum, weightDecay: decay)
            case .adam:
                state.adam(gradient: g, learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2,
                           epsilon: c.epsilon, step: t, weightDecay: decay)
            }
        }
    }

    /// `steps` minibatch steps (gather, forward, loss, backward, update) with each optimizer on
    /// both backends. Before each step the backend under test takes the reference's parameters
    /// and optimizer state, so every step starts from identical state and its loss, updated
    /// parameters and updated state are held to the bound of one step: the network's bound
    /// (`DoubleOracle`) carried through the optimizer's formula. (Free-running curves drift
    /// apart at a rate set by the training dynamics, which no rounding bound describes.)
    public func trainingChecks(steps: Int = 50) throws -> [EquivalenceCheck] {
        let architecture = try Architecture(inputs: 20, hidden: [33, 16], outputs: 4, activation: .tanh)
        let task = SyntheticTask(architecture: architecture)
        return try CheckOptimizer.allCases.map { optimizer in
            let test = try TrainingRun(backend: backend, task: task, optimizer: optimizer, steps: steps)
            let ref = try TrainingRun(backend: reference, task: task, optimizer: optimizer, steps: steps)
            let name = "\(steps) training steps, \(optimizer), \(architecture), each from the same state"
            var worst = EquivalenceCheck(name: name, difference: 0, bound: 0, slack: 0)
            for t in 0..<steps {
                let start = try ref.state()
                try test.setState(start, step: t)
                let parameters = try ref.network.parameters()
                let batch = task.batch(t, size: ref.batchSize)
                let exact = DoubleOracle.lossAndGradients(architecture, parameters, inputs: batch.x, targets: batch.y,
                                                          count: ref.batchSize)
                let gradients = zip(exact.weightGradients, exact.biasGradients).flatMap { [$0, $1] }
                var parameterBounds: [Bounded] = [], firstBounds: [Bounded] = [], secondBounds: [Bounded] = []
                for (k, (values, g)) in zip(start, gradients).enumerated() {
                    let states = values.parameter.indices.map { i in
                        var s = OptimizerState(parameter: Bounded(values.parameter[i]), first: Bounded(values.first[i]),
                                               second: Bounded(values.second[i]))
                        optimizer.step(&s, gradient: g[i], t: t + 1, decays: k % 2 == 0)  // weight, bias, weight, …
                        return s
                    }
                    parameterBounds += states.map(\.parameter)
                    firstBounds += states.map(\.first)
                    secondBounds += states.map(\.second)
                }
                let values = try [test.step(t)] + test.flatState()
                let refValues = try [ref.step(t)] + ref.flatState()
                let check = EquivalenceCheck(name: name, values: values, reference: refValues,
                                             bounds: ([exact.loss] + parameterBounds + firstBounds + secondBounds).map { 2 * $0.error })
                if !(check.slack <= worst.slack) { worst = check }
            }
            return worst
        }
    }

    /// The loss of each of `steps` minibatch steps on a seeded synthetic classification set that
    /// lives on the device: gather, forward, loss, backward, update — only the Backend protocol.
    public static func trainingCurve(backend: any Backend, architecture: Architecture, optimizer: CheckOptimizer,
                                     steps: Int) throws -> [Double] {
        let run = try TrainingRun(backend: backend, task: SyntheticTask(architecture: architecture),
                                  optimizer: optimizer, steps: steps)
        return try (0..<steps).map { try run.step($0) }
    }
}
