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
    @Option(help: "Loss: \(Loss.allCases.map(\.rawValue).joined(separator: ", ")) (default: cross-entropy; mse for regression).")
    var loss: Loss?
    @Option(help: "Optimizer: \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var optimizer: OptimizerKind = .adam
    @Option(parsing: .unconditional, help: "Learning rate (default: 0.1 sgd, 0.01 momentum, 0.001 adam).")
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
    @Option(help: "Fraction of a CSV file held out for testing (default 0.2, or the split a resumed model records; MNIST has its own test set).")
    var testSplit: Double?
    @OptionGroup(title: "CSV files") var table: TableArguments
    @OptionGroup var backendOptions: BackendOptions
    @Flag(help: "Print one JSON object per epoch, then a summary.")
    var json = false
    @Option(help: "Save the model (safetensors) after every epoch, atomically: the file always holds the last good model.")
    var save: String?
    @Option(help: "Continue training a saved model; its architecture replaces --hidden, --activation and --loss.")
    var resume: String?

    func validate() throws {
        guard batchSize > 0 else { throw CommandError("--batch-size must be at least 1, got \(batchSize)") }
        guard epochs > 0 else { throw CommandError("--epochs must be at least 1, got \(epochs)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw CommandError("--lr must be a positive number, got \(lr)") }
        guard lrDecay > 0, lrDecay <= 1 else { throw CommandError("--lr-decay must be in (0, 1], got \(lrDecay)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw CommandError("--weight-decay must be zero or positive, got \(weightDecay)") }
        if let testSplit, !(testSplit > 0 && testSplit < 1) {
            throw CommandError("--test-split must be between 0 and 1 (exclusive), got \(testSplit)")
        }
        if data == "mnist" || isDirectory(data) {
            if testSplit != nil { throw CommandError("--test-split applies to CSV data; \(data) comes with its own test set") }
            if let option = table.given.first { throw CommandError("\(option) applies to CSV data, not to \(data)") }
        }
        _ = try hiddenSizes()
    }

    func hiddenSizes() throws -> [Int] {
        if hidden.lowercased() == "none" || hidden.isEmpty { return [] }
        return try hidden.split(separator: ",", omittingEmptySubsequences: false).map {
            guard let n = Int($0.trimmingCharacters(in: .whitespaces)), n > 0 else {
                throw CommandError("--hidden takes positive layer sizes separated by commas (e.g. 128,64), got \"\(hidden)\"")
            }
            return n
        }
    }

    func run() throws {
        let backend = try backendOptions.makeBackend()
        let resumed = try resume.map { try ModelFile.load($0) }
        var loaded = try loadData(resumed: resumed)
        for warning in loaded.warnings { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
        let network: Network
        if let resumed, let resume {
            network = try resumedNetwork(resumed, file: resume, data: &loaded, backend: backend)
        } else {
            network = try Network(backend: backend, architecture: try newArchitecture(for: loaded), seed: seed)
        }
        let regression = loaded.task == .regression ? try RegressionCheck(loaded, network: network) : nil
        let architecture = network.architecture
        let previousEpochs = resumed?.training?.epochs ?? 0
        // A resumed run continues the saved learning-rate schedule unless --lr says otherwise.
        let resumedRate = resumed?.training.flatMap { $0.optimizer == optimizer ? $0.learningRate : nil }
        let config = OptimizerConfiguration(kind: optimizer, learningRate: lr ?? resumedRate, weightDecay: weightDecay)
        let trainer = try Trainer(network: network, optimizer: try Optimizer(config, for: network),
                                  batchSize: batchSize, seed: seed)
        let report = Report(json: json, epochs: epochs, regression: regression != nil)
        report.start(data: loaded, architecture: architecture, backend: backend.name, optimizer: config,
                     batchSize: batchSize)
        let start = Date()
        let train = try DeviceDataset(loaded.train, on: backend)
        let test = try DeviceDataset(loaded.test, on: backend)
        // The backend holds the samples now; keep only the metadata on the host.
        loaded.train.inputs = []
        loaded.test.inputs = []
        var last: EpochReport?
        var saved: Int?
        do {
            try trainer.fit(train: train, test: test, epochs: epochs, progress: report.progress) { epoch in
                var epoch = epoch
                epoch.regression = try regression?.measure()
                last = epoch
                trainer.optimizer.learningRate *= lrDecay
                if let test = epoch.test, !test.loss.isFinite {
                    throw CommandError("training diverged: the test loss became \(test.loss) in epoch \(epoch.epoch); try a smaller learning rate (--lr)\(save.map { keptNote($0, saved) } ?? "")")
                }
                if let save {
                    let training = TrainingInfo(epochs: previousEpochs + epoch.epoch, seed: resumed?.training?.seed ?? seed,
                                                optimizer: optimizer, learningRate: trainer.optimizer.learningRate,
                                                train: epoch.train, test: epoch.test, testRegression: epoch.regression)
                    var model = try ModelFile(network: network, standardization: loaded.standardization,
                                              classNames: loaded.train.classNames, featureNames: loaded.featureNames,
                                              training: training)
                    model.table = loaded.encoding
                    model.split = loaded.split
                    // The loss is measured before each update, so the last update of an epoch can
                    // still blow the weights up: never let such a model replace a good file.
                    if let bad = model.firstNonFiniteParameter {
                        throw CommandError("training diverged: \(bad) became non-finite in epoch \(epoch.epoch); try a smaller learning rate (--lr)\(keptNote(save, saved))")
                    }
                    try model.save(to: save)
                    saved = epoch.epoch
                }
                report.epoch(epoch)
            }
        } catch let error as TrainingError {
            guard case .diverged = error, let save else { throw error }
            throw CommandError("\(error)\(keptNote(save, saved))")
        }
        report.finish(last: last, seconds: Date().timeIntervalSince(start))
    }

    /// Where the last good model is after a divergence.
    private func keptNote(_ save: String, _ saved: Int?) -> String {
        if let saved { return "; \(save) keeps the model of epoch \(saved)" }
        return FileManager.default.fileExists(atPath: save) ? "; \(save) was left as it was" : "; nothing was saved"
    }

    /// The saved network, after checking that the data fits it (inputs, features, classes).
    private func resumedNetwork(_ model: ModelFile, file: String, data loaded: inout LoadedData,
                                backend: any Backend) throws -> Network {
        try model.checkInputs(featureCount: loaded.train.featureCount, featureNames: loaded.featureNames,
                              data: data, modelFile: file)
        let sizes = model.architecture.sizes, outputs = sizes[sizes.count - 1]
        let classes = max(loaded.train.classCount, loaded.test.classCount)
        guard classes <= outputs else {
            throw CommandError("\(data): \(classes) classes, but the model \(file) has \(outputs) outputs")
        }
        let names = model.classNames ?? (0..<outputs).map(String.init)
        loaded.train.classCount = outputs
        loaded.test.classCount = outputs
        loaded.train.classNames = names
        loaded.test.classNames = names
        return try Network(backend: backend, model: model)
    }
}

extension Activation: ExpressibleByArgument {}
extension Loss: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}