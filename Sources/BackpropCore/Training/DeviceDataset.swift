/// A dataset uploaded once to a backend: inputs `features × count` and one-hot targets
/// `classes × count`. Minibatches are gathered from it on the device by index, so a training
/// step moves nothing between host and device but the epoch's shuffled order.
///
/// A dataset may be a view of columns `first ..< first + count` of matrices it shares with
/// another (``columns(_:on:)``: a training split and its validation split, uploaded once).
public final class DeviceDataset {
    /// Number of samples.
    public let count: Int
    /// `features × n` with `n ≥ first + count`, as ``Dataset/inputs``: this dataset's samples are
    /// columns `first ..< first + count`.
    public let inputs: Matrix
    /// `classes × n`, one-hot: column `j` has a 1 in row `labels[j]`.
    public let targets: Matrix
    /// The first column of `inputs` and `targets` that belongs to this dataset.
    public let first: Int
    /// `first, first + 1, …, first + count − 1`: the order used for evaluation.
    let sequentialOrder: IndexBuffer

    /// Uploads a copy of `data` to `backend`; throws the backend's error when memory runs out.
    public convenience init(_ data: Dataset, on backend: any Backend) throws {
        try self.init(count: data.count,
                      inputs: backend.makeMatrix(rows: data.featureCount, cols: data.count, values: data.inputs),
                      targets: backend.makeMatrix(rows: data.classCount, cols: data.count, adopting: data.targets()),
                      on: backend)
    }

    /// Uploads `data`, taking its inputs: `data.inputs` is left empty (its labels, counts and
    /// names stay, for reports), and a host backend keeps the array's own buffer instead of
    /// copying it, so the samples are held once. For data the caller no longer needs on the host.
    public convenience init(taking data: inout Dataset, on backend: any Backend) throws {
        let features = data.featureCount, count = data.count
        let inputs = data.inputs
        data.inputs = []
        try self.init(count: count,
                      inputs: backend.makeMatrix(rows: features, cols: count, adopting: consume inputs),
                      targets: backend.makeMatrix(rows: data.classCount, cols: count, adopting: data.targets()),
                      on: backend)
    }

    private init(count: Int, inputs: Matrix, targets: Matrix, first: Int = 0, on backend: any Backend) throws {
        self.count = count
        self.inputs = inputs
        self.targets = targets
        self.first = first
        sequentialOrder = try backend.makeIndexBuffer(count: count)
        let order = (Int32(first)..<Int32(first + count)).map { $0 }
        try order.withUnsafeBufferPointer { try backend.upload($0, to: sequentialOrder) }
    }

    /// The samples at positions `range` of this dataset, as a view sharing its device memory
    /// (no copy); `backend` must be the one it was uploaded to. Throws when `range` leaves it.
    public func columns(_ range: Range<Int>, on backend: any Backend) throws -> DeviceDataset {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw TrainingError.invalidOption("samples \(range.lowerBound)..<\(range.upperBound) of a dataset of \(count)")
        }
        return try DeviceDataset(count: range.count, inputs: inputs, targets: targets, first: first + range.lowerBound,
                                 on: backend)
    }

    /// The columns of `inputs` holding the samples in `order` (positions in this dataset).
    func columnIndices(_ order: [Int32]) -> [Int32] {
        first == 0 ? order : order.map { $0 + Int32(first) }
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
