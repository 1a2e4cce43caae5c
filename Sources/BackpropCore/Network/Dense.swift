/// A fully connected layer `zˡ = Wˡ·aˡ⁻¹ + bˡ`, `aˡ = σ(zˡ)`, with its gradients.
/// Shapes: `W` is `out × in`, `b` and `∂C/∂b` are `out × 1`, `∂C/∂W` is `out × in`.
public final class Dense {
    /// Units of the layer below (`in`).
    public let inputs: Int
    /// Units of this layer (`out`).
    public let outputs: Int
    /// `σ` of this layer.
    public let activation: Activation
    /// `Wˡ`, `out × in`.
    public let weight: Matrix
    /// `bˡ`, `out × 1`.
    public let bias: Matrix
    /// `∂C/∂Wˡ`, `out × in`, written by each backward pass.
    public let weightGradient: Matrix
    /// `∂C/∂bˡ`, `out × 1`, written by each backward pass.
    public let biasGradient: Matrix

    /// A layer whose four matrices are given (views of the network's parameter buffers).
    init(inputs: Int, outputs: Int, activation: Activation, weight: Matrix, bias: Matrix,
         weightGradient: Matrix, biasGradient: Matrix) {
        self.inputs = inputs
        self.outputs = outputs
        self.activation = activation
        self.weight = weight
        self.bias = bias
        self.weightGradient = weightGradient
        self.biasGradient = biasGradient
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
    /// `W`, `out × in` floats, column-major (element `(i, j)` at `i + j·out`).
    public var weight: [Float]
    /// `b`, `out` floats.
    public var bias: [Float]
    /// Parameters of one layer; the shapes are checked where they are used.
    public init(weight: [Float], bias: [Float]) { self.weight = weight; self.bias = bias }
}
