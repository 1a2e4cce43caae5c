/// Loss, accuracy and confusion matrix of a network over a labelled dataset.
public struct Evaluation: Sendable, Equatable {
    /// Mean loss and accuracy over the dataset.
    public var metrics: Metrics
    /// `confusion[true class][predicted class]` = number of samples.
    public var confusion: [[Int]]
    /// Samples in the confusion matrix: the dataset's, less those whose output held a NaN.
    public var count: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }

    /// Evaluates `network` on `data` (whose `classCount` must equal the network's outputs).
    /// The loss and accuracy come from the same device code as training reports; the
    /// confusion matrix from the host outputs, by the same ``Prediction`` rule. A sample whose
    /// output holds a NaN has no predicted class and is left out of the matrix (and counted wrong).
    public init(network: Network, data: Dataset, batchSize: Int = 1024) throws {
        var copy = data
        try self.init(network: network, taking: &copy, batchSize: batchSize)
    }

    /// As ``init(network:data:batchSize:)``, taking the samples: `data.inputs` is left empty
    /// (its labels stay) and, on the CPU, the device keeps its buffer, so they are held once.
    public init(network: Network, taking data: inout Dataset, batchSize: Int = 1024) throws {
        let inference = try Inference(network: network, batchSize: batchSize)
        let device = try DeviceDataset(taking: &data, on: network.backend)
        metrics = try inference.evaluate(device)
        let probabilities = try inference.outputs(device)
        let outputs = network.architecture.outputCount
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: data.classCount), count: data.classCount)
        for (j, label) in data.labels.enumerated() {
            if let predicted = Prediction.predictedClass(probabilities[(j * outputs)..<((j + 1) * outputs)]),
               predicted < data.classCount {
                confusion[Int(label)][predicted] += 1
            }
        }
        self.confusion = confusion
    }
}
