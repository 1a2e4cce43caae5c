import Foundation

/// A fully connected network trained by backpropagation. It talks to its backend through the
/// `Backend` protocol only, so the same code runs on the CPU and on any OpenCL device.
///
/// A network, its matrices and its backend are used from one thread at a time (see ``Backend``).
public final class Network {
    /// Where the parameters live and every operation runs.
    public let backend: any Backend
    /// Sizes, activations and loss.
    public let architecture: Architecture
    /// The weight layers `1…L`, input side first.
    public let layers: [Dense]
    /// Every layer's weight, then every layer's bias (the layers' matrices are views of it).
    public let parameterBuffer: ParameterBuffer
    /// Every layer's `∂C/∂W` and `∂C/∂b`, laid out as ``parameterBuffer``.
    public let gradientBuffer: ParameterBuffer

    /// A network with freshly initialized weights (He for ReLU layers, Xavier otherwise),
    /// reproducible from `seed`. Throws ``ArchitectureError`` for an invalid architecture or
    /// one whose weights, gradients and optimizer state would not fit the backend's memory.
    public init(backend: any Backend, architecture: Architecture, seed: UInt64 = 0) throws {
        try architecture.validate()
        // Weights, gradients and up to two optimizer states, in Float; refuse before allocating.
        let sizes = architecture.sizes.map(Double.init)
        let parameters = zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
        // On the device that will hold them: an OpenCL GPU's memory, not the host's RAM.
        let needed = parameters * 4 * 4, memory = backend.memory
        let widest = zip(sizes, sizes.dropFirst()).map { $0.0 * $0.1 }.max() ?? 0
        guard needed < Double(memory.total) else {
            throw ArchitectureError.invalid(String(format: "%.0f parameters need %.1f GB for weights, gradients and optimizer state; %@ has %.1f GB",
                                                   parameters, needed / 1e9, backend.name, Double(memory.total) / 1e9))
        }
        guard widest * 4 <= Double(memory.largestBuffer) else {
            throw ArchitectureError.invalid(String(format: "a %.0f-weight layer needs a %.1f GB buffer; %@ allows at most %.1f GB in one buffer",
                                                   widest, widest * 4 / 1e9, backend.name, Double(memory.largestBuffer) / 1e9))
        }
        self.backend = backend
        self.architecture = architecture
        let s = architecture.sizes
        // Every weight, then every bias, in one buffer for all parameters and one for all
        // gradients (where the backend makes views): one optimizer call updates every layer,
        // with weight decay on one range (the weights').
        let L = architecture.layerCount
        let shapes = (0..<L).map { Shape(rows: s[$0 + 1], cols: s[$0]) } + (0..<L).map { Shape(rows: s[$0 + 1], cols: 1) }
        parameterBuffer = try ParameterBuffer(backend: backend, shapes: shapes)
        gradientBuffer = try ParameterBuffer(backend: backend, like: parameterBuffer)
        let p = parameterBuffer.tensors, g = gradientBuffer.tensors
        layers = (0..<L).map {
            Dense(inputs: s[$0], outputs: s[$0 + 1], activation: architecture.activations[$0],
                  weight: p[$0], bias: p[L + $0], weightGradient: g[$0], biasGradient: g[L + $0])
        }
        var rng = SeededGenerator(seed: seed)
        for layer in layers {
            try backend.upload(layer.initialWeights(using: &rng), to: layer.weight)
            try backend.fill(layer.bias, with: 0)
        }
    }

    // MARK: Forward pass

    /// Forward pass over the first `n` columns of `workspace.input`:
    /// `zˡ = Wˡ·aˡ⁻¹ + bˡ`, `aˡ = σ(zˡ)`, keeping every `z` and `a` for the backward pass.
    /// Returns the output activations `aᴸ` (`outputs × n`). With `deferOutput` the output
    /// layer stops at `zᴸ`: ``backward(_:count:meanOver:correct:outputActivated:)`` applies its σ (in the same pass as
    /// the loss), and the returned `aᴸ` is written only then.
    @discardableResult
    public func forward(_ workspace: Workspace, count n: Int, deferOutput: Bool = false) throws -> Matrix {
        var previous = workspace.input.prefixColumns(n)              // a⁰ = x
        for (i, layer) in layers.enumerated() {
            let z = workspace.z[i].prefixColumns(n), a = workspace.a[i].prefixColumns(n)
            // Layer l = i + 1: zˡ = Wˡ·aˡ⁻¹ + bˡ,  aˡ = σ(zˡ)   (one fused pass: bias and σ where Z is produced)
            try backend.denseForward(weight: layer.weight, bias: layer.bias, input: previous,
                                     activation: layer.activation, z: z,
                                     activated: deferOutput && i == layers.count - 1 ? nil : a)
            previous = a
        }
        return previous
    }

    // MARK: Backward pass

    /// Backward pass for the batch of the last `forward` (first `n` columns of the workspace):
    /// the four fundamental equations, in batched matrix form, writing every layer's
    /// `∂C/∂W` and `∂C/∂b` for `C = (1/n)·Σₓ Cₓ`. Adds `Σₓ Cₓ` to `workspace.lossSum`, and
    /// with `correct` the batch's right predictions to `workspace.correct`. Pass
    /// `outputActivated: false` after a `forward(deferOutput: true)`. With `meanOver` the
    /// gradient is of `(1/meanOver)·Σₓ Cₓ` over these `n` samples: a process of a data-parallel
    /// group passes the global batch, so that the processes' gradients sum to the global mean
    /// with no pass to rescale them.
    ///
    /// The comments number layers 1 … L as the equations (and the DocC article) do; the arrays
    /// count from 0, so `layers[i]`, `workspace.z[i]`, `workspace.a[i]` and `workspace.delta[i]`
    /// are layer i + 1's W, z, a and δ, and x = a⁰ is `workspace.input`.
    public func backward(_ workspace: Workspace, count n: Int, meanOver: Int? = nil, correct: Bool = false,
                         outputActivated: Bool = true) throws {
        let last = layers.count - 1      // layer L's index
        let zL = workspace.z[last].prefixColumns(n), aL = workspace.a[last].prefixColumns(n)

        // (1) δᴸ = ∇ₐC ⊙ σ'(zᴸ)  — one pass with the loss (and aᴸ = σ(zᴸ) when deferred);
        // the cross-entropy losses fold σ' in: δᴸ = (aᴸ − y)/n.
        try backend.outputLoss(architecture.loss, activation: layers[last].activation, z: zL, a: aL,
                               activate: !outputActivated, targets: workspace.target.prefixColumns(n),
                               meanOver: meanOver ?? n, gradient: workspace.delta[last].prefixColumns(n),
                               lossSum: workspace.lossSum, correct: correct ? workspace.correct : nil)

        for i in stride(from: last, through: 1, by: -1) {
            let layer = layers[i]
            // With l = i + 1, the layer of `layers[i]` (so aˡ⁻¹ is `workspace.a[i - 1]`):
            // (4) ∂C/∂Wˡ = δˡ·(aˡ⁻¹)ᵀ   (summed over the batch by the product itself)
            // (3) ∂C/∂bˡ = Σ_batch δˡ
            // (2) δˡ⁻¹ = ((Wˡ)ᵀ·δˡ) ⊙ σ'(zˡ⁻¹)   (σ' applied where the product is stored)
            // — all three in one call: each reads δˡ.
            try backend.layerBackward(weight: layer.weight, delta: workspace.delta[i].prefixColumns(n),
                                      a: workspace.a[i - 1].prefixColumns(n), weightGradient: layer.weightGradient,
                                      biasGradient: layer.biasGradient, activation: layers[i - 1].activation,
                                      z: workspace.z[i - 1].prefixColumns(n), into: workspace.delta[i - 1].prefixColumns(n))
        }
        // (4) and (3) for layer 1 (`layers[0]`), whose input is x = a⁰.
        try backend.parameterGradients(delta: workspace.delta[0].prefixColumns(n), input: workspace.input.prefixColumns(n),
                                       weightGradient: layers[0].weightGradient, biasGradient: layers[0].biasGradient)
    }

    // MARK: Host-side access

    /// Copies every layer's weight and bias to the host.
    public func parameters() throws -> [LayerParameters] {
        try layers.map { LayerParameters(weight: try backend.download($0.weight),
                                         bias: try backend.download($0.bias)) }
    }

    /// Replaces every layer's weight and bias; shapes must match the architecture.
    public func setParameters(_ parameters: [LayerParameters]) throws {
        guard parameters.count == layers.count else {
            throw ArchitectureError.invalid("\(parameters.count) layers of parameters for \(layers.count) layers")
        }
        for (layer, p) in zip(layers, parameters) {
            guard p.weight.count == layer.weight.count, p.bias.count == layer.bias.count else {
                throw ArchitectureError.invalid(
                    "parameters of \(p.weight.count)+\(p.bias.count) values for a \(layer.outputs)×\(layer.inputs) layer")
            }
            try backend.upload(p.weight, to: layer.weight)
            try backend.upload(p.bias, to: layer.bias)
        }
    }

    /// Copies every layer's last computed `∂C/∂W` and `∂C/∂b` to the host.
    public func gradients() throws -> [LayerParameters] {
        try layers.map { LayerParameters(weight: try backend.download($0.weightGradient),
                                         bias: try backend.download($0.biasGradient)) }
    }

    /// Loss `C = (1/n)·Σₓ Cₓ` and every parameter gradient for a batch given on the host
    /// (`inputs`: `sizes[0] × n`, `targets`: `outputs × n`, column-major). For tests and tools;
    /// training keeps its data on the device instead.
    public func lossAndGradients(inputs: [Float], targets: [Float], count n: Int)
        throws -> (loss: Double, gradients: [LayerParameters], output: [Float]) {
        let ws = try Workspace(backend: backend, architecture: architecture, batchSize: n)
        try backend.upload(inputs, to: ws.input)
        try backend.upload(targets, to: ws.target)
        let output = try forward(ws, count: n)
        try backend.fill(ws.lossSum, with: 0)
        try backward(ws, count: n)
        let loss = Double(try backend.scalar(ws.lossSum)) / Double(n)
        return (loss, try gradients(), try backend.download(output))
    }
}
