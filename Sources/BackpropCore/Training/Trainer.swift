import Foundation

/// Metrics of one pass over a dataset.
public struct Metrics: Sendable, Equatable, Codable {
    /// Mean per-sample loss `(1/N)·Σₓ Cₓ`.
    public var loss: Double
    /// Fraction of samples whose predicted class is right.
    public var accuracy: Double
}

/// What one epoch did.
public struct EpochReport: Sendable, Codable {
    /// The epoch's number in this trainer, from 1.
    public var epoch: Int
    /// Loss and accuracy accumulated while training, each batch measured before its update.
    public var train: Metrics
    /// Loss and accuracy on the test split after the epoch, when there is one.
    public var test: Metrics?
    /// Wall-clock seconds of the training pass (the test evaluation not counted).
    public var seconds: Double
    /// Training samples per second over the epoch.
    public var samplesPerSecond: Double
    /// Regression: the test errors in the targets' units (measured by the caller).
    public var regression: RegressionMetrics? = nil
}

/// Where the trainer is inside an epoch, for progress displays.
public struct BatchProgress {
    /// The epoch's number, from 1.
    public var epoch: Int
    /// Batches done in this epoch, this one included (from 1).
    public var batch: Int
    /// Batches in the epoch.
    public var batches: Int
    /// Samples done in this epoch.
    public var samples: Int
    /// Seconds since the epoch began.
    public var elapsed: Double
    /// Reads the running mean training loss of this epoch (on OpenCL this waits for the queue,
    /// so a progress display calls it a few times a second, not every batch).
    public var runningLoss: () throws -> Double
}

/// Minibatch gradient descent: shuffle each epoch, gather each batch on the device, forward,
/// backward, update; evaluate on the test split after each epoch. In a ``DataParallelGroup`` of
/// several processes `batchSize` is the global batch: each process takes its share of every
/// batch of one shared order, the gradients are summed, and every process ends the step with the
/// same parameters — each making the whole update, or in a sharded step (``isSharded``) its part
/// of it. Every process must use the same optimizer rule. Evaluation is not shared: with the same
/// parameters each process gets the same numbers. In a sharded step the optimizer's state is
/// complete on every process only between epochs (each epoch ends by gathering it), and the
/// network's gradients are summed only in the process's own part.
///
/// A trainer is used from one thread at a time, like its network and backend.
public final class Trainer {
    /// The network trained in place.
    public let network: Network
    /// The update applied after each batch's backward pass.
    public let optimizer: Optimizer
    /// Samples per step; an epoch's last batch may be smaller.
    public let batchSize: Int
    var rng: SeededGenerator
    /// Buffers for `min(batchSize, samples)` columns, made on first use and kept.
    private var buffers: Workspace?
    private var order: IndexBuffer?
    /// With ``balanceClasses(_:)``: the positions of each class's samples (classes that have some).
    private var classMembers: [[Int32]]?
    /// Evaluation, with buffers of its own (no δ or optimizer state is touched).
    private let inference: Inference
    /// Epochs completed by ``trainEpoch(_:progress:)``, so the next is `epochsDone + 1`.
    public internal(set) var epochsDone = 0
    private let exchange: GradientExchange
    /// The processes training this network together (by default just this one).
    public var group: any DataParallelGroup { exchange.group }
    /// Whether the processes split the optimizer's work: each sums and updates only its shard of
    /// the parameters (a reduce-scatter), then the new parameters are gathered (ZeRO stage 1).
    public var isSharded: Bool { exchange.isSharded }

    /// `seed` drives the shuffling; the network's own seed drives its initial weights (in a
    /// group, rank 0's parameters are copied to every process here). With `shardOptimizer` a
    /// group whose gradients are host memory splits the optimizer's work between its processes
    /// (same results; ``isSharded``). Throws ``TrainingError/invalidOption(_:)`` when
    /// `batchSize < 1`.
    public init(network: Network, optimizer: Optimizer, batchSize: Int, seed: UInt64,
                group: any DataParallelGroup = SingleProcess(), shardOptimizer: Bool = true) throws {
        guard batchSize > 0 else { throw TrainingError.invalidOption("batch size must be at least 1, got \(batchSize)") }
        self.network = network
        self.optimizer = optimizer
        self.batchSize = batchSize
        inference = try Inference(network: network, batchSize: batchSize)
        rng = SeededGenerator(seed: seed &+ 0x7EA1)
        exchange = try GradientExchange(group: group, network: network, optimizer: optimizer, shardOptimizer: shardOptimizer)
    }

    /// The workspace for batches from `data`: allocated once, no wider than the data needs
    /// (a batch size of a billion on a small CSV allocates for the CSV).
    private func workspace(for data: DeviceDataset) throws -> Workspace {
        let columns = min(batchSize, data.count)
        if let buffers, buffers.batchSize >= columns { return buffers }
        let made = try Workspace(backend: network.backend, architecture: network.architecture, batchSize: columns)
        buffers = made
        return made
    }

    /// Draws every epoch's samples class by class in equal shares: a class is picked uniformly,
    /// then one of its samples, `count` times (with replacement), so that a rare class weighs as
    /// much in the gradient as a common one (as a class weight of n ÷ (classes × its count) does
    /// in expectation, with no change to the loss or the backends). `labels` are the training
    /// samples' classes in their order on the device; nil returns to plain shuffling.
    public func balanceClasses(_ labels: [Int32]?) {
        guard let labels else { classMembers = nil; return }
        var members = [[Int32]](repeating: [], count: Int(labels.max() ?? 0) + 1)
        for (j, label) in labels.enumerated() where label >= 0 { members[Int(label)].append(Int32(j)) }
        classMembers = members.filter { !$0.isEmpty }
    }

    /// The sample order of the next epoch: a permutation, or the balanced draw.
    func epochOrder(_ count: Int) -> [Int32] {
        guard let classes = classMembers, !classes.isEmpty else { return rng.permutation(count) }
        return (0..<count).map { _ in
            let members = classes[Int(rng.next() % UInt64(classes.count))]
            return members[Int(rng.next() % UInt64(members.count))]
        }
    }

    /// One epoch over `data` in a fresh random order. The last batch may be partial: it uses
    /// the first columns of the same buffers and its gradient is its own mean.
    public func trainEpoch(_ data: DeviceDataset,
                           progress: ((BatchProgress) throws -> Void)? = nil) throws -> Metrics {
        let backend = network.backend
        try data.check(against: network.architecture)
        let workspace = try workspace(for: data)
        let order = try order.flatMap { $0.count == data.count ? $0 : nil } ?? backend.makeIndexBuffer(count: data.count)
        self.order = order
        try data.columnIndices(epochOrder(data.count)).withUnsafeBufferPointer { try backend.upload($0, to: order) }
        try backend.fill(workspace.lossSum, with: 0)
        try backend.fill(workspace.correct, with: 0)

        let epoch = epochsDone + 1
        let batches = (data.count + batchSize - 1) / batchSize
        let start = Date()
        var seenHere = 0
        for b in 0..<batches {
            let offset = b * batchSize, global = min(batchSize, data.count - offset)
            let mine = group.share(of: global), n = mine.count, first = offset + mine.lowerBound
            if n > 0 {
                try backend.gatherColumns(data.inputs, indices: order, offset: first, into: workspace.input.prefixColumns(n))
                try backend.gatherColumns(data.targets, indices: order, offset: first, into: workspace.target.prefixColumns(n))
                // The output layer's σ, loss, δᴸ and correct count in one pass (backward's first).
                try network.forward(workspace, count: n, deferOutput: true)
                // Each process's gradient is of the global mean: the group's sum needs no rescaling.
                try network.backward(workspace, count: n, meanOver: global, correct: true, outputActivated: false)
            }
            try exchange.sumGradients(local: n)
            try optimizer.update()
            try exchange.shareParameters()
            seenHere += n
            if let progress {
                let seen = offset + global, local = max(seenHere, 1)
                try progress(BatchProgress(epoch: epoch, batch: b + 1, batches: batches, samples: seen,
                                           elapsed: Date().timeIntervalSince(start)) {
                    // This process's samples only: summing over the group would cost a collective.
                    let loss = Double(try backend.scalar(workspace.lossSum)) / Double(local)
                    guard loss.isFinite else { throw TrainingError.diverged(epoch: epoch, step: b + 1, loss: loss) }
                    return loss
                })
            }
        }
        // Every process holds all of the optimizer's state between epochs (a checkpoint saves it).
        try exchange.shareOptimizerState()
        let sums = try group.sum([Double(try backend.scalar(workspace.lossSum)), Double(try backend.scalar(workspace.correct))])
        let loss = sums[0] / Double(data.count)
        guard loss.isFinite else { throw TrainingError.diverged(epoch: epoch, step: batches, loss: loss) }
        let accuracy = sums[1] / Double(data.count)
        epochsDone += 1
        return Metrics(loss: loss, accuracy: accuracy)
    }

    /// Mean loss and accuracy over `data` with the current parameters (no update); a
    /// non-finite loss is divergence.
    public func evaluate(_ data: DeviceDataset) throws -> Metrics {
        let metrics = try inference.evaluate(data)
        guard metrics.loss.isFinite else { throw TrainingError.diverged(epoch: epochsDone, step: 0, loss: metrics.loss) }
        return metrics
    }

    /// Trains for `epochs` epochs, evaluating on `test` (if any) after each, and reports each epoch.
    public func fit(train: DeviceDataset, test: DeviceDataset?, epochs: Int,
                    progress: ((BatchProgress) throws -> Void)? = nil,
                    onEpoch: (EpochReport) throws -> Void = { _ in }) throws {
        for _ in 0..<epochs {
            let start = Date()
            let trainMetrics = try trainEpoch(train, progress: progress)
            let seconds = Date().timeIntervalSince(start)
            let testMetrics = try test.map { try evaluate($0) }
            try onEpoch(EpochReport(epoch: epochsDone, train: trainMetrics, test: testMetrics,
                                    seconds: seconds, samplesPerSecond: Double(train.count) / max(seconds, 1e-9)))
        }
    }
}

/// Why training could not start or stopped; ``description`` is the one-line message users see.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// A setting or the data does not suit training (a batch size of 0, a learning rate ≤ 0,
    /// features that do not match the inputs); the message says which.
    case invalidOption(String)
    /// The loss became NaN or infinite in `epoch` by batch `step` (0: in the test evaluation
    /// after the epoch).
    case diverged(epoch: Int, step: Int, loss: Double)

    /// The message, suggesting a smaller learning rate on divergence.
    public var description: String {
        switch self {
        case let .invalidOption(message): message
        case let .diverged(epoch, step, loss):
            step == 0
                ? "training diverged: the held-out loss became \(loss) after epoch \(epoch); try a smaller learning rate (--lr)"
                : "training diverged: the loss became \(loss) in epoch \(epoch) by step \(step); try a smaller learning rate (--lr)"
        }
    }
}
