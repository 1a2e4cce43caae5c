import Foundation

/// The shape of the learning rate over a run.
public enum ScheduleKind: String, CaseIterable, Sendable, Codable {
    /// η(t) = η₀ throughout.
    case constant
    /// η₀, then η₀/10 from half of the steps, η₀/100 from three quarters.
    case step
    /// η(t) = η₀ · ½(1 + cos πp), p the fraction of the run done: from η₀ down to 0.
    case cosine
    /// Smith's one-cycle: up from η₀/25 to η₀ over the first 30 % of the steps, then down to η₀/10⁴
    /// (both halves cosine-shaped); it warms up by itself, so warm-up steps are ignored.
    case onecycle
}

/// The learning rate of each optimizer step, defined over the run's total steps, so that a
/// schedule behaves alike for one batch per epoch or a thousand.
///
/// Step `t` counts updates from 1 across the whole run (resumed runs included), which is the
/// optimizer's ``Optimizer/step`` after the update: a checkpoint that restores the step count
/// restores the schedule's position.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    /// The shape.
    public var kind: ScheduleKind
    /// η₀: the peak rate (the optimizer's ``OptimizerConfiguration/learningRate``).
    public var peak: Float
    /// Steps in the planned run; the schedule holds its last value past them.
    public var totalSteps: Int
    /// Steps over which the rate rises linearly from η₀/warm-up to η₀ before the shape begins.
    public var warmupSteps: Int
    /// Legacy `--lr-decay`: a factor applied once per epoch on top of the shape (1: none).
    public var epochDecay: Float
    /// Steps per epoch, for ``epochDecay``.
    public var stepsPerEpoch: Int

    enum CodingKeys: String, CodingKey {
        case kind, peak, totalSteps = "total_steps", warmupSteps = "warmup_steps",
             epochDecay = "epoch_decay", stepsPerEpoch = "steps_per_epoch"
    }

    /// A schedule over `totalSteps` (at least 1).
    public init(kind: ScheduleKind, peak: Float, totalSteps: Int, warmupSteps: Int = 0,
                epochDecay: Float = 1, stepsPerEpoch: Int = 1) {
        self.kind = kind; self.peak = peak; self.totalSteps = max(totalSteps, 1)
        self.warmupSteps = max(warmupSteps, 0); self.epochDecay = epochDecay
        self.stepsPerEpoch = max(stepsPerEpoch, 1)
    }

    /// η for update `t` (1, 2, …). Computed in Double from `t` alone, so a resumed run gets the
    /// same rates bit for bit.
    public func rate(atStep t: Int) -> Float {
        let t = max(t, 1)
        var factor: Double
        if kind != .onecycle, t <= warmupSteps {
            factor = Double(t) / Double(warmupSteps)
        } else {
            let start = kind == .onecycle ? 0 : warmupSteps
            // Update t of T is at (t − 1)/T of the way, as PyTorch's schedulers step: the last
            // update gets a small rate, not the shape's end (0 for cosine: a wasted step).
            let p = min(1, Double(t - 1 - start) / Double(max(totalSteps - start, 1)))
            factor = Self.shape(kind, p)
        }
        if epochDecay != 1 { factor *= pow(Double(epochDecay), Double((t - 1) / stepsPerEpoch)) }
        return Float(Double(peak) * factor)
    }

    /// The factor of η₀ at fraction `p` ∈ [0, 1] of the run (after warm-up).
    static func shape(_ kind: ScheduleKind, _ p: Double) -> Double {
        switch kind {
        case .constant: return 1
        case .step: return p < 0.5 ? 1 : p < 0.75 ? 0.1 : 0.01
        case .cosine: return 0.5 * (1 + cos(.pi * p))
        case .onecycle:
            let rise = 0.3
            if p < rise { return cosineBetween(1.0 / 25, 1, p / rise) }
            return cosineBetween(1, 1e-4, (p - rise) / (1 - rise))
        }
    }

    /// From `a` at q = 0 to `b` at q = 1 along half a cosine.
    private static func cosineBetween(_ a: Double, _ b: Double, _ q: Double) -> Double {
        b + (a - b) * 0.5 * (1 + cos(.pi * q))
    }

    /// `cosine 0.001 over 2,530 steps, 100 warm-up` for reports.
    public var summary: String {
        var text = "\(kind.rawValue) lr \(peak) over \(totalSteps) step\(totalSteps == 1 ? "" : "s")"
        if warmupSteps > 0, kind != .onecycle { text += ", \(warmupSteps) warm-up" }
        if epochDecay != 1 { text += ", ×\(epochDecay) per epoch" }
        return text
    }
}
