import Foundation

/// The cost of a network in plain Double arithmetic: no graph, no backend. Finite differences
/// of this function are the oracle that shares no code with either of the other two.
/// Definitions as in ``GraphNetwork`` and ``Loss``: `C = (1/n)·Σₓ Cₓ`.
public func referenceCost(architecture: Architecture, parameters: [DoubleLayerParameters],
                          inputs: [Double], targets: [Double], count n: Int) -> Double {
    let s = architecture.sizes, outputs = s[s.count - 1]
    var total = 0.0
    for x in 0..<n {
        var a = Array(inputs[(x * s[0])..<((x + 1) * s[0])])
        var z: [Double] = []
        for (l, p) in parameters.enumerated() {
            let rows = s[l + 1]
            z = p.bias
            for j in a.indices { for i in 0..<rows { z[i] += p.weight[i + j * rows] * a[j] } }
            a = z.map(architecture.activations[l].value)
        }
        let y = Array(targets[(x * outputs)..<((x + 1) * outputs)])
        switch architecture.loss {
        case .squaredError:
            total += zip(a, y).reduce(0) { $0 + 0.5 * ($1.0 - $1.1) * ($1.0 - $1.1) }
        case .softmaxCrossEntropy:
            let m = z.max() ?? 0
            let lse = m + log(z.reduce(0) { $0 + exp($1 - m) })
            total += zip(z, y).reduce(0) { $0 + $1.1 * (lse - $1.0) }
        case .binaryCrossEntropy:
            total += zip(z, y).reduce(0) { $0 + max($1.0, 0) + log1p(exp(-abs($1.0))) - $1.1 * $1.0 }
        }
    }
    return total / Double(n)
}

/// Every parameter gradient of ``referenceCost(architecture:parameters:inputs:targets:count:)``
/// by central finite differences, in the order of `parameters.flattened`.
public func finiteDifferenceGradients(architecture: Architecture, parameters: [DoubleLayerParameters],
                                      inputs: [Double], targets: [Double], count n: Int) -> [Double] {
    centralDifferences(of: { flat in
        referenceCost(architecture: architecture, parameters: parameters.reshaped(flat),
                      inputs: inputs, targets: targets, count: n)
    }, at: parameters.flattened)
}
