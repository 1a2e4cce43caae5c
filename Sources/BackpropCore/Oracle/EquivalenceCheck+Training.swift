import Foundation

/// Short training runs on a synthetic task that lives on the device, compared between backends.
extension EquivalenceSuite {
    public enum CheckOptimizer: String, CaseIterable, Sendable {
        case sgd, momentum, adam

        /// One update of `p` on `backend` (step `t` is 1-based).
        func step(_ backend: any Backend, _ p: Matrix, _ g: Matrix, _ s1: Matrix, _ s2: Matrix, t: Int) throws {
            switch self {
            case .sgd: try backend.sgdStep(parameters: p, gradient: g, learningRate: 0.1, weightDecay: 1e-4)
            case .momentum:
                try backend.momentumStep(parameters: p, gradient: g, velocity: s1, learningRate: 0.05,
                                         momentum: 0.9, weightDecay: 1e-4)
            case .adam:
                try backend.adamStep(parameters: p, gradient: g, m: s1, v: s2, learningRate: 0.01, beta1: 0.9,
                                     beta2: 0.999, epsilon: 1e-8, step: t, weightDecay: 1e-4)
            }
        }

        /// The same update by the kernels' formula, with its float32 bound.
        func step(_ state: inout OptimizerState, gradient g: Bounded, t: Int) {
            switch self {
            case .sgd: state.sgd(gradient: g, learningRate: 0.1, weightDecay: 1e-4)
            case .momentum: state.momentum(gradient: g, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4)
            case .adam:
                state.adam(gradient: g, learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: t,
                           weightDecay: 1e-4)
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
            let test = try TrainingRun(backend: backend, task: task, steps: steps)
            let ref = try TrainingRun(backend: reference, task: task, steps: steps)
            let name = "\(steps) training steps, \(optimizer), \(architecture), each from the same state"
            var worst = EquivalenceCheck(name: name, difference: 0, bound: 0, slack: 0)
            for t in 0..<steps {
                let start = try ref.state()
                try test.setState(start)
                let parameters = try ref.network.parameters()
                let batch = task.batch(t, size: ref.batchSize)
                let exact = DoubleOracle.lossAndGradients(architecture, parameters, inputs: batch.x, targets: batch.y,
                                                          count: ref.batchSize)
                let gradients = zip(exact.weightGradients, exact.biasGradients).flatMap { [$0, $1] }
                var parameterBounds: [Bounded] = [], firstBounds: [Bounded] = [], secondBounds: [Bounded] = []
                for (values, g) in zip(start, gradients) {
                    let states = values.parameter.indices.map { i in
                        var s = OptimizerState(parameter: Bounded(values.parameter[i]), first: Bounded(values.first[i]),
                                               second: Bounded(values.second[i]))
                        optimizer.step(&s, gradient: g[i], t: t + 1)
                        return s
                    }
                    parameterBounds += states.map(\.parameter)
                    firstBounds += states.map(\.first)
                    secondBounds += states.map(\.second)
                }
                let values = try [test.step(optimizer, t: t)] + test.flatState()
                let refValues = try [ref.step(optimizer, t: t)] + ref.flatState()
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
        let run = try TrainingRun(backend: backend, task: SyntheticTask(architecture: architecture), steps: steps)
        return try (0..<steps).map { try run.step(optimizer, t: $0) }
    }
}
