import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// The graph oracle against the CPU backend, and against finite differences of a plain Double
/// forward pass. Tolerances:
/// - CPU vs graph, ≤ 1e−4 relative to the gradient's norm (and the loss's size): the backend
///   computes in Float (ε ≈ 6e−8); a few layers of sums of products of O(1) terms and the
///   rounding of the inputs to Float stay near 1e−6, so 1e−4 is a wide margin that a wrong
///   formula (an O(1) error, or a missing 1/n or ½) cannot pass.
/// - graph vs finite differences, ≤ 1e−6: both in Double; h = 1e−5 leaves about 1e−9.
@Suite("Graph: the network oracle")
struct GraphNetworkTests {
    struct Case: CustomStringConvertible, Sendable {
        var sizes: [Int]
        var hidden: Activation
        var loss: Loss
        var batch: Int
        var seed: UInt64
        var description: String { "\(sizes) \(hidden.rawValue) \(loss.rawValue) n=\(batch)" }

        var architecture: Architecture {
            get throws {
                let output = loss.requiredOutputActivation ?? (hidden == .identity ? .identity : .sigmoid)
                return try Architecture(sizes: sizes,
                                        activations: Array(repeating: hidden, count: sizes.count - 2) + [output],
                                        loss: loss)
            }
        }

        /// Parameters from the network's own initialization, plus random biases (they start at 0).
        func batchData() -> (inputs: [Float], targets: [Float]) {
            var rng = SeededGenerator(seed: seed &+ 1000)
            let outputs = sizes[sizes.count - 1]
            let inputs = (0..<(sizes[0] * batch)).map { _ in Float(rng.nextNormal()) }
            var targets = [Float](repeating: 0, count: outputs * batch)
            for x in 0..<batch {
                switch loss {
                case .softmaxCrossEntropy: targets[Int(rng.next() % UInt64(outputs)) + x * outputs] = 1
                case .binaryCrossEntropy, .squaredError:
                    for k in 0..<outputs { targets[k + x * outputs] = Float(rng.nextUniform()) }
                }
            }
            return (inputs, targets)
        }
    }

    static let cases: [Case] = {
        var cases: [Case] = []
        var seed: UInt64 = 1
        let shapes: [([Int], Int)] = [([3, 2], 1), ([4, 5, 3], 3), ([5, 7, 6, 4], 8), ([2, 3, 3, 3, 2], 2)]
        for loss in Loss.allCases {
            for hidden in Activation.hidden {
                for (sizes, batch) in shapes {
                    cases.append(Case(sizes: sizes, hidden: hidden, loss: loss, batch: batch, seed: seed))
                    seed += 1
                }
            }
        }
        return cases
    }()

    static func randomParameters(_ c: Case, _ network: Network) throws -> [LayerParameters] {
        var rng = SeededGenerator(seed: c.seed &+ 77)
        return try network.parameters().map { p in
            LayerParameters(weight: p.weight, bias: p.bias.map { _ in Float(rng.nextNormal() * 0.3) })
        }
    }

    @Test("the CPU backend matches the graph: loss and every gradient", arguments: cases)
    func cpuMatchesGraph(c: Case) throws {
        try Self.compareWithGraph(backend: CPUBackend(), c)
    }

    /// Loss, outputs and every gradient of `backend` against the graph oracle, ≤ 1e−4 relative.
    /// Any backend: the OpenCL suite can call this with its own.
    static func compareWithGraph(backend: any Backend, _ c: Case) throws {
        let architecture = try c.architecture
        let network = try Network(backend: backend, architecture: architecture, seed: c.seed)
        let parameters = try randomParameters(c, network)
        try network.setParameters(parameters)
        let name = backend.name
        let (inputs, targets) = c.batchData()
        let cpu = try network.lossAndGradients(inputs: inputs, targets: targets, count: c.batch)
        let graph = try GraphNetwork(architecture: architecture, parameters: parameters)
            .lossAndGradients(inputs: inputs, targets: targets, count: c.batch)

        let gradientError = relativeDifference(cpu.gradients.flattenedDouble, graph.gradients.flattened)
        #expect(gradientError <= 1e-4, "\(name) \(c): gradients differ by \(gradientError) relative")
        #expect(abs(cpu.loss - graph.loss) <= 1e-4 * max(abs(graph.loss), 1e-3),
                "\(name) \(c): loss \(cpu.loss) vs \(graph.loss)")
        let outputError = relativeDifference(cpu.output.map(Double.init), graph.output)
        #expect(outputError <= 1e-4, "\(name) \(c): outputs differ by \(outputError) relative")
        // Not vacuous: the gradient has substance.
        #expect(graph.gradients.flattened.contains { abs($0) > 1e-6 })
    }

    @Test("the graph matches finite differences of a plain Double forward pass", arguments: cases)
    func graphMatchesFiniteDifferences(c: Case) throws {
        let architecture = try c.architecture
        let network = try Network(backend: CPUBackend(), architecture: architecture, seed: c.seed)
        let parameters = try Self.randomParameters(c, network).map(DoubleLayerParameters.init)
        let (inputs, targets) = c.batchData()
        let (x, y) = (inputs.map(Double.init), targets.map(Double.init))
        let graph = try GraphNetwork(architecture: architecture, parameters: parameters)
            .lossAndGradients(inputs: x, targets: y, count: c.batch)
        let numeric = finiteDifferenceGradients(architecture: architecture, parameters: parameters,
                                                inputs: x, targets: y, count: c.batch)
        let cost = referenceCost(architecture: architecture, parameters: parameters,
                                 inputs: x, targets: y, count: c.batch)
        #expect(abs(graph.loss - cost) <= 1e-12 * max(1, abs(cost)))
        let error = relativeDifference(graph.gradients.flattened, numeric)
        #expect(error <= 1e-6, "\(c): graph vs finite differences \(error)")
    }

    @Test("a wrong parameter count is an error that says what was expected")
    func shapeErrors() throws {
        let architecture = try Architecture(sizes: [2, 3], activations: [.sigmoid], loss: .squaredError)
        let bad = [DoubleLayerParameters(weight: [1, 2, 3], bias: [0, 0, 0])]
        #expect(throws: ArchitectureError.invalid("layer 1 has 3+3 parameters; a 3×2 layer needs 6+3")) {
            try GraphNetwork(architecture: architecture, parameters: bad)
        }
    }
}
