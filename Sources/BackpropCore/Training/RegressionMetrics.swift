/// How far predicted values are from the targets, in the targets' own units, averaged over
/// the targets: mean squared error, mean absolute error, and R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)².
public struct RegressionMetrics: Sendable, Equatable, Codable {
    public var mse: Double
    public var mae: Double
    /// 1 for perfect predictions, 0 for predicting the mean; a target that never varies counts
    /// 1 when predicted exactly, else 0 (as scikit-learn's `r2_score`).
    public var r2: Double

    public init(mse: Double, mae: Double, r2: Double) { self.mse = mse; self.mae = mae; self.r2 = r2 }

    /// `predicted` and `actual` are `outputs × n`, column-major (one column per sample).
    public init(predicted: [Float], actual: [Float], outputs: Int) {
        precondition(predicted.count == actual.count && outputs > 0, "predictions do not match targets")
        let n = actual.count / outputs
        var squared = 0.0, absolute = 0.0, r2Sum = 0.0
        for k in 0..<outputs {
            var mean = 0.0
            for j in 0..<n { mean += Double(actual[j * outputs + k]) }
            mean /= Double(max(n, 1))
            var residual = 0.0, total = 0.0
            for j in 0..<n {
                let y = Double(actual[j * outputs + k]), e = Double(predicted[j * outputs + k]) - y
                residual += e * e; total += (y - mean) * (y - mean)
                absolute += abs(e)
            }
            squared += residual
            r2Sum += total > 0 ? 1 - residual / total : (residual == 0 ? 1 : 0)
        }
        let count = Double(max(actual.count, 1))
        self.init(mse: squared / count, mae: absolute / count, r2: r2Sum / Double(outputs))
    }
}

extension Network {
    /// Outputs for `n` samples, mapped back to the targets' units through `targets` (the
    /// standardization the network was trained on).
    public func regress(inputs: [Float], count n: Int, targets: Standardization?) throws -> [Float] {
        var values = try predict(inputs: inputs, count: n)
        targets?.invert(columns: &values)
        return values
    }
}
