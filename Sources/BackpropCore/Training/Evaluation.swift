/// Loss, accuracy and confusion matrix of a network over a labelled dataset.
public struct Evaluation: Sendable, Equatable {
    public var metrics: Metrics
    /// `confusion[true class][predicted class]` = number of samples.
    public var confusion: [[Int]]
    public var count: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }

    /// Evaluates `network` on `data` (whose `classCount` must equal the network's outputs).
    /// The loss and accuracy come from the same device code as training reports.
    public init(network: Network, data: Dataset, batchSize: Int = 1024) throws {
        let backend = network.backend
        let trainer = try Trainer(network: network,
                                  optimizer: try Optimizer(OptimizerConfiguration(kind: .sgd), for: network),
                                  batchSize: batchSize, seed: 0)
        metrics = try trainer.evaluate(try DeviceDataset(data, on: backend))
        let outputs = network.architecture.sizes[network.architecture.sizes.count - 1]
        let probabilities = try network.probabilities(inputs: data.inputs, count: data.count, batchSize: batchSize)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: data.classCount), count: data.classCount)
        for (j, label) in data.labels.enumerated() {
            let predicted = Network.predictedClass(probabilities[(j * outputs)..<((j + 1) * outputs)])
            if predicted < data.classCount { confusion[Int(label)][predicted] += 1 }
        }
        self.confusion = confusion
    }
}

extension Network {
    /// Output activations (`outputs × n`, column-major) for `n` samples given on the host
    /// (`inputs × n`), computed `batchSize` samples at a time.
    public func probabilities(inputs: [Float], count n: Int, batchSize: Int = 1024) throws -> [Float] {
        let f = architecture.sizes[0]
        guard inputs.count == f * n else {
            throw ArchitectureError.invalid("\(inputs.count) input values for \(n) samples of \(f) features")
        }
        var out = [Float]()
        var offset = 0
        while offset < n {
            let m = min(batchSize, n - offset)
            out += try predict(inputs: Array(inputs[(offset * f)..<((offset + m) * f)]), count: m)
            offset += m
        }
        return out
    }

    /// The class a column of output activations predicts: the arg-max, or for a single output
    /// unit 1 when it is at least 0.5.
    public static func predictedClass(_ column: ArraySlice<Float>) -> Int {
        guard column.count > 1 else { return (column.first ?? 0) >= 0.5 ? 1 : 0 }
        var best = column.startIndex
        for k in column.indices where column[k] > column[best] { best = k }
        return best - column.startIndex
    }
}
