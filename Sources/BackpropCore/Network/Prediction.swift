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
    public static func predictedClass<C: Collection<Float>>(_ column: C) -> Int? {
        guard let first = column.first, !column.contains(where: \.isNaN) else { return nil }
        if column.count == 1 { return first >= threshold ? 1 : 0 }
        var best = 0, bestValue = first
        for (k, x) in column.enumerated() where x > bestValue { (best, bestValue) = (k, x) }
        return best
    }

    /// Whether `output` predicts the class of `target`: both have a class and it is the same.
    public static func isCorrect<C: Collection<Float>>(output: C, target: C) -> Bool {
        guard let predicted = predictedClass(output) else { return false }
        return predicted == predictedClass(target)
    }
}
