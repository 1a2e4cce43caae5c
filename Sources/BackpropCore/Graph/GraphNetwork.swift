/// One of our fully connected networks built as a scalar expression graph in Double: the
/// gradient oracle for the backends. It shares no code with them: every `z`, `a` and loss term
/// is a `Value`, and the gradients come from the chain rule in `Value.backward()`.
///
/// The definitions are the backends' (see ``Loss``), for a batch of `n` samples:
/// - `C = (1/n)·Σₓ Cₓ`;
/// - squared error: `Cₓ = ½·Σₖ (aₖ − yₖ)²`;
/// - softmax cross-entropy: `Cₓ = Σₖ yₖ·(LSE(z) − zₖ)`, with `LSE(z) = m + log Σⱼ e^{zⱼ − m}`
///   and `m = maxⱼ zⱼ` held constant (LSE does not depend on the shift, so neither does ∂C/∂z);
/// - binary cross-entropy: `Cₓ = Σₖ softplus(zₖ) − yₖ·zₖ`, which is
///   `−[y·log σ(z) + (1 − y)·log(1 − σ(z))]` without `log 0`.
///
/// Shapes as everywhere: weights `out × in` column-major (element `(i, j)` at `i + j·out`),
/// inputs `features × n` and targets `outputs × n` column-major, one column per sample.
public final class GraphNetwork {
    /// Layer sizes, activations and loss.
    public let architecture: Architecture
    /// Per layer `l`, the leaves `Wˡ` (`out × in`, column-major) and `bˡ`.
    public let weights: [[Value]]
    /// Per layer `l`, the leaves `bˡ` (`out`).
    public let biases: [[Value]]

    /// One leaf per parameter, labelled `W¹[i,j]`, `b¹[i]`; throws ``ArchitectureError`` when the
    /// architecture is invalid or a layer's parameter counts do not match its sizes.
    public init(architecture: Architecture, parameters: [DoubleLayerParameters]) throws {
        try architecture.validate()
        let s = architecture.sizes
        guard parameters.count == architecture.layerCount else {
            throw ArchitectureError.invalid("\(parameters.count) layers of parameters for \(architecture.layerCount) layers")
        }
        for (l, p) in parameters.enumerated() where p.weight.count != s[l + 1] * s[l] || p.bias.count != s[l + 1] {
            throw ArchitectureError.invalid("layer \(l + 1) has \(p.weight.count)+\(p.bias.count) parameters; "
                                            + "a \(s[l + 1])×\(s[l]) layer needs \(s[l + 1] * s[l])+\(s[l + 1])")
        }
        self.architecture = architecture
        weights = parameters.enumerated().map { l, p in
            p.weight.enumerated().map { k, w in
                let (i, j) = (k % s[l + 1], k / s[l + 1])
                return Value(w, label: "W\(superscript(l + 1))[\(i + 1),\(j + 1)]")
            }
        }
        biases = parameters.enumerated().map { l, p in
            p.bias.enumerated().map { i, b in Value(b, label: "b\(superscript(l + 1))[\(i + 1)]") }
        }
    }

    /// The graph of Float parameters (a backend's), widened exactly to Double.
    public convenience init(architecture: Architecture, parameters: [LayerParameters]) throws {
        try self.init(architecture: architecture, parameters: parameters.map(DoubleLayerParameters.init))
    }

    /// The graph of one batch: every layer's `z` and `a` per sample, and the cost `C`.
    public struct Pass {
        /// `z[l][x][i]`, `a[l][x][i]`: unit `i` of layer `l + 1` for sample `x`.
        public let z: [[[Value]]]
        /// `a[l][x][i]`: the activations, indexed as `z`; the last layer's are the softmax for
        /// cross-entropy.
        public let a: [[[Value]]]
        /// `C`, the mean of the samples' costs: the node `backward()` starts from.
        public let cost: Value
    }

    /// Builds the forward pass and the cost for `n` samples as a graph (no gradients yet).
    public func forward(inputs: [Double], targets: [Double], count n: Int) throws -> Pass {
        let s = architecture.sizes, outputs = s[s.count - 1]
        guard n > 0, inputs.count == s[0] * n, targets.count == outputs * n else {
            throw ArchitectureError.invalid("a batch of \(n) needs \(s[0] * n) inputs and \(outputs * n) targets, "
                                            + "got \(inputs.count) and \(targets.count)")
        }
        var zs = [[[Value]]](repeating: [], count: architecture.layerCount)
        var activations = zs
        var terms: [Value] = []
        for x in 0..<n {
            var a = (0..<s[0]).map { Value(inputs[$0 + x * s[0]], label: "x\(subscriptIndex($0 + 1))") }
            for l in 0..<architecture.layerCount {
                let (rows, cols) = (s[l + 1], s[l])
                let z = (0..<rows).map { i in                           // zᵢ = Σⱼ Wᵢⱼ·aⱼ + bᵢ
                    Value.sum((0..<cols).map { j in weights[l][i + j * rows] * a[j] } + [biases[l][i]])
                }
                zs[l].append(z)
                a = z.map { $0.activated(architecture.activations[l]) }
                activations[l].append(a)
            }
            let y = Array(targets[(x * outputs)..<((x + 1) * outputs)])
            let (cost, output) = sampleCost(z: zs[zs.count - 1][x], a: a, y: y)
            activations[activations.count - 1][x] = output
            terms.append(cost)
        }
        let cost = Value.sum(terms) / Double(n)                        // C = (1/n)·Σₓ Cₓ
        cost.label = "C"
        return Pass(z: zs, a: activations, cost: cost)
    }

    /// `Cₓ` for one sample, and the output activations (the softmax for cross-entropy).
    private func sampleCost(z: [Value], a: [Value], y: [Double]) -> (cost: Value, output: [Value]) {
        switch architecture.loss {
        case .squaredError:
            return (Value.sum(zip(a, y).map { ($0 - $1).pow(2) }) * 0.5, a)
        case .softmaxCrossEntropy:
            let m = z.map(\.data).max() ?? 0
            let e = z.map { ($0 - m).exp() }
            let total = Value.sum(e)
            let lse = total.log() + m
            let terms = zip(z, y).filter { $0.1 != 0 }.map { zk, yk in (lse - zk) * yk }
            return (Value.sum(terms), e.map { $0 / total })
        case .binaryCrossEntropy:
            return (Value.sum(zip(z, y).map { zk, yk in zk.softplus() - zk * yk }), a)
        }
    }

    /// The loss, the outputs and every parameter gradient for a batch, by the graph.
    public func lossAndGradients(inputs: [Double], targets: [Double], count n: Int) throws -> GraphGradients {
        let pass = try forward(inputs: inputs, targets: targets, count: n)
        pass.cost.backward()
        let s = architecture.sizes, outputs = s[s.count - 1]
        var output = [Double](repeating: 0, count: outputs * n)
        for x in 0..<n { for k in 0..<outputs { output[k + x * outputs] = pass.a[pass.a.count - 1][x][k].data } }
        let gradients = zip(weights, biases).map { w, b in
            DoubleLayerParameters(weight: w.map(\.grad), bias: b.map(\.grad))
        }
        return GraphGradients(loss: pass.cost.data, output: output, gradients: gradients)
    }

    /// The same for Float inputs and targets, widened exactly to Double.
    public func lossAndGradients(inputs: [Float], targets: [Float], count n: Int) throws -> GraphGradients {
        try lossAndGradients(inputs: inputs.map(Double.init), targets: targets.map(Double.init), count: n)
    }
}

/// What the graph oracle returns for a batch.
public struct GraphGradients: Sendable {
    /// The cost `C` of the batch (mean over its samples).
    public var loss: Double
    /// Output activations, `outputs × n` column-major.
    public var output: [Double]
    /// `∂C/∂Wˡ` and `∂C/∂bˡ` per layer, in Double.
    public var gradients: [DoubleLayerParameters]
    /// The same gradients rounded to `Float`, shaped like the backends' ``LayerParameters``.
    public var floatGradients: [LayerParameters] { gradients.map(\.float) }
}
