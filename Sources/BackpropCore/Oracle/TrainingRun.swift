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

/// The task on one backend: data, network, workspace and optimizer state, all on the device.
final class TrainingRun {
    let backend: any Backend
    let network: Network
    let batchSize: Int
    private let dataX: Matrix, dataY: Matrix, indices: IndexBuffer, workspace: Workspace
    /// Every parameter tensor (weights and biases, layer by layer) with its gradient and two state tensors.
    private let tensors: [(parameter: Matrix, gradient: Matrix, first: Matrix, second: Matrix)]

    init(backend: any Backend, task: SyntheticTask, steps: Int, batchSize: Int = 32, seed: UInt64 = 7) throws {
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
        tensors = try network.layers.flatMap { [($0.weight, $0.weightGradient), ($0.bias, $0.biasGradient)] }.map { p, g in
            (p, g, try backend.makeMatrix(rows: p.rows, cols: p.cols), try backend.makeMatrix(rows: p.rows, cols: p.cols))
        }
    }

    /// Minibatch `t` (0-based): gather, forward, loss, backward, update. Returns the batch's mean loss.
    func step(_ optimizer: EquivalenceSuite.CheckOptimizer, t: Int) throws -> Double {
        let ws = workspace
        try backend.gatherColumns(dataX, indices: indices, offset: t * batchSize, into: ws.input)
        try backend.gatherColumns(dataY, indices: indices, offset: t * batchSize, into: ws.target)
        try network.forward(ws, count: batchSize)
        try backend.fill(ws.lossSum, with: 0)
        try network.backward(ws, count: batchSize)
        for x in tensors { try optimizer.step(backend, x.parameter, x.gradient, x.first, x.second, t: t + 1) }
        return Double(try backend.scalar(ws.lossSum)) / Double(batchSize)
    }

    /// Parameters and optimizer state, tensor by tensor.
    func state() throws -> [(parameter: [Float], first: [Float], second: [Float])] {
        try tensors.map { (try backend.download($0.parameter), try backend.download($0.first), try backend.download($0.second)) }
    }

    func setState(_ state: [(parameter: [Float], first: [Float], second: [Float])]) throws {
        for (x, s) in zip(tensors, state) {
            try backend.upload(s.parameter, to: x.parameter)
            try backend.upload(s.first, to: x.first)
            try backend.upload(s.second, to: x.second)
        }
    }

    /// Every parameter, then every first-state value, then every second-state value.
    func flatState() throws -> [Double] {
        let s = try state()
        return (s.flatMap(\.parameter) + s.flatMap(\.first) + s.flatMap(\.second)).map(Double.init)
    }
}
