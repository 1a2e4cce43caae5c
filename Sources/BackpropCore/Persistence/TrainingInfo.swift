import Foundation

/// What training produced, as stored in a model file.
public struct TrainingInfo: Sendable, Equatable, Codable {
    /// Epochs trained in all, across resumed runs, up to the epoch of these weights.
    public var epochs: Int
    /// The seed of the first run: initial weights and the shuffling.
    public var seed: UInt64
    /// The update rule trained with.
    public var optimizer: OptimizerKind
    /// The learning rate of the last update.
    public var learningRate: Float
    /// Loss and accuracy of that epoch on the training split.
    public var train: Metrics
    /// Loss and accuracy of these weights on the test split, when measured.
    public var test: Metrics?
    /// Regression: the test errors in the targets' units.
    public var testRegression: RegressionMetrics?
    /// Loss and accuracy of these weights on the validation samples.
    public var validation: Metrics?
    /// Which training samples were held out for validation (a resumed run holds out the same).
    public var validationSplit: ValidationRecord?
    /// The learning-rate schedule of the run.
    public var schedule: LearningRateSchedule?
    /// The weight decay trained with (a resumed run keeps it); nil in files written before it was recorded.
    public var weightDecay: Float?
    /// Whether each epoch drew the classes in equal shares (`train --balance`; a resumed run
    /// keeps it); nil in files written before it was recorded, and for plain shuffling.
    public var balancedClasses: Bool?

    enum CodingKeys: String, CodingKey {
        case epochs, seed, optimizer, learningRate = "learning_rate", train, test, testRegression = "test_regression",
             validation, validationSplit = "validation_split", schedule, weightDecay = "weight_decay",
             balancedClasses = "balanced_classes"
    }

    /// A training record.
    public init(epochs: Int, seed: UInt64, optimizer: OptimizerKind, learningRate: Float,
                train: Metrics, test: Metrics?, testRegression: RegressionMetrics? = nil) {
        self.epochs = epochs; self.seed = seed; self.optimizer = optimizer
        self.learningRate = learningRate; self.train = train; self.test = test
        self.testRegression = testRegression
    }
}
