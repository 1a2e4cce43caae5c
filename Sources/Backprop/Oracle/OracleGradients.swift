/// The gradients of one sample's cost by every oracle, in the order of `parameters.flattened`:
/// the scalar expression graph (Double), the CPU backend (Float, from Float copies of the
/// parameters and the sample) and central finite differences of ``referenceCost``.
public struct OracleGradients: Sendable {
    public var graph: [Double]
    public var backend: [Double]
    public var finiteDifference: [Double]
}

/// ``OracleGradients`` for one sample (`input`, `target`) of `architecture` at `parameters`.
public func oracleGradients(architecture: Architecture, parameters: [DoubleLayerParameters],
                            input: [Double], target: [Double]) throws -> OracleGradients {
    let graph = try GraphNetwork(architecture: architecture, parameters: parameters)
        .lossAndGradients(inputs: input, targets: target, count: 1)
    let network = try Network(backend: CPUBackend(), architecture: architecture)
    try network.setParameters(parameters.map(\.float))
    let backend = try network.lossAndGradients(inputs: input.map(Float.init), targets: target.map(Float.init), count: 1)
    let numeric = finiteDifferenceGradients(architecture: architecture, parameters: parameters,
                                            inputs: input, targets: target, count: 1)
    return OracleGradients(graph: graph.gradients.flattened, backend: backend.gradients.flattenedDouble,
                           finiteDifference: numeric)
}
