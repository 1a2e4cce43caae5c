extension Optimizer {
    /// The optimizer's state on the host: per parameter tensor (each layer's weight, then its
    /// bias), the momentum velocity or Adam's first moment `m`, and Adam's second moment `v`
    /// (empty lists where the rule keeps none).
    public func moments() throws -> (first: [[Float]], second: [[Float]]) {
        let backend = network.backend
        return (try first.map { try backend.download($0) }, try second.map { try backend.download($0) })
    }

    /// Puts back a state from ``moments()`` and the update count (which also places a
    /// ``schedule``); throws ``TrainingError/invalidOption(_:)`` when it does not fit this
    /// optimizer's rule and network.
    public func restore(step: Int, first values: [[Float]], second secondValues: [[Float]]) throws {
        guard step >= 0, values.count == first.count, secondValues.count == second.count,
              zip(values, first).allSatisfy({ $0.count == $1.count }),
              zip(secondValues, second).allSatisfy({ $0.count == $1.count }) else {
            throw TrainingError.invalidOption("the saved \(configuration.kind.rawValue) state does not fit this network (\(values.count)+\(secondValues.count) tensors, expected \(first.count)+\(second.count))")
        }
        let backend = network.backend
        for (v, m) in zip(values, first) { try backend.upload(v, to: m) }
        for (v, m) in zip(secondValues, second) { try backend.upload(v, to: m) }
        self.step = step
        if let schedule { learningRate = schedule.rate(atStep: max(step, 1)) }
    }
}

extension Trainer {
    /// The shuffler's generator state: the next epoch's order follows from it.
    public var shufflerState: [UInt64] { rng.state }

    /// Continues a run: `epochs` already done (the next is `epochs + 1`) and the shuffler's
    /// state from ``shufflerState``.
    public func restore(epochs: Int, shuffler: [UInt64]) throws {
        guard epochs >= 0, let generator = SeededGenerator(state: shuffler) else {
            throw TrainingError.invalidOption("the saved shuffler state is not valid (expected 4 words, not all zero)")
        }
        epochsDone = epochs
        rng = generator
    }
}
