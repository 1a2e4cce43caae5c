import Backprop
import Foundation

/// The files a run writes after each epoch, each atomically: `--save` (the best weights so
/// far), `--save-last` (the last), `--checkpoint` (the last, with what an exact resume needs)
/// and `--plot` (the curves). Remembers which epoch each holds, for the closing message.
final class TrainingFiles {
    /// The paths of `--save`, `--save-last`, `--checkpoint` and `--plot` (nil: not written).
    let save: String?, saveLast: String?, checkpoint: String?, plotFile: String?
    let data: LoadedData
    let network: Network
    /// The seed of the run's first part (a resumed run keeps it).
    let seed: UInt64
    private var held = [String: (epoch: Int, what: String)]()

    /// `writes: false` for every process but rank 0 of a data-parallel job: it writes nothing.
    init(command: Train, data: LoadedData, network: Network, firstSeed: UInt64? = nil, writes: Bool = true) {
        let o = command.outputs
        save = writes ? o.save : nil
        saveLast = writes ? o.saveLast : nil
        checkpoint = writes ? o.checkpoint : nil
        plotFile = writes ? o.plot : nil
        var metadata = data
        metadata.train.inputs = []
        metadata.test.inputs = []
        self.data = metadata
        self.network = network
        seed = firstSeed ?? command.seed
    }

    /// The network's current weights as a model file with the data's metadata and `point`'s figures.
    private func model(_ point: EpochPoint, test: Metrics?, testRegression: RegressionMetrics?,
                       plan: TrainingPlan, trainer: Trainer) throws -> ModelFile {
        var training = TrainingInfo(epochs: point.epoch, seed: seed, optimizer: plan.optimizer.kind,
                                    learningRate: trainer.optimizer.learningRate, train: point.train, test: test,
                                    testRegression: testRegression)
        training.validation = point.validation
        training.validationSplit = plan.validation
        training.schedule = plan.schedule
        training.weightDecay = plan.optimizer.weightDecay
        training.balancedClasses = plan.balanced ? true : nil
        var model = try ModelFile(network: network, standardization: data.standardization,
                                  classNames: data.train.classNames, featureNames: data.featureNames, training: training)
        model.table = data.encoding
        model.split = data.split
        // The loss is measured before each update, so the last update of an epoch can still
        // blow the weights up: never let such a model replace a good file.
        if let bad = model.firstNonFiniteParameter {
            throw CommandError("training diverged: \(bad) became non-finite in epoch \(point.epoch); try a smaller learning rate (--lr); \(kept())")
        }
        return model
    }

    /// `--save`: the network's weights, which the caller has made the best epoch's.
    func saveBest(_ point: EpochPoint, test: Metrics?, testRegression: RegressionMetrics?, plan: TrainingPlan,
                  trainer: Trainer, final: Bool) throws {
        guard let path = save else { return }
        try model(point, test: test, testRegression: testRegression, plan: plan, trainer: trainer).save(to: path)
        held[path] = (point.epoch, "the model of epoch")
    }

    /// `--save-last` and `--checkpoint`: the last epoch's weights; the checkpoint with the
    /// optimizer's moments, the shuffler, the schedule, the split and the best weights.
    func saveLast(_ point: EpochPoint, plan: TrainingPlan, trainer: Trainer, stopping: EarlyStopping,
                  history: [EpochPoint], best: [LayerParameters]?) throws {
        guard saveLast != nil || checkpoint != nil else { return }
        var model = try model(point, test: nil, testRegression: nil, plan: plan, trainer: trainer)
        if let path = saveLast {
            try model.save(to: path)
            held[path] = (point.epoch, "the model of epoch")
        }
        guard let path = checkpoint else { return }
        let state = TrainingState(epochs: trainer.epochsDone, plannedEpochs: plan.plannedEpochs, batchSize: plan.batchSize,
                                  optimizer: plan.optimizer, step: trainer.optimizer.step, schedule: plan.schedule,
                                  shuffler: trainer.shufflerState, validation: plan.validation, earlyStopping: stopping,
                                  history: history)
        let moments = try trainer.optimizer.moments()
        model.checkpoint = TrainingCheckpoint(state: state, first: moments.first, second: moments.second, best: best)
        try model.save(to: path)
        held[path] = (point.epoch, "the checkpoint of epoch")
    }

    /// `--plot`: the curves so far.
    func plot(_ history: [EpochPoint], bestEpoch: Int, regression: Bool) throws {
        guard let path = plotFile else { return }
        try writeFileAtomically(Array(CurvesPlot.svg(history, bestEpoch: bestEpoch, regression: regression).utf8), to: path)
    }

    /// What each model file holds now: `m.safetensors holds the model of epoch 7`.
    func kept() -> String {
        let models = [save, saveLast, checkpoint].compactMap { $0 }
        if models.isEmpty { return "nothing was saved (--save FILE keeps the best model)" }
        return models.map { path in
            if let (epoch, what) = held[path] { return "\(path) holds \(what) \(epoch)" }
            return FileManager.default.fileExists(atPath: path) ? "\(path) was left as it was" : "\(path) was not written"
        }.joined(separator: "; ")
    }
}
