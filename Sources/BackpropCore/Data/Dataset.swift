/// A labelled dataset on the host: `inputs` is `featureCount × count` column-major
/// (one contiguous column per sample), `labels` holds each sample's class in `0..<classCount`.
/// A regression set holds its targets in `targetValues` (`classCount` values per sample, one
/// per output) and zeros in `labels`.
public struct Dataset: Sendable, Equatable {
    /// Rows of `inputs`: the features of one sample.
    public var featureCount: Int
    /// Number of classes; labels lie in `0..<classCount`.
    public var classCount: Int
    /// `featureCount × count` floats, column-major: sample `j` is `inputs[j·featureCount ..< (j+1)·featureCount]`.
    public var inputs: [Float]
    /// The class of each sample, one per column of `inputs`.
    public var labels: [Int32]
    /// Display names of the classes, when the source has them.
    public var classNames: [String]?
    /// Regression targets, `classCount × count` column-major; nil for classification.
    public var targetValues: [Float]?

    /// A dataset; traps unless `inputs.count == featureCount · labels.count` (a programming error).
    public init(featureCount: Int, classCount: Int, inputs: [Float], labels: [Int32],
                classNames: [String]? = nil) {
        precondition(inputs.count == featureCount * labels.count, "inputs do not match labels")
        self.featureCount = featureCount
        self.classCount = classCount
        self.inputs = inputs
        self.labels = labels
        self.classNames = classNames
    }

    /// Number of samples.
    public var count: Int { labels.count }

    /// The network's targets, `classCount × count` column-major: one-hot labels, or the
    /// regression values.
    public func targets() -> [Float] {
        if let targetValues { return targetValues }
        var t = [Float](repeating: 0, count: classCount * count)
        for (j, label) in labels.enumerated() { t[j * classCount + Int(label)] = 1 }
        return t
    }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        var x = [Float]()
        x.reserveCapacity(indices.count * featureCount)
        for i in indices { x += inputs[(i * featureCount)..<((i + 1) * featureCount)] }
        var part = Dataset(featureCount: featureCount, classCount: classCount, inputs: x,
                           labels: indices.map { labels[$0] }, classNames: classNames)
        if let targetValues {
            part.targetValues = indices.flatMap { targetValues[($0 * classCount)..<(($0 + 1) * classCount)] }
        }
        return part
    }

    /// A seeded random split: the test part holds `round(testFraction · count)` samples.
    public func split(testFraction: Double, seed: UInt64) throws -> (train: Dataset, test: Dataset) {
        guard testFraction > 0, testFraction < 1 else {
            throw DataError.invalidOption("--test-split must be between 0 and 1 (exclusive), got \(testFraction)")
        }
        var rng = SeededGenerator(seed: seed ^ 0x5EED_5EED)
        let order = rng.permutation(count).map(Int.init)
        let testCount = Int((testFraction * Double(count)).rounded())
        guard testCount > 0, testCount < count else {
            throw DataError.invalidOption("--test-split \(testFraction) of \(count) samples leaves an empty split")
        }
        return (subset(Array(order[testCount...])), subset(Array(order[..<testCount])))
    }
}

/// Per-feature standardization `x' = (x − μ)/s` with statistics from the training split,
/// stored in the model so predictions apply the same transform.
public struct Standardization: Sendable, Equatable, Codable {
    /// `μ`, one per feature.
    public var mean: [Float]
    /// `s`, one per feature; fitting never gives 0 (a constant feature gets `s = 1`).
    public var std: [Float]

    /// Given statistics (a saved model's); `mean` and `std` have one entry per feature.
    public init(mean: [Float], std: [Float]) { self.mean = mean; self.std = std }

    /// Mean and standard deviation of each feature; a constant feature gets `s = 1`.
    public init(fitting data: Dataset) {
        self.init(fitting: data.inputs, width: data.featureCount)
    }

    /// Statistics of `values` taken as columns of `width` numbers (one column per sample). Two
    /// passes (the squares of the deviations, not mean of squares − square of mean, which cancels
    /// to noise when the spread is small beside the values); a feature is constant only when
    /// its deviation is not a normal float (0, or below 1e-38): a spread of 1e-30 is data.
    public init(fitting values: [Float], width f: Int) {
        let count = values.count / max(f, 1), n = Double(max(count, 1))
        var sum = [Double](repeating: 0, count: f), squares = [Double](repeating: 0, count: f)
        values.withUnsafeBufferPointer { x in
            for j in 0..<count {
                for i in 0..<f { sum[i] += Double(x[j * f + i]) }
            }
            let m = sum.map { $0 / n }
            for j in 0..<count {
                for i in 0..<f { let d = Double(x[j * f + i]) - m[i]; squares[i] += d * d }
            }
        }
        mean = sum.map { Float($0 / n) }
        std = squares.map { total in
            let s = Float((total / n).squareRoot())
            return s.isNormal ? s : 1
        }
    }

    /// Standardizes every sample of `data` in place.
    public func apply(to data: inout Dataset) {
        let f = data.featureCount
        data.inputs.withUnsafeMutableBufferPointer { x in
            for j in 0..<(x.count / max(f, 1)) {
                for i in 0..<f { x[j * f + i] = (x[j * f + i] - mean[i]) / std[i] }
            }
        }
    }

    /// Standardizes `x` in place: samples of `mean.count` features each, column-major.
    public func apply(toColumns x: inout [Float]) {
        let f = mean.count
        for k in 0..<x.count { x[k] = (x[k] - mean[k % f]) / std[k % f] }
    }

    /// The inverse `x = x'·s + μ`: predictions of standardized targets back in the data's units.
    public func invert(columns x: inout [Float]) {
        let f = mean.count
        for k in 0..<x.count { x[k] = x[k] * std[k % f] + mean[k % f] }
    }
}

/// Why data could not be loaded; ``description`` is the one-line message users see.
public enum DataError: Error, CustomStringConvertible, Equatable {
    /// A file's content is not what its format requires; names the file and the place.
    case malformed(file: String, detail: String)
    /// A file could not be opened or read (missing, a folder, not permitted; zlib absent for `.gz`).
    case unreadable(file: String, reason: String)
    /// An option or file does not suit the request (a `--test-split` out of range, a model that
    /// is no classifier); the message names it.
    case invalidOption(String)

    /// The message, naming the file or option at fault.
    public var description: String {
        switch self {
        case let .malformed(file, detail): "\(file): \(detail)"
        case let .unreadable(file, reason): "cannot read \(file): \(reason)"
        case let .invalidOption(message): message
        }
    }
}
