/// The float32 rounding model every equivalence bound is derived from (Higham, *Accuracy and
/// Stability of Numerical Algorithms*, ch. 2–3).
///
/// - One rounding: `fl(x ∘ y) = (x ∘ y)(1 + δ)`, `|δ| ≤ u = 2⁻²⁴`; plus an absolute `η = 2⁻¹²⁶`
///   per operation so that results near underflow (flushed to zero by some devices) are covered.
/// - A sum or dot product of `k` terms in *any* order (recursive, pairwise, blocked, split-K,
///   with or without fused multiply-add): `|fl(Σ xᵢ) − Σ xᵢ| ≤ γ_{k−1}·Σ|xᵢ|`, and
///   `|fl(x·y) − x·y| ≤ γ_k·Σ|xᵢyᵢ|`, with `γ_k = k·u / (1 − k·u)`. Because the bound holds for
///   every order, it holds for OpenBLAS's and oneDNN's kernels of every instruction set and for
///   every OpenCL tiling alike.
/// - Library functions are held to the OpenCL 1.2 full-profile accuracy (`exp`, `log` 3 ulp,
///   `log1p` 2 ulp, `tanh` 5 ulp, division 2.5 ulp and `sqrt` 3 ulp when the
///   device does not round them correctly), which also covers glibc's. One ulp of `x` is at
///   most `2u·|x|`.
public enum Float32Rounding {
    /// The unit roundoff of float32.
    public static let u = 0x1p-24
    /// The smallest normal float32: the absolute error a flush to zero may add.
    public static let eta = 0x1p-126

    /// `γ_k = k·u / (1 − k·u)`: the relative bound of a `k`-term sum or dot product.
    public static func gamma(_ k: Int) -> Double {
        let ku = Double(max(k, 0)) * u
        precondition(ku < 0.5, "γ_\(k) is no bound: k·u ≥ 1/2")
        return ku / (1 - ku)
    }

    /// The relative error of a library function or operation, in units of `u`.
    public enum Operation {
        case basic, exp, log, log1p, tanh, divide, sqrt

        var ulps: Double {
            switch self {
            case .basic: 0.5
            case .exp, .log: 3
            case .log1p: 2
            case .tanh: 5
            case .divide: 2.5
            case .sqrt: 3
            }
        }

        /// `|fl(f(x)) − f(x)| ≤ relative·|f(x)|`.
        public var relative: Double { 2 * ulps * u }
    }
}
