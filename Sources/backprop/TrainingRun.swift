import ArgumentParser
import Backprop
import Foundation

/// One `train` run: epochs until the plan or early stopping ends it, validation after each,
/// the best weights kept, files written after each epoch, and the test split scored at the end.
final class TrainingRun {
    let command: Train
    let plan: TrainingPlan
    let network: Network
    let trainer: Trainer
    let train: DeviceDataset, validation: DeviceDataset?, test: DeviceDataset
    /// Regression: the splits measured in the targets' units.
    let validationCheck: RegressionCheck?, testCheck: RegressionCheck?
    let report: Report
    let files: TrainingFiles
    var stopping: EarlyStopping
    /// The best epoch's weights, on the host (nil without validation: the best is the last).
    var best: [LayerParameters]?
    var history: [EpochPoint]
    /// The loss of the run's first step, the yardstick for divergence.
    var firstLoss: Double?

    /// Uploads the splits, taking their samples: `data`'s inputs are left empty, so that the
    /// samples are held once (on the CPU, the device keeps the host buffers). The last
    /// `validationCount` samples of `data.train` are the validation split: uploaded with the
    /// training samples, then seen through views of the same memory; `data.train` keeps the
    /// training samples' labels only.
    init(command: Train, plan: TrainingPlan, network: Network, data: inout LoadedData, validationCount: Int,
         resumed: ModelFile?, group: any DataParallelGroup) throws {
        self.command = command
        self.plan = plan
        self.network = network
        let backend = network.backend
        var config = plan.optimizer
        config.learningRate = plan.schedule.rate(atStep: (plan.checkpoint?.state.step ?? 0) + 1)
        let optimizer = try Optimizer(config, for: network)
        optimizer.schedule = plan.schedule
        // BACKPROP_SHARD_OPTIMIZER=0: every process updates every parameter after one allreduce
        // (the way before the sharded step; kept for comparing the two).
        let shard = ProcessInfo.processInfo.environment["BACKPROP_SHARD_OPTIMIZER"] != "0"
        trainer = try Trainer(network: network, optimizer: optimizer, batchSize: plan.batchSize, seed: command.seed,
                              group: group, shardOptimizer: shard)
        stopping = plan.stopping
        history = []
        if let checkpoint = plan.checkpoint {
            try optimizer.restore(step: checkpoint.state.step, first: checkpoint.first, second: checkpoint.second)
            try trainer.restore(epochs: checkpoint.state.epochs, shuffler: checkpoint.state.shufflerWords ?? [])
            history = checkpoint.state.history
            best = checkpoint.best ?? (stopping.bestEpoch == checkpoint.state.epochs ? resumed?.parameters : nil)
        } else {
            try trainer.restore(epochs: plan.startEpoch, shuffler: trainer.shufflerState)
        }
        let all = data.train.count, trainCount = all - validationCount
        let targets = data.encoding?.targets
        let regression = data.task == .regression
        validationCheck = regression && validationCount > 0
            ? RegressionCheck(data.train.subset(Array(trainCount..<all)), targets: targets, network: network) : nil
        testCheck = regression ? RegressionCheck(data.test, targets: targets, network: network) : nil
        let uploaded = try DeviceDataset(taking: &data.train, on: backend)
        if validationCount > 0 {
            self.train = try uploaded.columns(0..<trainCount, on: backend)
            validation = try uploaded.columns(trainCount..<all, on: backend)
            data.train.labels.removeLast(validationCount)
            data.train.targetValues?.removeLast(validationCount * data.train.classCount)
        } else {
            self.train = uploaded
            validation = nil
        }
        if plan.balanced { trainer.balanceClasses(data.train.labels) }
        test = try DeviceDataset(taking: &data.test, on: backend)
        report = Report(json: command.json, plan: plan, regression: regression, silent: group.rank != 0,
                        live: group.size == 1)
        files = TrainingFiles(command: command, data: data, network: network, firstSeed: resumed?.training?.seed,
                              writes: group.rank == 0)
        report.start(data: data, validation: validationCount, architecture: network.architecture,
                     backend: backend.name, seed: plan.checkpoint == nil ? command.seed : resumed?.training?.seed ?? command.seed,
                     processes: group.size,
                     sharded: trainer.isSharded)
    }

    /// Trains, then scores the kept weights on the test split. A signal ends the run with
    /// 128 + its number after saying which files hold which epoch; divergence with status 1.
    func execute() throws {
        let start = Date()
        // Under mpirun every rank would see the signal at a different step and wait for the
        // others in a collective: there the default (the job ends) is the safe behaviour.
        let handlesSignals = trainer.group.size == 1
        if handlesSignals { Interrupt.install() }
        var stoppedEarly = false
        do {
            defer { if handlesSignals { Interrupt.uninstall() } }
            stoppedEarly = try epochs()
        } catch let stop as Interrupted {
            FileHandle.standardError.write(Data("\ninterrupted at epoch \(stop.epoch), step \(stop.step); \(files.kept())\n".utf8))
            throw ExitCode(128 + stop.signal)
        } catch let error as TrainingError {
            guard case .diverged = error else { throw error }
            throw CommandError("\(error); \(files.kept())")
        }
        guard let last = history.last else { return }
        let bestEpoch = best == nil ? last.epoch : stopping.bestEpoch
        if let best, bestEpoch != trainer.epochsDone { try network.setParameters(best) }
        let kept = history.first { $0.epoch == bestEpoch } ?? last
        let test = try trainer.evaluate(test)
        let testRegression = try testCheck?.measure()
        try files.saveBest(kept, test: test, testRegression: testRegression, plan: plan, trainer: trainer, final: true)
        // Every process made the same updates, so their parameters must agree bit for bit.
        let checksum = trainer.group.size > 1 ? try network.parameterFingerprint() : nil
        if let checksum { try trainer.group.requireAgreement(["parameters": checksum]) }
        report.finish(best: kept, last: last.epoch, stoppedEarly: stoppedEarly, test: test,
                      testRegression: testRegression, seconds: Date().timeIntervalSince(start), checksum: checksum)
    }

    /// The epoch loop; true when early stopping ended it.
    private func epochs() throws -> Bool {
        while trainer.epochsDone < plan.plannedEpochs {
            let started = Date()
            let metrics = try trainer.trainEpoch(train) { [self] p in
                if let signal = Interrupt.signal { throw Interrupted(signal: signal, epoch: p.epoch, step: p.batch) }
                if firstLoss == nil, history.isEmpty { firstLoss = try p.runningLoss() }
                try report.progress(p)
            }
            let seconds = Date().timeIntervalSince(started)
            let epoch = trainer.epochsDone
            try checkGrowth(metrics.loss, epoch: epoch)
            var figures = EpochFigures(epoch: epoch, train: metrics, learningRate: trainer.optimizer.learningRate,
                                       seconds: seconds, samplesPerSecond: Double(train.count) / max(seconds, 1e-9))
            figures.validation = try validation.map { try trainer.evaluate($0) }
            figures.validationRegression = try validationCheck?.measure()
            if command.loop.evalTest {
                figures.test = try trainer.evaluate(test)
                figures.testRegression = try testCheck?.measure()
            }
            let point = EpochPoint(epoch: epoch, train: metrics, validation: figures.validation,
                                   validationR2: figures.validationRegression?.r2, validationMSE: figures.validationRegression?.mse,
                                   validationMAE: figures.validationRegression?.mae)
            history.append(point)
            if let loss = figures.validation?.loss {
                if stopping.observe(epoch: epoch, loss: loss) {
                    best = try network.parameters()
                    try files.saveBest(point, test: figures.test, testRegression: figures.testRegression, plan: plan,
                                       trainer: trainer, final: false)
                }
            } else {
                try files.saveBest(point, test: figures.test, testRegression: figures.testRegression, plan: plan,
                                   trainer: trainer, final: false)
            }
            try files.saveLast(point, plan: plan, trainer: trainer, stopping: stopping, history: history,
                               best: best != nil && stopping.bestEpoch != epoch ? best : nil)
            // Without validation there is no best epoch to mark: the last is kept.
            try files.plot(history, bestEpoch: validation == nil ? 0 : stopping.bestEpoch, regression: testCheck != nil)
            report.epoch(figures)
            if stopping.shouldStop { return true }
        }
        return false
    }

    /// A loss that grew a thousandfold since the run's first step has diverged, even while finite.
    private func checkGrowth(_ loss: Double, epoch: Int) throws {
        guard let reference = firstLoss ?? history.first?.train.loss, reference > 0, loss >= 1000 * reference else { return }
        throw CommandError("training diverged: the training loss grew from \(short(reference)) to \(short(loss)) by epoch \(epoch) (over 1000×); try a smaller learning rate (--lr); \(files.kept())")
    }
}
