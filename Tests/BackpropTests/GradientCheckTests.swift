import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// The backward pass against an oracle that shares no code with it: central finite differences
/// over an independent forward pass in Double (`referenceCost`).
@Suite("Gradient check: CPU backend vs finite differences in Double")
struct GradientCheckTests {
    /// Float32 backprop vs Double finite differences: the float32 forward/backward carries
    /// relative rounding of ~1e-6 per layer; the O(h²) truncation with h = 1e-5 is ~1e-10.
    /// 1e-4 norm-wise leaves two orders of margin and still catches any wrong term.
    static let tolerance = 1e-4

    @Test("every activation and loss, depths 1–4, batches 1, 3, 17",
          arguments: [1, 3, 17])
    func randomNetworks(batch n: Int) throws {
        var data = TestData(seed: UInt64(100 + n))
        for (c, pairing) in activationLossCases.enumerated() {
            let depth = 1 + c % 4
            let sizes = (0...depth).map { _ in 2 + Int(data.rng.next() % 5) }
            let activations = Array(repeating: pairing.hidden, count: depth - 1) + [pairing.output]
            let architecture = try Architecture(sizes: sizes, activations: activations, loss: pairing.loss)
            let network = try Network(backend: CPUBackend(), architecture: architecture, seed: UInt64(c))
            // Non-zero biases so that every bias gradient path is exercised.
            var parameters = try network.parameters()
            for l in parameters.indices { parameters[l].bias = data.floats(parameters[l].bias.count, scale: 0.3) }
            try network.setParameters(parameters)

            let x = data.floats(sizes[0] * n)
            let y = data.targets(pairing.loss, outputs: sizes[depth], count: n)
            let result = try network.lossAndGradients(inputs: x, targets: y, count: n)
            let exact = parameters.map(DoubleLayerParameters.init)
            let (xd, yd) = (x.map(Double.init), y.map(Double.init))
            let reference = exact.reshaped(finiteDifferenceGradients(
                architecture: architecture, parameters: exact, inputs: xd, targets: yd, count: n))

            let expectedLoss = referenceCost(architecture: architecture, parameters: exact,
                                             inputs: xd, targets: yd, count: n)
            // The loss is one Float sum of n per-sample terms: ~1e-6 relative; 1e-5 leaves margin.
            #expect(abs(result.loss - expectedLoss) <= 1e-5 * max(1, abs(expectedLoss)),
                    "loss of \(architecture)")
            for l in 0..<depth {
                let ew = relativeDifference(result.gradients[l].weight, reference[l].weight)
                let eb = relativeDifference(result.gradients[l].bias, reference[l].bias)
                #expect(ew <= Self.tolerance, "∂C/∂W of layer \(l) in \(architecture), batch \(n): error \(ew)")
                #expect(eb <= Self.tolerance, "∂C/∂b of layer \(l) in \(architecture), batch \(n): error \(eb)")
            }
        }
    }

    @Test("a wrong gradient is caught: the check is not vacuous")
    func checkCatchesErrors() throws {
        // A backend whose loss gradient forgets the 1/n of the batch mean: every gradient is n
        // times too large, which the check must see.
        final class ForgetsTheMean: CountingCPUBackend {
            override func lossAndGradient(_ loss: Loss, z: Operand<CPUStorage>, a: Operand<CPUStorage>,
                                          targets y: Operand<CPUStorage>, meanOver n: Int,
                                          gradient: Operand<CPUStorage>, lossSum: Operand<CPUStorage>) throws {
                try base.lossAndGradient(loss, z: z, a: a, targets: y, meanOver: 1, gradient: gradient, lossSum: lossSum)
            }
        }
        let architecture = try Architecture(sizes: [3, 4, 2], activations: [.tanh, .softmax], loss: .softmaxCrossEntropy)
        var data = TestData(seed: 7)
        let x = data.floats(3 * 5), y = data.targets(.softmaxCrossEntropy, outputs: 2, count: 5)
        let good = try Network(backend: CPUBackend(), architecture: architecture, seed: 7)
        let bad = try Network(backend: ForgetsTheMean(), architecture: architecture, seed: 7)
        let exact = try good.parameters().map(DoubleLayerParameters.init)
        let reference = exact.reshaped(finiteDifferenceGradients(
            architecture: architecture, parameters: exact, inputs: x.map(Double.init),
            targets: y.map(Double.init), count: 5))
        let right = try good.lossAndGradients(inputs: x, targets: y, count: 5).gradients[0].weight
        let wrong = try bad.lossAndGradients(inputs: x, targets: y, count: 5).gradients[0].weight
        #expect(relativeDifference(right, reference[0].weight) <= Self.tolerance)
        #expect(relativeDifference(wrong, reference[0].weight) > Self.tolerance)
    }
}
