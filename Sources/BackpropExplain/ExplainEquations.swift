import BackpropCore
import BackpropCPU
/// `backprop explain equations`: the four fundamental equations of backpropagation with numbers,
/// on a small network (2 → 3 → 2 by default), one sample, quadratic cost `C = ½‖aᴸ − y‖²`:
///
///     (BP1) δᴸ = ∇ₐC ⊙ σ'(zᴸ)                 the output error
///     (BP2) δˡ = ((Wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ'(zˡ)        the error moved back one layer
///     (BP3) ∂C/∂bˡ = δˡ
///     (BP4) ∂C/∂Wˡ = δˡ(aˡ⁻¹)ᵀ
///
/// Every gradient is matched against the graph oracle, the CPU backend and finite differences.
public struct EquationsExplanation: Explanation {
    /// Layer `l` (1-based): its parameters, forward values and the quantities of the equations.
    public struct Layer: Codable, Sendable {
        /// `l`, from 1.
        public var index: Int
        /// Units of this layer (`out`).
        public var rows: Int
        /// Units of the layer below (`in`).
        public var cols: Int
        /// `Wˡ`, `rows × cols`, column-major.
        public var weight: [Double]
        /// `bˡ`, `rows` values.
        public var bias: [Double]
        /// `zˡ = Wˡaˡ⁻¹ + bˡ`.
        public var z: [Double]
        /// `aˡ = σ(zˡ)`.
        public var a: [Double]
        /// `σ'(zˡ)`.
        public var slope: [Double]
        /// What `σ'(zˡ)` multiplies: `∇ₐC = aᴸ − y` for the output layer, `(Wˡ⁺¹)ᵀδˡ⁺¹` below it.
        public var upstream: [Double]
        /// `δˡ = upstream ⊙ σ'(zˡ)` (BP1 at the output, BP2 below), which is also `∂C/∂bˡ` (BP3).
        public var delta: [Double]
        /// `∂C/∂Wˡ = δˡ(aˡ⁻¹)ᵀ`, column-major; `∂C/∂bˡ = δˡ`.
        public var weightGradient: [Double]
    }

    /// Layer sizes, input first.
    public var sizes: [Int]
    /// `σ` of every layer, the output included.
    public var activation: Activation
    /// The seed of the example weights.
    public var seed: UInt64
    /// The sample `x = a⁰`.
    public var input: [Double]
    /// The target `y`.
    public var target: [Double]
    /// `C = ½‖aᴸ − y‖²`.
    public var cost: Double
    /// Layers `1…L`, in order.
    public var layers: [Layer]
    /// Every `∂C/∂W` and `∂C/∂b` against the graph, the CPU backend and finite differences.
    public var verification: Verification

    /// Derives the equations for one sample: `input` defaults to `0.8, −0.4, 0.3, 0.6, …` and
    /// `target` to the first class; weights are the seeded, rounded example weights. `seed` nil
    /// takes the first from 1 at which every unit passes error back (σ'(z) ≠ 0: only a ReLU can
    /// stop it, and a layer of switched-off ReLUs would show nothing but zeros). Throws
    /// ``ExplainError`` for softmax, or sizes or numbers that would not make a readable example.
    public init(sizes: [Int] = [2, 3, 2], activation: Activation = .sigmoid,
                input: [Double]? = nil, target: [Double]? = nil, seed: UInt64? = nil) throws {
        guard activation != .softmax else {
            throw ExplainError("softmax has no elementwise σ'; use sigmoid, tanh, relu or identity")
        }
        let x = input ?? (0..<(sizes.first ?? 0)).map { [0.8, -0.4, 0.3, 0.6][$0 % 4] }
        let y = target ?? (0..<(sizes.last ?? 0)).map { $0 == 0 ? 1.0 : 0.0 }
        try validateExample(sizes: sizes, input: x, target: y)
        let seed = seed ?? (1...1000).first { seed in
            Self.forward(exampleParameters(sizes: sizes, seed: seed, biases: true), sizes: sizes, activation: activation, x: x)
                .allSatisfy { $0.slope.allSatisfy { $0 != 0 } }
        } ?? 1
        self.sizes = sizes
        self.activation = activation
        self.seed = seed
        self.input = x
        self.target = y
        let parameters = exampleParameters(sizes: sizes, seed: seed, biases: true)
        var layers = Self.forward(parameters, sizes: sizes, activation: activation, x: x)
        let a = layers.last?.a ?? x
        cost = zip(a, y).reduce(0) { $0 + 0.5 * ($1.0 - $1.1) * ($1.0 - $1.1) }

        // (BP1) δᴸ = (aᴸ − y) ⊙ σ'(zᴸ); (BP2) δˡ = ((Wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ'(zˡ).
        let L = layers.count - 1
        layers[L].upstream = zip(a, y).map { $0 - $1 }
        for l in stride(from: L, through: 0, by: -1) {
            if l < L {
                let above = layers[l + 1]
                layers[l].upstream = (0..<above.cols).map { j in
                    (0..<above.rows).reduce(0) { $0 + above.weight[$1 + j * above.rows] * above.delta[$1] }
                }
            }
            layers[l].delta = zip(layers[l].upstream, layers[l].slope).map { $0 * $1 }
            // (BP4) ∂C/∂Wˡ = δˡ(aˡ⁻¹)ᵀ: element (i, j) = δᵢ·aⱼ.
            let previous = l == 0 ? x : layers[l - 1].a
            let (rows, cols) = (layers[l].rows, layers[l].cols)
            layers[l].weightGradient = (0..<(rows * cols)).map { k in layers[l].delta[k % rows] * previous[k / rows] }
        }
        self.layers = layers
        try requireFloatRange(computed: [cost] + layers.flatMap { $0.z + $0.a + $0.delta + $0.weightGradient })

        verification = try Self.verify(sizes: sizes, activation: activation, parameters: parameters,
                                       input: x, target: y, layers: layers)
    }

    /// Forward: zˡ = Wˡaˡ⁻¹ + bˡ, aˡ = σ(zˡ), and σ'(zˡ), layer by layer.
    static func forward(_ parameters: [DoubleLayerParameters], sizes: [Int], activation: Activation,
                        x: [Double]) -> [Layer] {
        var layers: [Layer] = []
        var a = x
        for (l, p) in parameters.enumerated() {
            let (rows, cols) = (sizes[l + 1], sizes[l])
            var z = p.bias
            for j in 0..<cols { for i in 0..<rows { z[i] += p.weight[i + j * rows] * a[j] } }
            a = z.map(activation.value)
            layers.append(Layer(index: l + 1, rows: rows, cols: cols, weight: p.weight, bias: p.bias, z: z, a: a,
                                slope: z.map(activation.derivative), upstream: [], delta: [], weightGradient: []))
        }
        return layers
    }

    static func verify(sizes: [Int], activation: Activation, parameters: [DoubleLayerParameters],
                       input: [Double], target: [Double], layers: [Layer]) throws -> Verification {
        let architecture = try Architecture(sizes: sizes, activations: Array(repeating: activation, count: sizes.count - 1),
                                            loss: .squaredError)
        let oracles = try oracleGradients(architecture: architecture, parameters: parameters,
                                          input: input, target: target, backend: CPUBackend())
        var names: [String] = [], explained: [Double] = []
        for layer in layers {
            let l = superscript(layer.index)
            for k in layer.weight.indices {
                names.append("∂C/∂W\(l)[\(k % layer.rows + 1),\(k / layer.rows + 1)]")
                explained.append(layer.weightGradient[k])
            }
            for i in layer.bias.indices {
                names.append("∂C/∂b\(l)[\(i + 1)]")
                explained.append(layer.delta[i])
            }
        }
        let checks = names.indices.map { k in
            GradientCheck(name: names[k], explained: explained[k], graph: oracles.graph[k],
                          backend: oracles.backend[k], finiteDifference: oracles.finiteDifference[k])
        }
        return Verification(checks: checks, backendNote:
            "CPU backend (Float) with the same weights; its squared error is this C = ½‖a − y‖², no scaling",
            finiteDifferenceNote: finiteDifferenceNote(oracles.reluKink, sizes: sizes))
    }

    public func render() -> String {
        let L = layers.count
        let sup = superscript(L)
        let σ = switch activation {
        case .sigmoid: "σ"
        case .relu: "ReLU"
        case .tanh, .identity, .softmax: activation.rawValue
        }
        var lines = heading("The four equations of backpropagation on a " + sizes.map(String.init).joined(separator: " → ") + " network")
        lines.append("  zˡ = Wˡaˡ⁻¹ + bˡ,  aˡ = σ(zˡ),  a⁰ = x,  σ = \(activation.rawValue),  C = ½‖a\(sup) − y‖²  (one sample)")
        lines.append("  δˡ = ∂C/∂zˡ is the error of layer l;  ⊙ is the Hadamard (elementwise) product")
        lines.append("")
        lines.append("parameters (seed \(seed), rounded to two decimals) and the sample")
        for layer in layers {
            let l = superscript(layer.index)
            lines += hstack([text("  W\(l) ="), matrix(layer.weight, rows: layer.rows, cols: layer.cols),
                             text("  b\(l) ="), columnVector(layer.bias)])
        }
        lines += hstack([text("  x ="), columnVector(input), text("  y ="), columnVector(target)])
        lines.append("")
        lines.append("forward")
        for layer in layers {
            let l = superscript(layer.index), prev = layer.index == 1 ? "x" : "a\(superscript(layer.index - 1))"
            lines += hstack([text("  z\(l) = W\(l)\(prev) + b\(l) ="), columnVector(layer.z),
                             text("  a\(l) = \(σ)(z\(l)) ="), columnVector(layer.a)])
        }
        lines.append("  C = ½‖a\(sup) − y‖² = \(num(cost))")
        lines.append("")
        guard let last = layers.last else { return lines.joined(separator: "\n") }
        lines.append("(BP1) δᴸ = ∇ₐC ⊙ σ'(zᴸ), and for this C, ∇ₐC = a\(sup) − y")
        lines += hstack([text("  δ\(sup) = (a\(sup) − y) ⊙ \(σ)'(z\(sup)) ="), columnVector(last.upstream), text("⊙"),
                         columnVector(last.slope), text("="), columnVector(last.delta)])
        lines.append("")
        if L > 1 {
            lines.append("(BP2) δˡ = ((Wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ'(zˡ): the error moves back through the transpose")
            for l in stride(from: L - 2, through: 0, by: -1) {
                let layer = layers[l], above = layers[l + 1]
                let s = superscript(layer.index), t = superscript(above.index)
                let transpose = (0..<(above.rows * above.cols)).map { k in   // (Wˡ⁺¹)ᵀ: cols × rows
                    above.weight[k / above.cols + (k % above.cols) * above.rows]
                }
                lines += hstack([text("  (W\(t))ᵀδ\(t) ="), matrix(transpose, rows: above.cols, cols: above.rows),
                                 columnVector(above.delta), text("="), columnVector(layer.upstream)])
                lines += hstack([text("  δ\(s) = ((W\(t))ᵀδ\(t)) ⊙ \(σ)'(z\(s)) ="), columnVector(layer.upstream),
                                 text("⊙"), columnVector(layer.slope), text("="), columnVector(layer.delta)])
                lines.append("")
            }
        }
        if layers.contains(where: { $0.slope.contains(0) }) {
            lines.append("  where \(σ)'(z) = 0\(activation == .relu ? " (a ReLU with z ≤ 0)" : "") the error stops: that unit's δ is 0, and so are the")
            lines.append("  gradients of its weights and bias for this sample")
            lines.append("")
        }
        lines.append("(BP3) ∂C/∂bˡ = δˡ")
        lines += hstack(layers.reversed().flatMap { layer -> [Block] in
            let s = superscript(layer.index)
            return [text("  ∂C/∂b\(s) = δ\(s) ="), columnVector(layer.delta)]
        })
        lines.append("")
        lines.append("(BP4) ∂C/∂Wˡ = δˡ(aˡ⁻¹)ᵀ: element (i, j) is δᵢ·aⱼ")
        for layer in layers.reversed() {
            let s = superscript(layer.index)
            let previous = layer.index == 1 ? input : layers[layer.index - 2].a
            let prevName = layer.index == 1 ? "x" : "a\(superscript(layer.index - 1))"
            lines += hstack([text("  ∂C/∂W\(s) = δ\(s)(\(prevName))ᵀ ="), columnVector(layer.delta),
                             matrix(previous, rows: 1, cols: previous.count), text("="),
                             matrix(layer.weightGradient, rows: layer.rows, cols: layer.cols)])
            lines.append("")
        }
        lines.append("check: every weight and bias")
        lines += verification.render()
        return lines.joined(separator: "\n")
    }
}
