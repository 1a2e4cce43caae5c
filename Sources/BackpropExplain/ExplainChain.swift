import BackpropCore
import BackpropCPU
import Foundation

/// `backprop explain chain`: the network of one neuron per layer,
///
///     x → z¹ = θ₁x + b₁, a¹ = g(z¹) → z² = θ₂a¹ + b₂, a² = g(z²) → z³ = θ₃a² + b₃, ŷ = σ(z³)
///     C = (ŷ − y)²
///
/// with every gradient by the chain rule, and the tutorial's term-by-term product
/// ∂C/∂θ₂ = 2(ŷ − y)·σ(z³)(1 − σ(z³))·θ₃·g'(z²)·a¹. The backend's squared error is ½(ŷ − y)², so
/// its gradients are doubled before they are compared.
public struct ChainExplanation: Explanation {
    /// `g`, the activation of the two hidden neurons.
    public var hidden: Activation
    /// The input `x`.
    public var x: Double
    /// The target `y`.
    public var y: Double
    /// θ₁, θ₂, θ₃ and b₁, b₂, b₃.
    public var theta: [Double]
    /// b₁, b₂, b₃.
    public var bias: [Double]
    /// z¹, a¹, z², a², z³, ŷ and C, in order.
    public var forward: [DerivationStep]
    /// Each link of the chain on its own: ∂C/∂ŷ, ∂ŷ/∂z³, ∂z³/∂a², ….
    public var local: [DerivationStep]
    /// ∂C/∂z³, ∂C/∂z², ∂C/∂z¹: each computed once and reused below it.
    public var backward: [DerivationStep]
    /// ∂C/∂θ₃, ∂C/∂b₃, ∂C/∂θ₂, ∂C/∂b₂, ∂C/∂θ₁, ∂C/∂b₁.
    public var gradients: [DerivationStep]
    /// ∂C/∂θ₂ and ∂C/∂b₂ as the product of their five factors, written out.
    public var termByTerm: [DerivationStep]
    /// The six gradients against the graph, the CPU backend (×2) and finite differences.
    public var verification: Verification

    /// Derives the chain at these numbers. Throws ``ExplainError`` unless there are three
    /// weights and three biases, `hidden` is not softmax, and every number fits in a Float.
    public init(x: Double = 0.5, y: Double = 1, theta: [Double] = [0.9, 1.3, -0.7],
                bias: [Double] = [0.1, -0.4, 0.5], hidden: Activation = .relu) throws {
        guard theta.count == 3, bias.count == 3 else {
            throw ExplainError("the chain has three layers: give 3 weights θ and 3 biases b, got \(theta.count) and \(bias.count)")
        }
        guard hidden != .softmax else { throw ExplainError("softmax needs more than one neuron; use relu, sigmoid, tanh or identity") }
        try requireFloatRange([x], option: "--x")
        try requireFloatRange([y], option: "--y")
        try requireFloatRange(theta, option: "--theta")
        try requireFloatRange(bias, option: "--bias")
        self.hidden = hidden
        self.x = x
        self.y = y
        self.theta = theta
        self.bias = bias
        let chain = Chain(x: x, y: y, theta: theta, bias: bias, g: hidden)
        forward = chain.forwardSteps
        local = chain.localSteps
        backward = chain.backwardSteps
        gradients = chain.gradientSteps
        termByTerm = chain.termByTermSteps
        try requireFloatRange(computed: (forward + local + backward + gradients).map(\.value))
        verification = try Self.verify(x: x, y: y, theta: theta, bias: bias, hidden: hidden,
                                       explained: gradients.map(\.value))
    }

    /// The cost as plain Double arithmetic of (θ₁, b₁, θ₂, b₂, θ₃, b₃), for finite differences.
    static func cost(_ p: [Double], x: Double, y: Double, hidden g: Activation) -> Double {
        let a1 = g.value(p[0] * x + p[1])
        let a2 = g.value(p[2] * a1 + p[3])
        let yHat = 1 / (1 + exp(-(p[4] * a2 + p[5])))
        return (yHat - y) * (yHat - y)
    }

    static func verify(x: Double, y: Double, theta t: [Double], bias b: [Double], hidden g: Activation,
                       explained: [Double]) throws -> Verification {
        // The graph: the same chain as `Value`s.
        let params = (0..<3).flatMap { l in
            [Value(t[l], label: "θ\(subscriptIndex(l + 1))"), Value(b[l], label: "b\(subscriptIndex(l + 1))")]
        }
        let a1 = (params[0] * x + params[1]).activated(g)
        let a2 = (params[2] * a1 + params[3]).activated(g)
        let yHat = (params[4] * a2 + params[5]).sigmoid()
        let c = (yHat - y).pow(2)
        c.backward()

        // The backend: a 1 → 1 → 1 → 1 network with the same numbers; C = ½(ŷ − y)² there.
        let architecture = try Architecture(sizes: [1, 1, 1, 1], activations: [g, g, .sigmoid], loss: .squaredError)
        let network = try Network(backend: CPUBackend(), architecture: architecture)
        try network.setParameters((0..<3).map { LayerParameters(weight: [Float(t[$0])], bias: [Float(b[$0])]) })
        let backend = try network.lossAndGradients(inputs: [Float(x)], targets: [Float(y)], count: 1)
        let backendGradients = backend.gradients.flattenedDouble.map { 2 * $0 }

        // The same order as the network's flattened parameters, so the network's kink check
        // steps the same parameters by the same h as these differences.
        let flat = (0..<3).flatMap { [t[$0], b[$0]] }
        let numeric = centralDifferences(of: { cost($0, x: x, y: y, hidden: g) }, at: flat)
        let kink = reluKink(architecture: architecture,
                            parameters: (0..<3).map { DoubleLayerParameters(weight: [t[$0]], bias: [b[$0]]) },
                            input: [x])
        let names = ["∂C/∂θ₁", "∂C/∂b₁", "∂C/∂θ₂", "∂C/∂b₂", "∂C/∂θ₃", "∂C/∂b₃"]
        let checks = names.indices.map { i in
            GradientCheck(name: names[i], explained: explained[i], graph: params[i].grad,
                          backend: backendGradients[i], finiteDifference: numeric[i])
        }
        return Verification(checks: checks, backendNote:
            "CPU backend, a 1→1→1→1 network with the loss ½(ŷ − y)²: its gradients ×2 to compare with C = (ŷ − y)²",
            finiteDifferenceNote: finiteDifferenceNote(kink, sizes: architecture.sizes))
    }

    public func render() -> String {
        let gName = hidden == .relu ? "ReLU" : hidden.rawValue
        var lines = heading("A chain of one neuron per layer")
        lines.append("  x → z¹ = θ₁x + b₁, a¹ = g(z¹) → z² = θ₂a¹ + b₂, a² = g(z²) → z³ = θ₃a² + b₃, ŷ = σ(z³)")
        lines.append("  C = (ŷ − y)²,  g = \(gName),  σ = sigmoid")
        lines.append("  x = \(num(x)), y = \(num(y)),  " + (0..<3).map {
            "θ\(subscriptIndex($0 + 1)) = \(num(theta[$0])), b\(subscriptIndex($0 + 1)) = \(num(bias[$0]))"
        }.joined(separator: ",  "))
        lines.append("")
        lines.append("forward")
        lines += BackpropExplain.render(forward)
        lines.append("")
        lines.append("local derivatives: each link on its own")
        lines += BackpropExplain.render(local)
        lines.append("")
        lines.append("backward: ∂C/∂z³ is computed once, and each ∂C/∂zˡ reuses the one above it")
        lines += BackpropExplain.render(backward)
        lines.append("")
        lines.append("gradients: branch off at each layer (∂zˡ/∂θₗ = aˡ⁻¹, ∂zˡ/∂bₗ = 1)")
        lines += BackpropExplain.render(gradients)
        lines.append("")
        lines.append("∂C/∂θ₂ term by term = ∂C/∂ŷ·∂ŷ/∂z³·∂z³/∂a²·∂a²/∂z²·∂z²/∂θ₂, and ∂C/∂b₂ with 1 in place of a¹")
        for step in termByTerm {
            lines.append("  \(step.name) = \(step.formula)")
            lines.append("  \(pad("", step.name.count)) = \(step.substituted)")
            lines.append("  \(pad("", step.name.count)) = \(num(step.value))")
        }
        lines.append("  the first two factors are ∂C/∂z³ = \(num(backward[0].value)), already computed above")
        lines.append("")
        lines.append("check")
        lines += verification.render()
        return lines.joined(separator: "\n")
    }
}

/// Every number of the chain at one point, computed once; each section of the explanation is
/// one view of them.
private struct Chain {
    let x, y: Double
    let t, b: [Double]
    let g: Activation
    let gName: String
    // Forward.
    let z1, a1, z2, a2, z3, yHat, cost: Double
    // Local derivatives and the errors ∂C/∂zˡ.
    let dCdy, dydz3, g1, g2, dz1, dz2, dz3: Double

    init(x: Double, y: Double, theta t: [Double], bias b: [Double], g: Activation) {
        (self.x, self.y, self.t, self.b, self.g) = (x, y, t, b, g)
        gName = g == .relu ? "ReLU" : g.rawValue
        z1 = t[0] * x + b[0]; a1 = g.value(z1)
        z2 = t[1] * a1 + b[1]; a2 = g.value(z2)
        z3 = t[2] * a2 + b[2]; yHat = Activation.sigmoid.value(z3)
        cost = (yHat - y) * (yHat - y)
        dCdy = 2 * (yHat - y); dydz3 = yHat * (1 - yHat)
        g2 = g.derivative(z2); g1 = g.derivative(z1)
        // Backward: each ∂C/∂zˡ once, from the one above it.
        dz3 = dCdy * dydz3
        dz2 = dz3 * t[2] * g2
        dz1 = dz2 * t[1] * g1
    }

    var forwardSteps: [DerivationStep] {
        [
            DerivationStep("z¹", "θ₁x + b₁", "\(factor(t[0]))·\(factor(x)) + \(factor(b[0]))", z1),
            DerivationStep("a¹", "g(z¹)", "\(gName)(\(num(z1)))", a1),
            DerivationStep("z²", "θ₂a¹ + b₂", "\(factor(t[1]))·\(factor(a1)) + \(factor(b[1]))", z2),
            DerivationStep("a²", "g(z²)", "\(gName)(\(num(z2)))", a2),
            DerivationStep("z³", "θ₃a² + b₃", "\(factor(t[2]))·\(factor(a2)) + \(factor(b[2]))", z3),
            DerivationStep("ŷ", "σ(z³)", "σ(\(num(z3)))", yHat),
            DerivationStep("C", "(ŷ − y)²", "(\(num(yHat)) − \(factor(y)))²", cost),
        ]
    }

    /// Each link of the chain on its own.
    var localSteps: [DerivationStep] {
        func gPrime(_ z: Double) -> String { g == .relu ? "(\(num(z)) \(z > 0 ? ">" : "≤") 0)" : "\(gName)'(\(num(z)))" }
        return [
            DerivationStep("∂C/∂ŷ", "2(ŷ − y)", "2·(\(num(yHat)) − \(factor(y)))", dCdy),
            DerivationStep("∂ŷ/∂z³", "σ(z³)(1 − σ(z³))", "\(num(yHat))·(1 − \(num(yHat)))", dydz3),
            DerivationStep("∂z³/∂a²", "θ₃", "", t[2]),
            DerivationStep("∂a²/∂z²", "g'(z²)", gPrime(z2), g2),
            DerivationStep("∂z²/∂a¹", "θ₂", "", t[1]),
            DerivationStep("∂a¹/∂z¹", "g'(z¹)", gPrime(z1), g1),
            DerivationStep("∂z³/∂θ₃", "a²", "", a2),
            DerivationStep("∂z²/∂θ₂", "a¹", "", a1),
            DerivationStep("∂z¹/∂θ₁", "x", "", x),
            DerivationStep("∂zˡ/∂bₗ", "1", "", 1),
        ]
    }

    var backwardSteps: [DerivationStep] {
        [
            DerivationStep("∂C/∂z³", "∂C/∂ŷ·∂ŷ/∂z³", "\(factor(dCdy))·\(factor(dydz3))", dz3),
            DerivationStep("∂C/∂z²", "∂C/∂z³·θ₃·g'(z²)", "\(factor(dz3))·\(factor(t[2]))·\(factor(g2))", dz2),
            DerivationStep("∂C/∂z¹", "∂C/∂z²·θ₂·g'(z¹)", "\(factor(dz2))·\(factor(t[1]))·\(factor(g1))", dz1),
        ]
    }

    var gradientSteps: [DerivationStep] {
        [
            DerivationStep("∂C/∂θ₁", "∂C/∂z¹·x", "\(factor(dz1))·\(factor(x))", dz1 * x),
            DerivationStep("∂C/∂b₁", "∂C/∂z¹·1", "", dz1),
            DerivationStep("∂C/∂θ₂", "∂C/∂z²·a¹", "\(factor(dz2))·\(factor(a1))", dz2 * a1),
            DerivationStep("∂C/∂b₂", "∂C/∂z²·1", "", dz2),
            DerivationStep("∂C/∂θ₃", "∂C/∂z³·a²", "\(factor(dz3))·\(factor(a2))", dz3 * a2),
            DerivationStep("∂C/∂b₃", "∂C/∂z³·1", "", dz3),
        ]
    }

    /// The tutorial's five-factor product, multiplied out without reusing anything.
    var termByTermSteps: [DerivationStep] {
        let factors = [dCdy, dydz3, t[2], g2]
        let written = "2(ŷ − y)·σ(z³)(1 − σ(z³))·θ₃·g'(z²)"
        let numbers = factors.map(factor).joined(separator: "·")
        return [
            DerivationStep("∂C/∂θ₂", written + "·a¹", numbers + "·" + factor(a1), factors.reduce(a1, *)),
            DerivationStep("∂C/∂b₂", written + "·1", numbers + "·1", factors.reduce(1, *)),
        ]
    }
}
