/// A fully connected layer `zˡ = Wˡ·aˡ⁻¹ + bˡ`, `aˡ = σ(zˡ)`, with its gradients.
/// Shapes: `W` is `out × in`, `b` and `∂C/∂b` are `out × 1`, `∂C/∂W` is `out × in`.
public final class Dense {
    public let inputs: Int
    public let outputs: Int
    public let activation: Activation
    public let weight: Matrix
    public let bias: Matrix
    public let weightGradient: Matrix
    public let biasGradient: Matrix

    init(backend: any Backend, inputs: Int, outputs: Int, activation: Activation) throws {
        self.inputs = inputs
        self.outputs = outputs
        self.activation = activation
        weight = try backend.makeMatrix(rows: outputs, cols: inputs)
        bias = try backend.makeMatrix(rows: outputs, cols: 1)
        weightGradient = try backend.makeMatrix(rows: outputs, cols: inputs)
        biasGradient = try backend.makeMatrix(rows: outputs, cols: 1)
    }

    /// Initial weights: He (`N(0, 2/in)`) for ReLU, Xavier/Glorot (`N(0, 2/(in+out))`) for
    /// sigmoid, tanh, identity and the output layers; biases start at zero.
    func initialWeights(using rng: inout SeededGenerator) -> [Float] {
        let variance = activation == .relu ? 2.0 / Double(inputs) : 2.0 / Double(inputs + outputs)
        let std = variance.squareRoot()
        return (0..<(inputs * outputs)).map { _ in Float(rng.nextNormal() * std) }
    }
}

/// Host copies of one layer's weight (`out × in`, column-major) and bias.
public struct LayerParameters: Equatable, Sendable {
    public var weight: [Float]
    public var bias: [Float]
    public init(weight: [Float], bias: [Float]) { self.weight = weight; self.bias = bias }
}
