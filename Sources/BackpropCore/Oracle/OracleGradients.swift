/// The gradients of one sample's cost by every oracle, in the order of `parameters.flattened`:
/// the scalar expression graph (Double), the CPU backend (Float, from Float copies of the
/// parameters and the sample) and central finite differences of
/// ``referenceCost(architecture:parameters:inputs:targets:count:)``.
public struct OracleGradients: Sendable {
    /// `∂C/∂θ` by `Value.backward()` on ``GraphNetwork``.
    public var graph: [Double]
    /// `∂C/∂θ` by the backend's backward pass, widened from Float.
    public var backend: [Double]
    /// `∂C/∂θ` by central differences of the plain Double cost.
    public var finiteDifference: [Double]
    /// A ReLU unit at or within the finite-difference step of its kink, where the finite
    /// differences are not a derivative; nil when they are valid.
    public var reluKink: ReLUKink?
}

/// ``OracleGradients`` for one sample (`input`, `target`) of `architecture` at `parameters`;
/// the `backend` column is computed on `backend`.
public func oracleGradients(architecture: Architecture, parameters: [DoubleLayerParameters],
                            input: [Double], target: [Double], backend: any Backend) throws -> OracleGradients {
    let graph = try GraphNetwork(architecture: architecture, parameters: parameters)
        .lossAndGradients(inputs: input, targets: target, count: 1)
    let network = try Network(backend: backend, architecture: architecture)
    try network.setParameters(parameters.map(\.float))
    let computed = try network.lossAndGradients(inputs: input.map(Float.init), targets: target.map(Float.init), count: 1)
    let numeric = finiteDifferenceGradients(architecture: architecture, parameters: parameters,
                                            inputs: input, targets: target, count: 1)
    return OracleGradients(graph: graph.gradients.flattened, backend: computed.gradients.flattenedDouble,
                           finiteDifference: numeric,
                           reluKink: reluKink(architecture: architecture, parameters: parameters, input: input))
}

/// A ReLU pre-activation `zˡᵢ` (1-based layer and unit) that makes finite differences invalid:
/// it is within `threshold` of 0, or a step of a parameter moves it across 0.
public struct ReLUKink: Codable, Sendable, Equatable {
    /// `l`, from 1 for the first weight layer.
    public var layer: Int
    /// `i`, from 1.
    public var unit: Int
    /// `zˡᵢ` at the parameters themselves.
    public var z: Double

    /// A kink at unit `unit` of layer `layer` (both 1-based), where `zˡᵢ = z`.
    public init(layer: Int, unit: Int, z: Double) {
        self.layer = layer
        self.unit = unit
        self.z = z
    }
}

/// The pre-activations `z¹, …, zᴸ` of one sample in plain Double, as in
/// ``referenceCost(architecture:parameters:inputs:targets:count:)``.
func preActivations(architecture: Architecture, parameters: [DoubleLayerParameters],
                    input: [Double]) -> [[Double]] {
    let s = architecture.sizes
    var a = input, result: [[Double]] = []
    for (l, p) in parameters.enumerated() {
        let rows = s[l + 1]
        var z = p.bias
        for j in a.indices { for i in 0..<rows { z[i] += p.weight[i + j * rows] * a[j] } }
        result.append(z)
        a = z.map(architecture.activations[l].value)
    }
    return result
}

/// The first ReLU unit where central differences with step `h` (as in
/// ``centralDifferences(of:at:step:)``) are not valid: its `z` is within `threshold` (10·h by
/// default) of the kink at 0, or moving any one parameter by ±h puts `z` on the other side of
/// 0, so the difference quotient mixes the two slopes. Nil when no ReLU is near its kink, or
/// the network has no ReLU.
public func reluKink(architecture: Architecture, parameters: [DoubleLayerParameters], input: [Double],
                     step h: Double = 1e-5, threshold: Double? = nil) -> ReLUKink? {
    let relus = architecture.activations.indices.filter { architecture.activations[$0] == .relu }
    guard !relus.isEmpty else { return nil }
    let near = threshold ?? 10 * h
    let center = preActivations(architecture: architecture, parameters: parameters, input: input)
    for l in relus {
        if let i = center[l].firstIndex(where: { abs($0) < near }) {
            return ReLUKink(layer: l + 1, unit: i + 1, z: center[l][i])
        }
    }
    var flat = parameters.flattened
    for k in flat.indices {
        let original = flat[k]
        for shifted in [original + h, original - h] {
            flat[k] = shifted
            let z = preActivations(architecture: architecture, parameters: parameters.reshaped(flat), input: input)
            for l in relus {
                if let i = z[l].indices.first(where: { (z[l][$0] > 0) != (center[l][$0] > 0) }) {
                    return ReLUKink(layer: l + 1, unit: i + 1, z: center[l][i])
                }
            }
        }
        flat[k] = original
    }
    return nil
}
