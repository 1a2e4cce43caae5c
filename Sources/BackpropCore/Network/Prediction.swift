/// What a network predicts, defined once: the host (`predict`, ``Evaluation``) and every
/// backend's `countCorrect` follow this rule, and a test pins it on each backend.
///
/// - Several output units: the class is the arg-max; a tie goes to the lowest index.
/// - One output unit (a sigmoid): class 1 when the output is at least 0.5, else class 0.
/// - A column holding a NaN predicts no class, so it is never counted correct.
///
/// A target column's class follows the same rule (the 1 of a one-hot column; 0 or 1 for a
/// single unit).
public enum Prediction {
    /// The threshold of a one-output network: outputs `≥ threshold` are class 1.
    public static let threshold: Float = 0.5

    /// The class `column` predicts, or nil when it holds a NaN (or is empty).
    /// `@inlinable` so each backend's `countCorrect` gets it specialized for its buffers: a
    /// generic call per column costs more than the column's comparisons.
    @inlinable
    public static func predictedClass<C: Collection<Float>>(_ column: C) -> Int? {
        var best = -1, bestValue = -Float.infinity, k = 0
        for x in column {
            if x.isNaN { return nil }
            if best < 0 || x > bestValue { (best, bestValue) = (k, x) }
            k += 1
        }
        if k == 1 { return bestValue >= threshold ? 1 : 0 }
        return best < 0 ? nil : best
    }

    /// Whether `output` predicts the class of `target`: both have a class and it is the same.
    @inlinable
    public static func isCorrect<C: Collection<Float>>(output: C, target: C) -> Bool {
        guard let predicted = predictedClass(output) else { return false }
        return predicted == predictedClass(target)
    }
}
