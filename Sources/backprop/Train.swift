import ArgumentParser
import Backprop
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a multilayer perceptron (default: MNIST, reaching about 98 % test accuracy).")

    @Option(help: "mnist, a folder of MNIST IDX files, or a CSV file with a header row.")
    var data = "mnist"
    @Option(help: "Hidden layer sizes, comma-separated (e.g. 128,64); 'none' for no hidden layer.")
    var hidden = "512,256"
    @Option(help: "Hidden activation: \(Activation.hidden.map(\.rawValue).joined(separator: ", ")).")
    var activation: Activation = .relu
    @Option(help: "Loss: \(Loss.allCases.map(\.rawValue).joined(separator: ", ")).")
    var loss: Loss = .softmaxCrossEntropy
    @Option(help: "Optimizer: \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var optimizer: OptimizerKind = .adam
    @Option(help: "Learning rate (default: 0.1 sgd, 0.01 momentum, 0.001 adam).")
    var lr: Float?
    @Option(help: "Multiply the learning rate by this factor after each epoch (1 keeps it constant).")
    var lrDecay: Float = 0.75
    @Option(help: "L2 weight decay λ applied to the weights.")
    var weightDecay: Float = 0
    @Option(help: "Samples per minibatch.")
    var batchSize = 128
    @Option(help: "Passes over the training data.")
    var epochs = 8
    @Option(help: "Seed for weights, shuffling and the CSV split; equal seeds give equal runs.")
    var seed: UInt64 = 1
    @Option(help: "Fraction of a CSV file held out for testing (default 0.2; MNIST has its own test set).")
    var testSplit: Double?
    @Option(help: "Name of the CSV column holding integer class labels (default: label).")
    var label: String?
    @Flag(help: "Print one JSON object per epoch, then a summary.")
    var json = false

    func checkOptions() throws {
        guard batchSize > 0 else { throw CLIError("--batch-size must be at least 1, got \(batchSize)") }
        guard epochs > 0 else { throw CLIError("--epochs must be at least 1, got \(epochs)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw CLIError("--lr must be a positive number, got \(lr)") }
        guard lrDecay > 0, lrDecay <= 1 else { throw CLIError("--lr-decay must be in (0, 1], got \(lrDecay)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw CLIError("--weight-decay must be zero or positive, got \(weightDecay)") }
        if let testSplit, !(testSplit > 0 && testSplit < 1) {
            throw CLIError("--test-split must be between 0 and 1 (exclusive), got \(testSplit)")
        }
        if data == "mnist" || isDirectory(data) {
            if testSplit != nil { throw CLIError("--test-split applies to CSV data; \(data) comes with its own test set") }
            if label != nil { throw CLIError("--label applies to CSV data, not to \(data)") }
        }
        _ = try hiddenSizes()
    }

    func hiddenSizes() throws -> [Int] {
        if hidden.lowercased() == "none" || hidden.isEmpty { return [] }
        return try hidden.split(separator: ",", omittingEmptySubsequences: false).map {
            guard let n = Int($0.trimmingCharacters(in: .whitespaces)), n > 0 else {
                throw CLIError("--hidden takes positive layer sizes separated by commas (e.g. 128,64), got \"\(hidden)\"")
            }
            return n
        }
    }

    func run() throws {
        try checkOptions()
        let backend = CPUBackend()
        // Load, describe and upload the data in one scope so the host copy is freed before training.
        let (train, test, architecture, config, report) = try {
            let loaded = try DataSource.load(data, labelColumn: label ?? "label", testFraction: testSplit ?? 0.2, seed: seed)
            let architecture = try Architecture(inputs: loaded.train.featureCount, hidden: hiddenSizes(),
                                                outputs: loaded.train.classCount, activation: activation, loss: loss)
            let config = OptimizerConfiguration(kind: optimizer, learningRate: lr, weightDecay: weightDecay)
            let report = Report(json: json, epochs: epochs)
            report.start(data: loaded, architecture: architecture, backend: backend.name, optimizer: config,
                         batchSize: batchSize)
            return (try DeviceDataset(loaded.train, on: backend), try DeviceDataset(loaded.test, on: backend),
                    architecture, config, report)
        }()
        let network = try Network(backend: backend, architecture: architecture, seed: seed)
        let trainer = try Trainer(network: network, optimizer: try Optimizer(config, for: network),
                                  batchSize: batchSize, seed: seed)
        let start = Date()
        var last: EpochReport?
        try trainer.fit(train: train, test: test, epochs: epochs, progress: report.progress) { epoch in
            last = epoch
            report.epoch(epoch)
            trainer.optimizer.learningRate *= lrDecay
        }
        report.finish(last: last, seconds: Date().timeIntervalSince(start))
    }
}

private func isDirectory(_ path: String) -> Bool {
    var flag: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
}

extension Activation: ExpressibleByArgument {}
extension Loss: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
