/// A network's loss, outputs and gradients in Double precision, computed from the definitions
/// with plain loops: an oracle that shares no code with any backend (nor with `Network`).
/// Shapes as everywhere: `W` is `out × in` column-major, a batch is `features × n`.
///
/// Every value also carries the bound of its float32 evaluation (``Bounded``), propagated
/// layer by layer: a product over `k` terms adds `γ_k·Σ|wᵢ||âᵢ|` to the error its inputs bring,
/// `Σ|wᵢ|·errᵢ`; activations, the loss and its gradient follow the kernels' formulas. So the
/// bound grows with depth, reduction length and the conditioning of the loss on the data at
/// hand (an output close to its target makes `a − y` cancel), as the real error does.
enum DoubleOracle {
    struct Result {
        var loss: Bounded
        var output: [Bounded]
        var weightGradients: [[Bounded]]
        var biasGradients: [[Bounded]]
    }

    static func lossAndGradients(_ architecture: Architecture, _ parameters: [LayerParameters],
                                 inputs: [Float], targets: [Float], count n: Int) -> Result {
        let sizes = architecture.sizes, L = architecture.layerCount
        // Forward: zˡ = Wˡ·aˡ⁻¹ + bˡ, aˡ = σ(zˡ).
        var a: [[Bounded]] = [inputs.map(Bounded.init)], z: [[Bounded]] = []
        for l in 0..<L {
            let (rows, inner) = (sizes[l + 1], sizes[l])
            let w = parameters[l].weight.map(Double.init), b = parameters[l].bias, previous = a[l]
            var zl = [Bounded](repeating: .zero, count: rows * n)
            for j in 0..<n {
                for i in 0..<rows {
                    zl[i + j * rows] = product(count: inner, bias: Double(b[i])) { k in
                        (w[i + k * rows], previous[k + j * inner])
                    }
                }
            }
            z.append(zl)
            a.append(EquivalenceSuite.activate(architecture.activations[l], zl, rows: rows))
        }

        // Loss and δᴸ (the fused losses already contain σ'(zᴸ)).
        let out = sizes[L], aL = a[L], zL = z[L - 1]
        let lossSum = architecture.loss.boundedSum(z: zL, a: aL, targets: targets, classes: out)
        var delta = (0..<(out * n)).map { e in
            let g = Loss.boundedGradient(a: aL[e], target: targets[e], meanOver: n)
            return architecture.loss.fusesOutputDerivative
                ? g : architecture.outputActivation.boundedBackward(upstream: g, z: zL[e], a: aL[e])
        }

        // Backward: ∂W = δ·(aˡ⁻¹)ᵀ, ∂b = Σ δ, δˡ⁻¹ = (Wᵀ·δ) ⊙ σ'(zˡ⁻¹).
        var weightGradients = [[Bounded]](repeating: [], count: L), biasGradients = weightGradients
        for l in stride(from: L - 1, through: 0, by: -1) {
            let (rows, inner) = (sizes[l + 1], sizes[l])
            let previous = a[l], w = parameters[l].weight.map(Double.init), d = delta
            var dw = [Bounded](repeating: .zero, count: rows * inner)
            for k in 0..<inner {
                for i in 0..<rows {
                    dw[i + k * rows] = product(count: n) { j in (d[i + j * rows], previous[k + j * inner]) }
                }
            }
            weightGradients[l] = dw
            biasGradients[l] = (0..<rows).map { i in Bounded.sum((0..<n).map { d[i + $0 * rows] }) }
            guard l > 0 else { break }
            let activation = architecture.activations[l - 1], zb = z[l - 1], ab = a[l]
            delta = (0..<(inner * n)).map { e in
                let (k, j) = (e % inner, e / inner)
                let upstream = product(count: rows) { i in (w[i + k * rows], d[i + j * rows]) }
                return activation.boundedBackward(upstream: upstream, z: zb[e], a: ab[e])
            }
        }
        let mean = Bounded(lossSum.value / Double(n), error: lossSum.error / Double(n))
        return Result(loss: mean, output: aL, weightGradients: weightGradients, biasGradients: biasGradients)
    }

    /// `bias + Σₖ xₖ·yₖ` over `count` terms in any order, one operand exact (a weight).
    static func product(count: Int, bias: Double = 0, _ term: (Int) -> (Double, Bounded)) -> Bounded {
        var value = bias, magnitude = abs(bias), propagated = 0.0
        for k in 0..<count {
            let (w, x) = term(k)
            value += w * x.value
            magnitude += abs(w) * x.magnitude
            propagated += abs(w) * x.error
        }
        return bounded(value, magnitude: magnitude, propagated: propagated, terms: count + (bias == 0 ? 0 : 1))
    }

    /// `Σₖ xₖ·yₖ` over `count` terms in any order, both operands carrying errors.
    static func product(count: Int, _ term: (Int) -> (Bounded, Bounded)) -> Bounded {
        var value = 0.0, magnitude = 0.0, propagated = 0.0
        for k in 0..<count {
            let (x, y) = term(k)
            value += x.value * y.value
            magnitude += x.magnitude * y.magnitude
            propagated += x.error * y.magnitude + abs(x.value) * y.error
        }
        return bounded(value, magnitude: magnitude, propagated: propagated, terms: count)
    }

    /// `|fl(Σ tᵢ) − Σ tᵢ| ≤ γ_k·Σ|t̂ᵢ|` (Higham, eq. 3.5) on top of what the inputs bring.
    private static func bounded(_ value: Double, magnitude: Double, propagated: Double, terms: Int) -> Bounded {
        Bounded(value, error: propagated + Float32Rounding.gamma(terms) * magnitude
                    + Double(terms) * Float32Rounding.eta)
    }
}
