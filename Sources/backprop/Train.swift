import ArgumentParser
import Backprop
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a multilayer perceptron (default: MNIST, reaching about 98 % test accuracy).",
        discussion: "Left out, --hidden, --batch-size, --epochs and --weight-decay are chosen from the data: \(AutomaticSettings.rule).")

    @Option(help: "mnist, a folder of MNIST IDX files, or a CSV file with a header row.")
    var data = "mnist"
    @Option(parsing: .unconditional, help: "Hidden layer sizes, comma-separated (e.g. 128,64); 'none' for no hidden layer (default: from the data).")
    var hidden: String?
    @Option(help: ArgumentHelp("Hidden activation: \(Activation.hidden.map(\.rawValue).joined(separator: ", ")) (default: relu).", valueName: "activation"))
    var activation: HiddenActivation?
    @Option(help: "Loss: \(Loss.allCases.map(\.rawValue).joined(separator: ", ")) (default: cross-entropy; mse for regression).")
    var loss: Loss?
    @Option(help: "Optimizer: \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: adam, or a resumed checkpoint's).")
    var optimizer: OptimizerKind?
    @Option(parsing: .unconditional, help: "Peak learning rate (default: 0.1 sgd, 0.01 momentum, 0.001 adam).")
    var lr: Float?
    @Option(parsing: .unconditional, help: "L2 weight decay λ applied to the weights (default: 0.01 below 10k training samples, else 0).")
    var weightDecay: Float?
    @Option(parsing: .unconditional, help: "Samples per minibatch (under mpirun: the global batch, shared among the processes; default: from the data).")
    var batchSize: Int?
    @Option(parsing: .unconditional, help: "Passes over the training data; on --resume, passes more (default: from the data, with early stopping).")
    var epochs: Int?
    @Flag(inversion: .prefixedNo, help: "Draw each epoch's samples class by class in equal shares, so that a rare class counts as much as a common one (default: off, or a resumed model's choice).")
    var balance: Bool?
    @Option(parsing: .unconditional, help: "Seed for weights, shuffling and the CSV split; equal seeds give equal runs.")
    var seed: UInt64 = 1
    @Option(parsing: .unconditional, help: "Fraction of a CSV file held out for testing (default 0.2, or the split a resumed model records; MNIST has its own test set).")
    var testSplit: Double?
    @OptionGroup(title: "Schedule, validation and early stopping") var loop: ScheduleOptions
    @OptionGroup(title: "Output files") var outputs: OutputOptions
    @OptionGroup(title: "CSV files") var table: TableArguments
    @OptionGroup var backendOptions: BackendOptions
    @Flag(help: "Print one JSON object per epoch, then a summary.")
    var json = false
    @Option(help: "Continue training a saved model or checkpoint; its architecture replaces --hidden, --activation and --loss.")
    var resume: String?

    func validate() throws {
        if let batchSize, batchSize < 1 { throw CommandError("--batch-size must be at least 1, got \(batchSize)") }
        if let epochs, epochs < 1 { throw CommandError("--epochs must be at least 1, got \(epochs)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw CommandError("--lr must be a positive number, got \(lr)") }
        if let weightDecay, !(weightDecay >= 0 && weightDecay.isFinite) {
            throw CommandError("--weight-decay must be zero or positive, got \(weightDecay)")
        }
        if let testSplit, !(testSplit > 0 && testSplit < 1) {
            throw CommandError("--test-split must be between 0 and 1 (exclusive), got \(testSplit)")
        }
        if data == "mnist" || isDirectory(data) {
            if testSplit != nil { throw CommandError("--test-split applies to CSV data; \(data) comes with its own test set") }
            if let option = table.given.first { throw CommandError("\(option) applies to CSV data, not to \(data)") }
        }
        _ = try hiddenSizes()
    }

    func hiddenSizes() throws -> [Int]? { try parseHiddenSizes(hidden) }

    func run() throws {
        try ProcessGroup.run(backendOptions) { group, backends in try train(in: group, backends) }
    }

    /// Trains as one process of `group` (alone, or one rank of an MPI job: rank 0 prints and
    /// saves). Load, hold out, build, plan, train: each step a function of its own.
    private func train(in group: any DataParallelGroup, _ backends: GroupBackends) throws {
        if group.rank == 0 { try outputs.checkWritable(data: data == "mnist" ? nil : data, resume: resume) }
        // `auto` calibrates on this run's network and batch: made once they are known.
        let early = backends.isAutomatic ? nil : try backends.make(in: group)
        let resumed = try resume.map { try ModelFile.load($0) }
        var loaded = try loadData(resumed: resumed)
        if balance == true, loaded.task == .regression { throw CommandError("--balance draws the classes in equal shares: a regression has none") }
        for warning in loaded.warnings { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
        let record = try holdOutValidation(&loaded, resumed: resumed)
        // loaded.train ends with the record.count validation samples until the run splits them off.
        let trainCount = loaded.train.count - (record?.count ?? 0)
        let automatic = automaticSettings(samples: trainCount, resumed: resumed)
        let backend = try early ?? backends.make(in: group, workload: CalibrationWorkload(
            architecture: try resumed?.architecture ?? newArchitecture(for: loaded, hidden: try hiddenSizes() ?? automatic.hidden),
            batchSize: max(1, (batchSize ?? resumed?.checkpoint?.state.batchSize ?? automatic.batchSize) / group.size)))
        let network = try makeNetwork(resumed: resumed, data: &loaded, automatic: automatic, backend: backend)
        let plan = try makePlan(samples: trainCount, resumed: resumed, automatic: automatic,
                                validation: record, split: loaded.split)
        try group.requireAgreement(fingerprints(loaded, network, plan),
                                   hint: "give every process the same --data, --seed and options")
        // The run takes the samples over: uploaded, they are no longer held on the host.
        let session = try TrainingRun(command: self, plan: plan, network: network, data: &loaded,
                                      validationCount: record?.count ?? 0, resumed: resumed, group: group)
        try session.execute()
    }
}

/// `--activation`, offering (and accepting) only what a hidden layer may use.
struct HiddenActivation: ExpressibleByArgument {
    let activation: Activation
    init(_ activation: Activation) { self.activation = activation }
    init?(argument: String) {
        guard let a = Activation(rawValue: argument), Activation.hidden.contains(a) else { return nil }
        activation = a
    }
    static var allValueStrings: [String] { Activation.hidden.map(\.rawValue) }
    var defaultValueDescription: String { activation.rawValue }
}

extension Loss: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
