/// An independent oracle for gradients: a plain forward pass in Double, written with naive
/// loops and sharing no code with any backend, differentiated by central finite differences
///     ∂C/∂θ ≈ (C(θ + h) − C(θ − h)) / 2h,
/// whose truncation error is O(h²). Slow by design; for tests and `gradcheck` on small networks.
public struct ReferenceNetwork: Sendable {
    public var architecture: Architecture
    /// Per layer: weight (`out × in`, column-major) and bias, in Double.
    public var weights: [[Double]]
    public var biases: [[Double]]

    public init(architecture: Architecture, parameters: [LayerParameters]) {
        self.architecture = architecture
        weights = parameters.map { $0.weight.map(Double.init) }
        biases = parameters.map { $0.bias.map(Double.init) }
    }

    /// `C = (1/n)·Σₓ Cₓ` for a batch (`inputs`: `sizes[0] × n`, `targets`: `outputs × n`).
    public func loss(inputs: [Double], targets: [Double], count n: Int) -> Double {
        let s = architecture.sizes
        var total = 0.0
        for x in 0..<n {
            var a = Array(inputs[(x * s[0])..<((x + 1) * s[0])])
            var z = a
            for l in 0..<architecture.layerCount {
                let rows = s[l + 1], cols = s[l]
                z = (0..<rows).map { i in
                    var sum = biases[l][i]
                    for j in 0..<cols { sum += weights[l][i + j * rows] * a[j] }
                    return sum
                }
                let f = architecture.activations[l]
                if f == .softmax {
                    let m = z.max() ?? 0
                    let e = z.map { _exp($0 - m) }
                    let sum = e.reduce(0, +)
                    a = e.map { $0 / sum }
                } else {
                    a = z.map(f.value)
                }
            }
            let y = Array(targets[(x * s[s.count - 1])..<((x + 1) * s[s.count - 1])])
            switch architecture.loss {
            case .squaredError:
                total += zip(a, y).reduce(0) { $0 + 0.5 * ($1.0 - $1.1) * ($1.0 - $1.1) }
            case .softmaxCrossEntropy:
                let m = z.max() ?? 0
                let logSum = m + _log(z.reduce(0) { $0 + _exp($1 - m) })
                total += zip(z, y).reduce(0) { $0 + $1.1 * (logSum - $1.0) }
            case .binaryCrossEntropy:
                total += zip(a, y).reduce(0) { $0 - ($1.1 * _log($1.0) + (1 - $1.1) * _log(1 - $1.0)) }
            }
        }
        return total / Double(n)
    }

    /// Every parameter's gradient by central differences with step `h`.
    public func finiteDifferenceGradients(inputs: [Float], targets: [Float], count n: Int,
                                          h: Double = 1e-5) -> (weights: [[Double]], biases: [[Double]]) {
        let x = inputs.map(Double.init), y = targets.map(Double.init)
        var probe = self
        func derivative(_ set: (inout ReferenceNetwork, Double) -> Void, at value: Double) -> Double {
            set(&probe, value + h)
            let plus = probe.loss(inputs: x, targets: y, count: n)
            set(&probe, value - h)
            let minus = probe.loss(inputs: x, targets: y, count: n)
            set(&probe, value)
            return (plus - minus) / (2 * h)
        }
        var gw = weights.map { $0.map { _ in 0.0 } }, gb = biases.map { $0.map { _ in 0.0 } }
        for l in weights.indices {
            for k in weights[l].indices {
                gw[l][k] = derivative({ $0.weights[l][k] = $1 }, at: weights[l][k])
            }
            for k in biases[l].indices {
                gb[l][k] = derivative({ $0.biases[l][k] = $1 }, at: biases[l][k])
            }
        }
        return (gw, gb)
    }
}

/// Norm-wise relative error `‖x − ref‖ / ‖ref‖` (absolute when `ref` is all but zero): the
/// measure our tolerances are stated in, insensitive to tiny components' relative noise.
public func relativeError<A: Collection, B: Collection>(_ x: A, _ reference: B) -> Double
where A.Element: BinaryFloatingPoint, B.Element: BinaryFloatingPoint {
    var diff = 0.0, norm = 0.0
    for (a, b) in zip(x, reference) {
        let d = Double(a) - Double(b)
        diff += d * d
        norm += Double(b) * Double(b)
    }
    if x.count != reference.count { return .infinity }
    return diff.squareRoot() / max(norm.squareRoot(), 1e-12)
}
