/// A seeded synthetic classification task: `samples` Gaussian inputs labelled by a random
/// linear teacher, and the order in which minibatches visit them.
struct SyntheticTask {
    let architecture: Architecture
    let x: [Float], y: [Float], order: [Int32]
    let samples: Int

    init(architecture: Architecture, samples: Int = 200, seed: UInt64 = 7, visits: Int = 50 * 32) {
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
        var order: [Int32] = []
        while order.count < visits { order += rng.permutation(samples) }
        self.architecture = architecture
        (self.x, self.y, self.order, self.samples) = (x, y, order, samples)
    }

    /// The inputs and targets of minibatch `t` on the host (what the device gathers).
    func batch(_ t: Int, size: Int) -> (x: [Float], y: [Float]) {
        let inputs = architecture.sizes[0], classes = architecture.sizes[architecture.sizes.count - 1]
        let columns = order[(t * size)..<((t + 1) * size)].map(Int.init)
        return (columns.flatMap { x[($0 * inputs)..<(($0 + 1) * inputs)] },
                columns.flatMap { y[($0 * classes)..<(($0 + 1) * classes)] })
    }
}

/// The task on one backend: data and network on the device, trained by the library's own
/// ``Optimizer`` (the checks compare what training really runs).
final class TrainingRun {
    let backend: any Backend
    let network: Network
    let batchSize: Int
    let optimizer: Optimizer
    private let dataX: Matrix, dataY: Matrix, indices: IndexBuffer, workspace: Workspace

    init(backend: any Backend, task: SyntheticTask, optimizer rule: EquivalenceSuite.CheckOptimizer, steps: Int,
         batchSize: Int = 32, seed: UInt64 = 7) throws {
        precondition(steps * batchSize <= task.order.count, "the task holds \(task.order.count) visits")
        let a = task.architecture
        self.backend = backend
        self.batchSize = batchSize
        dataX = try backend.makeMatrix(rows: a.sizes[0], cols: task.samples, values: task.x)
        dataY = try backend.makeMatrix(rows: a.sizes[a.sizes.count - 1], cols: task.samples, values: task.y)
        let indices = try backend.makeIndexBuffer(count: task.order.count)
        try task.order.withUnsafeBufferPointer { try backend.upload($0, to: indices) }
        self.indices = indices
        let network = try Network(backend: backend, architecture: a, seed: seed)
        self.network = network
        workspace = try Workspace(backend: backend, architecture: a, batchSize: batchSize)
        optimizer = try Optimizer(rule.configuration, for: network)
    }

    /// Minibatch `t` (0-based): gather, forward, loss, backward, update. Returns the batch's mean loss.
    func step(_ t: Int) throws -> Double {
        let ws = workspace
        try backend.gatherColumns(dataX, indices: indices, offset: t * batchSize, into: ws.input)
        try backend.gatherColumns(dataY, indices: indices, offset: t * batchSize, into: ws.target)
        try network.forward(ws, count: batchSize)
        try backend.fill(ws.lossSum, with: 0)
        try network.backward(ws, count: batchSize)
        try optimizer.update()
        return Double(try backend.scalar(ws.lossSum)) / Double(batchSize)
    }

    /// Parameters and optimizer state, tensor by tensor (each layer's weight, then its bias);
    /// a state the rule does not keep reads as zeros.
    func state() throws -> [(parameter: [Float], first: [Float], second: [Float])] {
        let parameters = try network.parameters().flatMap { [$0.weight, $0.bias] }
        let (first, second) = try optimizer.moments()
        return parameters.indices.map { k in
            let zeros = [Float](repeating: 0, count: parameters[k].count)
            return (parameters[k], first.isEmpty ? zeros : first[k], second.isEmpty ? zeros : second[k])
        }
    }

    /// Puts back a ``state()`` taken after `step` updates.
    func setState(_ state: [(parameter: [Float], first: [Float], second: [Float])], step: Int) throws {
        let layers = stride(from: 0, to: state.count, by: 2).map {
            LayerParameters(weight: state[$0].parameter, bias: state[$0 + 1].parameter)
        }
        try network.setParameters(layers)
        let (first, second) = try optimizer.moments()
        try optimizer.restore(step: step, first: first.isEmpty ? [] : state.map(\.first),
                              second: second.isEmpty ? [] : state.map(\.second))
    }

    /// Every parameter, then every first-state value, then every second-state value.
    func flatState() throws -> [Double] {
        let s = try state()
        return (s.flatMap(\.parameter) + s.flatMap(\.first) + s.flatMap(\.second)).map(Double.init)
    }
}
