/// The shape of a fully connected network: layer sizes, one activation per layer, and the loss.
public struct Architecture: Equatable, Sendable, Codable, CustomStringConvertible {
    /// `[inputs, hidden…, outputs]`.
    public var sizes: [Int]
    /// One per weight layer (`sizes.count − 1`); the last is the output activation.
    public var activations: [Activation]
    /// The cost minimized; a fused loss fixes the output activation (see ``Loss``).
    public var loss: Loss

    /// An architecture, validated: throws ``ArchitectureError`` as ``validate()`` does.
    public init(sizes: [Int], activations: [Activation], loss: Loss) throws {
        self.sizes = sizes
        self.activations = activations
        self.loss = loss
        try validate()
    }

    /// Hidden layers share `hidden`; the output activation follows from the loss
    /// (softmax for cross-entropy, sigmoid for binary cross-entropy and squared error).
    public init(inputs: Int, hidden: [Int], outputs: Int, activation: Activation = .relu,
                loss: Loss = .softmaxCrossEntropy) throws {
        let output = loss.requiredOutputActivation ?? .sigmoid
        try self.init(sizes: [inputs] + hidden + [outputs],
                      activations: Array(repeating: activation, count: hidden.count) + [output],
                      loss: loss)
    }

    /// Weight layers `L` (the input is no layer): `sizes.count − 1`.
    public var layerCount: Int { activations.count }
    /// Units of the output layer.
    public var outputCount: Int { sizes[sizes.count - 1] }
    /// The last layer's activation `σᴸ`.
    public var outputActivation: Activation { activations[activations.count - 1] }

    /// Number of trainable parameters.
    public var parameterCount: Int {
        zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
    }

    /// Throws ``ArchitectureError/invalid(_:)`` unless there are at least two sizes, all
    /// positive, one activation per layer, softmax only at the output, and the output
    /// activation the loss requires (a softmax output only with cross-entropy).
    public func validate() throws {
        guard sizes.count >= 2 else { throw ArchitectureError.invalid("a network needs at least an input and an output size, got \(sizes)") }
        guard let bad = sizes.first(where: { $0 <= 0 }) else {
            guard activations.count == sizes.count - 1 else {
                throw ArchitectureError.invalid("\(activations.count) activations for \(sizes.count - 1) layers")
            }
            if let i = activations.dropLast().firstIndex(of: .softmax) {
                throw ArchitectureError.invalid("softmax is for the output layer only (layer \(i))")
            }
            if let required = loss.requiredOutputActivation, outputActivation != required {
                throw ArchitectureError.invalid("loss \(loss.rawValue) needs a \(required.rawValue) output, not \(outputActivation.rawValue)")
            }
            if loss == .squaredError, outputActivation == .softmax {
                throw ArchitectureError.invalid("a softmax output needs the cross-entropy loss")
            }
            return
        }
        throw ArchitectureError.invalid("layer sizes must be positive, got \(bad) in \(sizes)")
    }

    /// `784 → 128 relu → 10 softmax · cross-entropy`.
    public var description: String {
        zip(sizes.dropFirst(), activations).reduce("\(sizes[0])") { "\($0) → \($1.0) \($1.1.rawValue)" }
            + " · \(loss.rawValue)"
    }
}

/// Why an architecture or its parameters cannot make a network.
public enum ArchitectureError: Error, CustomStringConvertible, Equatable {
    /// What is wrong, in words (“layer sizes must be positive, got 0 in [4, 0, 2]”).
    case invalid(String)
    /// The message, prefixed “invalid network:”.
    public var description: String {
        switch self { case let .invalid(m): "invalid network: \(m)" }
    }
}
