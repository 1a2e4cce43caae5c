/// One epoch's figures, kept for curves and carried across resumed runs.
public struct EpochPoint: Sendable, Equatable, Codable {
    /// The epoch's number in the whole run, from 1.
    public var epoch: Int
    /// Loss and accuracy while training.
    public var train: Metrics
    /// Loss and accuracy on the validation samples after the epoch.
    public var validation: Metrics?
    /// Regression: R² on the validation samples, in the targets' units.
    public var validationR2: Double?
    /// Regression: MSE and MAE on the validation samples, in the targets' units (nil in older files).
    public var validationMSE: Double?, validationMAE: Double?

    enum CodingKeys: String, CodingKey {
        case epoch, train, validation, validationR2 = "validation_r2", validationMSE = "validation_mse", validationMAE = "validation_mae"
    }

    /// A point.
    public init(epoch: Int, train: Metrics, validation: Metrics?, validationR2: Double? = nil,
                validationMSE: Double? = nil, validationMAE: Double? = nil) {
        self.epoch = epoch; self.train = train; self.validation = validation; self.validationR2 = validationR2
        self.validationMSE = validationMSE; self.validationMAE = validationMAE
    }
}

/// Where a run stands after an epoch, beyond its weights: with it, `--resume` continues as if
/// the run had not stopped (same shuffles, same learning rates, same optimizer moments).
public struct TrainingState: Sendable, Equatable, Codable {
    /// Epochs done in the whole run.
    public var epochs: Int
    /// Epochs the run was planned for (a resume without `--epochs` finishes them).
    public var plannedEpochs: Int
    /// Samples per step.
    public var batchSize: Int
    /// The update rule and its hyperparameters (the learning rate is the schedule's peak).
    public var optimizer: OptimizerConfiguration
    /// Updates applied in the whole run: the schedule's position and Adam's `t`.
    public var step: Int
    /// The learning-rate schedule, when there is one.
    public var schedule: LearningRateSchedule?
    /// The shuffler's generator state (``SeededGenerator/state``), as hexadecimal words: JSON
    /// numbers do not hold 64 bits everywhere.
    public var shuffler: [String]
    /// The validation samples held out of the training split.
    public var validation: ValidationRecord?
    /// The best epoch so far and the patience left.
    public var earlyStopping: EarlyStopping
    /// Every epoch's figures so far.
    public var history: [EpochPoint]

    enum CodingKeys: String, CodingKey {
        case epochs, plannedEpochs = "planned_epochs", batchSize = "batch_size", optimizer, step, schedule,
             shuffler, validation, earlyStopping = "early_stopping", history
    }

    /// A state.
    public init(epochs: Int, plannedEpochs: Int, batchSize: Int, optimizer: OptimizerConfiguration, step: Int,
                schedule: LearningRateSchedule?, shuffler: [UInt64], validation: ValidationRecord?,
                earlyStopping: EarlyStopping, history: [EpochPoint]) {
        self.epochs = epochs; self.plannedEpochs = plannedEpochs; self.batchSize = batchSize
        self.optimizer = optimizer; self.step = step; self.schedule = schedule
        self.shuffler = shuffler.map { String($0, radix: 16) }
        self.validation = validation; self.earlyStopping = earlyStopping; self.history = history
    }

    /// The shuffler's words, or nil when they do not parse.
    public var shufflerWords: [UInt64]? {
        let words = shuffler.compactMap { UInt64($0, radix: 16) }
        return words.count == shuffler.count ? words : nil
    }
}

/// A training state with the tensors it needs: the optimizer's moments and, when the best
/// epoch is not the last, the best epoch's weights (so early stopping can restore them after
/// a resume).
public struct TrainingCheckpoint: Sendable, Equatable {
    /// Counters, schedule, shuffler, split and history.
    public var state: TrainingState
    /// ``Optimizer/moments()``: velocity or `m` per parameter tensor.
    public var first: [[Float]]
    /// Adam's `v` per parameter tensor.
    public var second: [[Float]]
    /// The best epoch's parameters, when they differ from the model's.
    public var best: [LayerParameters]?

    /// A checkpoint.
    public init(state: TrainingState, first: [[Float]], second: [[Float]], best: [LayerParameters]? = nil) {
        self.state = state; self.first = first; self.second = second; self.best = best
    }
}
