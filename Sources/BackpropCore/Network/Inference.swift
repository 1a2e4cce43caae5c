/// Forward passes with no training: a network's outputs, and its loss and accuracy over a
/// dataset. It needs no trainer and no optimizer, and keeps one workspace, made for the first
/// batch size it sees and reused by every later batch that fits.
public final class Inference {
    /// The network evaluated, with its parameters as they are at each call.
    public let network: Network
    /// The most samples one forward pass takes.
    public let batchSize: Int
    private var workspace: Workspace?

    /// Inference on `network` in batches of at most `batchSize` samples; throws
    /// ``TrainingError/invalidOption(_:)`` when `batchSize < 1`. Allocates nothing yet.
    public init(network: Network, batchSize: Int = 1024) throws {
        guard batchSize > 0 else { throw TrainingError.invalidOption("batch size must be at least 1, got \(batchSize)") }
        self.network = network
        self.batchSize = batchSize
    }

    /// The workspace for batches of up to `columns` samples (never wider than `batchSize`).
    private func workspace(columns: Int) throws -> Workspace {
        if let workspace, workspace.batchSize >= columns { return workspace }
        let made = try Workspace(backend: network.backend, architecture: network.architecture,
                                 batchSize: min(batchSize, max(columns, 1)))
        workspace = made
        return made
    }

    /// Output activations (`outputs × n`, column-major) for `n` samples given on the host
    /// (`inputs × n`), computed `batchSize` samples at a time.
    public func outputs(inputs: [Float], count n: Int) throws -> [Float] {
        let f = network.architecture.sizes[0]
        guard n >= 0, inputs.count == f * n else {
            throw ArchitectureError.invalid("\(inputs.count) input values for \(n) samples of \(f) features")
        }
        let backend = network.backend
        let ws = try workspace(columns: min(n, batchSize))
        var out = [Float]()
        out.reserveCapacity(network.architecture.outputCount * n)
        var offset = 0
        while offset < n {
            let m = min(ws.batchSize, n - offset)
            try inputs.withUnsafeBufferPointer {
                try backend.upload(UnsafeBufferPointer(rebasing: $0[(offset * f)..<((offset + m) * f)]),
                                   to: ws.input.prefixColumns(m))
            }
            out += try backend.download(try network.forward(ws, count: m))
            offset += m
        }
        return out
    }

    /// Output activations (`outputs × count`, column-major) for every sample of `data`, in
    /// order, gathered on the device: the host need not keep the samples.
    public func outputs(_ data: DeviceDataset) throws -> [Float] {
        let backend = network.backend
        try data.check(against: network.architecture)
        let ws = try workspace(columns: data.count)
        var out = [Float]()
        out.reserveCapacity(network.architecture.outputCount * data.count)
        var offset = 0
        while offset < data.count {
            let n = min(ws.batchSize, data.count - offset)
            try backend.gatherColumns(data.inputs, indices: data.sequentialOrder, offset: offset,
                                      into: ws.input.prefixColumns(n))
            out += try backend.download(try network.forward(ws, count: n))
            offset += n
        }
        return out
    }

    /// Mean loss and accuracy over `data` with the current parameters; the same device code
    /// as training reports (``Backend/outputLoss(_:activation:z:a:activate:targets:meanOver:gradient:lossSum:correct:)``).
    public func evaluate(_ data: DeviceDataset) throws -> Metrics {
        let backend = network.backend
        try data.check(against: network.architecture)
        let ws = try workspace(columns: data.count)
        try backend.fill(ws.lossSum, with: 0)
        try backend.fill(ws.correct, with: 0)
        let L = network.layers.count - 1
        var offset = 0
        while offset < data.count {
            let n = min(ws.batchSize, data.count - offset)
            let y = ws.target.prefixColumns(n)
            try backend.gatherColumns(data.inputs, indices: data.sequentialOrder, offset: offset,
                                      into: ws.input.prefixColumns(n))
            try backend.gatherColumns(data.targets, indices: data.sequentialOrder, offset: offset, into: y)
            let output = try network.forward(ws, count: n, deferOutput: true)
            try backend.outputLoss(network.architecture.loss, activation: network.layers[L].activation,
                                   z: ws.z[L].prefixColumns(n), a: output, activate: true, targets: y, meanOver: n,
                                   gradient: ws.delta[L].prefixColumns(n), lossSum: ws.lossSum, correct: ws.correct)
            offset += n
        }
        let total = Double(data.count)
        return Metrics(loss: Double(try backend.scalar(ws.lossSum)) / total,
                       accuracy: Double(try backend.scalar(ws.correct)) / total)
    }
}

extension Network {
    /// Output activations for `n` samples given on the host (`sizes[0] × n`), in batches of
    /// `batchSize`. For many calls, keep an ``Inference`` instead: it keeps its buffers.
    public func predict(inputs: [Float], count n: Int, batchSize: Int = 1024) throws -> [Float] {
        try Inference(network: self, batchSize: batchSize).outputs(inputs: inputs, count: n)
    }
}
