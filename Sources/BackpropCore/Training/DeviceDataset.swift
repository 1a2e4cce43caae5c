/// A dataset uploaded once to a backend: inputs `features × count` and one-hot targets
/// `classes × count`. Minibatches are gathered from it on the device by index, so a training
/// step moves nothing between host and device but the epoch's shuffled order.
public final class DeviceDataset {
    /// Number of samples.
    public let count: Int
    /// `features × count`, as ``Dataset/inputs``.
    public let inputs: Matrix
    /// `classes × count`, one-hot: column `j` has a 1 in row `labels[j]`.
    public let targets: Matrix
    /// `0, 1, …, count − 1`: the order used for evaluation.
    let sequentialOrder: IndexBuffer

    /// Uploads `data` to `backend`; throws the backend's error when memory runs out.
    public init(_ data: Dataset, on backend: any Backend) throws {
        count = data.count
        inputs = try backend.makeMatrix(rows: data.featureCount, cols: data.count, values: data.inputs)
        targets = try backend.makeMatrix(rows: data.classCount, cols: data.count, values: data.targets())
        sequentialOrder = try backend.makeIndexBuffer(count: data.count)
        let order = (0..<Int32(data.count)).map { $0 }
        try order.withUnsafeBufferPointer { try backend.upload($0, to: sequentialOrder) }
    }

    /// Throws unless the data fits `architecture`: samples, as many features as inputs, as many
    /// target rows as outputs.
    func check(against architecture: Architecture) throws {
        guard count > 0 else { throw TrainingError.invalidOption("the dataset has no samples") }
        let sizes = architecture.sizes
        guard inputs.rows == sizes[0] else {
            throw TrainingError.invalidOption("the data has \(inputs.rows) features but the network expects \(sizes[0]) inputs")
        }
        guard targets.rows == architecture.outputCount else {
            throw TrainingError.invalidOption("the data has \(targets.rows) classes but the network has \(architecture.outputCount) outputs")
        }
    }
}
