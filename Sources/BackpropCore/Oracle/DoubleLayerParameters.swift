/// One layer's weight (`out × in`, column-major) and bias in Double: the parameters and
/// gradients of the oracles, where ``LayerParameters`` holds the backends' `Float`s.
public struct DoubleLayerParameters: Equatable, Sendable, Codable {
    /// `W`, `out × in` values, column-major (element `(i, j)` at `i + j·out`).
    public var weight: [Double]
    /// `b`, `out` values.
    public var bias: [Double]

    /// Parameters of one layer; the shapes are checked where they are used.
    public init(weight: [Double], bias: [Double]) {
        self.weight = weight
        self.bias = bias
    }

    /// The exact Double values of a backend's Float parameters.
    public init(_ p: LayerParameters) {
        self.init(weight: p.weight.map(Double.init), bias: p.bias.map(Double.init))
    }

    /// Rounded to Float.
    public var float: LayerParameters {
        LayerParameters(weight: weight.map(Float.init), bias: bias.map(Float.init))
    }
}

/// A network's Double parameters (or gradients) as one flat vector and back.
extension Array where Element == DoubleLayerParameters {
    /// Every weight then every bias of each layer in turn, as one vector (for finite
    /// differences and norm-wise comparisons).
    public var flattened: [Double] { flatMap { $0.weight + $0.bias } }

    /// The inverse of `flattened`, shaped like `self`.
    public func reshaped(_ flat: [Double]) -> [DoubleLayerParameters] {
        precondition(flat.count == flattened.count, "\(flat.count) values for \(flattened.count) parameters")
        var offset = 0
        return map { layer in
            let w = [Double](flat[offset..<(offset + layer.weight.count)])
            offset += layer.weight.count
            let b = [Double](flat[offset..<(offset + layer.bias.count)])
            offset += layer.bias.count
            return DoubleLayerParameters(weight: w, bias: b)
        }
    }
}

/// A network's Float parameters (or gradients) as one flat Double vector.
extension Array where Element == LayerParameters {
    /// The backend's parameters or gradients as one Double vector, in the order of
    /// ``Swift/Array/flattened``.
    public var flattenedDouble: [Double] { flatMap { $0.weight.map(Double.init) + $0.bias.map(Double.init) } }
}
