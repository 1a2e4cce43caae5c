import Backprop
import Foundation

extension Train {
    /// MNIST or an IDX folder as they come; a CSV file through the table options, reusing a
    /// resumed model's encoding and, on the same file, its split.
    func loadData(resumed: ModelFile?) throws -> LoadedData {
        // MNIST, a folder, or a path that is not there (whose error names both kinds).
        if data == "mnist" || isDirectory(data) || !FileManager.default.fileExists(atPath: data) { return try DataSource.load(data) }
        var options = try table.options(testFraction: testSplit, seed: seed)
        options.validation = validationRecord(resumed: resumed)
        return try DataSource.loadTable(data, options: options, resumed: resumed.map { ($0, resume ?? "") })
    }

    /// The network for fresh data: a softmax (or sigmoid) output per class, or an identity
    /// output per regression target with the squared-error loss.
    func newArchitecture(for loaded: LoadedData, hidden: [Int]) throws -> Architecture {
        let inputs = loaded.train.featureCount, activation = activation?.activation ?? .relu
        if loaded.task == .regression {
            if let loss, loss != .squaredError {
                throw CommandError("--loss \(loss.rawValue) is for classification; regression trains with --loss mse")
            }
            return try Architecture(sizes: [inputs] + hidden + [loaded.train.classCount],
                                    activations: Array(repeating: activation, count: hidden.count) + [.identity],
                                    loss: .squaredError)
        }
        let loss = self.loss ?? .softmaxCrossEntropy
        return try Architecture(inputs: inputs, hidden: hidden, outputs: loaded.train.classCount,
                                activation: activation, loss: loss)
    }
}

/// Measures a regression network on a split in the targets' units (MSE, MAE, R²).
struct RegressionCheck {
    let network: Network
    let inputs: [Float]
    let count: Int
    let actual: [Float]
    let targets: Standardization?

    init(_ data: Dataset, targets: Standardization?, network: Network) {
        self.network = network
        inputs = data.inputs
        count = data.count
        self.targets = targets
        var values = data.targetValues ?? []
        targets?.invert(columns: &values)
        actual = values
    }

    func measure() throws -> RegressionMetrics {
        let predicted = try network.regress(inputs: inputs, count: count, targets: targets)
        return RegressionMetrics(predicted: predicted, actual: actual, outputs: network.architecture.outputCount)
    }
}

func isDirectory(_ path: String) -> Bool {
    var flag: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
}
