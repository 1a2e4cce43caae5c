/// The settings `backprop train` picks from the data when the user leaves them out, by one
/// rule small enough to print in the banner:
///
/// - hidden layers: one of 64 units below 1,000 training samples, one of 128 below 10,000,
///   256-128 below 50,000, and 512-256 from there (MNIST's 54,000);
/// - batch: 32 below 2,000 training samples, else 128 (small tables get several steps an epoch);
/// - epochs: enough for about ``stepBudget`` optimizer steps, between 5 and 500, ended earlier
///   by early stopping on the validation loss (patience ``patience``);
/// - weight decay: 0.01 below 10,000 training samples (small tables overfit), else 0;
/// - learning rate: the optimizer's default, on a cosine schedule over the whole run.
public struct AutomaticSettings: Sendable, Equatable {
    /// Hidden layer sizes.
    public var hidden: [Int]
    /// Samples per step.
    public var batchSize: Int
    /// The most epochs the run may take.
    public var epochs: Int
    /// L2 weight decay λ.
    public var weightDecay: Float

    /// Optimizer steps an automatic run aims for.
    public static let stepBudget = 2_000
    /// Epochs without a better validation loss before an automatic run stops.
    public static let patience = 20

    /// The settings for `samples` training samples; `batchSize` given by the user (if any)
    /// enters the epoch count.
    public init(samples: Int, batchSize given: Int? = nil) {
        switch samples {
        case ..<1_000: hidden = [64]
        case ..<10_000: hidden = [128]
        case ..<50_000: hidden = [256, 128]
        default: hidden = [512, 256]
        }
        batchSize = given ?? (samples < 2_000 ? 32 : 128)
        weightDecay = samples < 10_000 ? 0.01 : 0
        let stepsPerEpoch = max(1, (samples + batchSize - 1) / batchSize)
        epochs = min(500, max(5, (Self.stepBudget + stepsPerEpoch - 1) / stepsPerEpoch))
    }

    /// The rule in one line, for the banner.
    public static let rule = "hidden 64 / 128 / 256,128 / 512,256 below 1k / 10k / 50k / from 50k training samples; batch 32 below 2k, else 128; weight decay 0.01 below 10k; epochs for ~\(stepBudget) steps (5–500) with early stopping"
}
