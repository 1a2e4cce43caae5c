/// A network's loss, outputs and gradients in Double precision, computed from the definitions
/// with plain loops: an oracle that shares no code with any backend (nor with `Network`).
/// Shapes as everywhere: `W` is `out × in` column-major, a batch is `features × n`.
enum DoubleOracle {
    struct Result {
        var loss: Double
        var output: [Double]
        var weightGradients: [[Double]]
        var biasGradients: [[Double]]
    }

    static func lossAndGradients(_ architecture: Architecture, _ parameters: [LayerParameters],
                                 inputs: [Float], targets: [Float], count n: Int) -> Result {
        let sizes = architecture.sizes, L = architecture.layerCount
        // Forward: zˡ = Wˡ·aˡ⁻¹ + bˡ, aˡ = σ(zˡ).
        var a: [[Double]] = [inputs.map(Double.init)], z: [[Double]] = []
        for l in 0..<L {
            let (rows, inner) = (sizes[l + 1], sizes[l])
            let w = parameters[l].weight, b = parameters[l].bias, previous = a[l]
            var zl = [Double](repeating: 0, count: rows * n)
            for j in 0..<n {
                for i in 0..<rows {
                    var s = Double(b[i])
                    for k in 0..<inner { s += Double(w[i + k * rows]) * previous[k + j * inner] }
                    zl[i + j * rows] = s
                }
            }
            z.append(zl)
            a.append(activate(architecture.activations[l], zl, rows: rows))
        }

        // Loss and δᴸ (the fused losses already contain σ'(zᴸ)).
        let out = sizes[L], aL = a[L], zL = z[L - 1]
        let y = targets.map(Double.init)
        var loss = 0.0
        var delta = [Double](repeating: 0, count: out * n)
        for e in 0..<(out * n) { delta[e] = (aL[e] - y[e]) / Double(n) }
        switch architecture.loss {
        case .squaredError:
            for e in 0..<(out * n) {
                loss += 0.5 * (aL[e] - y[e]) * (aL[e] - y[e])
                delta[e] *= architecture.outputActivation.derivative(zL[e])
            }
        case .softmaxCrossEntropy:
            for j in 0..<n {
                let column = zL[(j * out)..<((j + 1) * out)]
                let m = column.max() ?? 0
                let logSumExp = m + _log(column.reduce(0) { $0 + _exp($1 - m) })
                for i in 0..<out { loss += y[i + j * out] * (logSumExp - zL[i + j * out]) }
            }
        case .binaryCrossEntropy:
            for e in 0..<(out * n) {
                let x = zL[e]
                loss += max(x, 0) - x * y[e] + _log(1 + _exp(-abs(x)))
            }
        }

        // Backward: ∂W = δ·(aˡ⁻¹)ᵀ, ∂b = Σ δ, δˡ⁻¹ = (Wᵀ·δ) ⊙ σ'(zˡ⁻¹).
        var weightGradients = [[Double]](repeating: [], count: L), biasGradients = weightGradients
        for l in stride(from: L - 1, through: 0, by: -1) {
            let (rows, inner) = (sizes[l + 1], sizes[l])
            let previous = a[l], w = parameters[l].weight
            var dw = [Double](repeating: 0, count: rows * inner), db = [Double](repeating: 0, count: rows)
            for j in 0..<n {
                for i in 0..<rows {
                    let d = delta[i + j * rows]
                    db[i] += d
                    for k in 0..<inner { dw[i + k * rows] += d * previous[k + j * inner] }
                }
            }
            weightGradients[l] = dw
            biasGradients[l] = db
            guard l > 0 else { break }
            var below = [Double](repeating: 0, count: inner * n)
            for j in 0..<n {
                for k in 0..<inner {
                    var s = 0.0
                    for i in 0..<rows { s += Double(w[i + k * rows]) * delta[i + j * rows] }
                    below[k + j * inner] = s * architecture.activations[l - 1].derivative(z[l - 1][k + j * inner])
                }
            }
            delta = below
        }
        return Result(loss: loss / Double(n), output: aL, weightGradients: weightGradients,
                      biasGradients: biasGradients)
    }

    static func activate(_ activation: Activation, _ z: [Double], rows: Int) -> [Double] {
        guard activation == .softmax else { return z.map(activation.value) }
        var a = z
        for start in stride(from: 0, to: z.count, by: rows) {
            let column = z[start..<(start + rows)], m = column.max() ?? 0
            let sum = column.reduce(0) { $0 + _exp($1 - m) }
            for i in start..<(start + rows) { a[i] = _exp(z[i] - m) / sum }
        }
        return a
    }
}
