@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL
import Testing

@Suite("OpenCL networks vs CPU", .enabled(if: OpenCLTestDevice.enabled))
struct OpenCLNetworkTests {
    /// Forward outputs, loss and every parameter gradient of random networks (depths 1–4,
    /// widths 1–785, every hidden activation, every loss, batches 1, 13, 128) agree with the
    /// CPU backend, element by element, within twice the float32 error bound that
    /// `DoubleOracle` carries through the layers for this data, and with the Double oracle
    /// within that bound.
    @Test func randomNetworks() throws {
        var suite = EquivalenceSuite(backend: try OpenCLTestDevice.backend(), reference: CPUBackend(), seed: 3)
        let checks = try suite.networkChecks(batchSizes: [1, 13, 128])
        #expect(checks.count == 24)
        #expect(checks.allSatisfy { $0.bound > 0 })
        expectAllPass(checks)
    }

    /// 50 seeded steps of SGD, momentum and Adam, each step from the reference's parameters and
    /// state: loss, parameters and optimizer state within the bound of one step.
    @Test func trainingStepsAgree() throws {
        let suite = EquivalenceSuite(backend: try OpenCLTestDevice.backend(), reference: CPUBackend())
        let checks = try suite.trainingChecks(steps: 50)
        #expect(checks.count == 3)
        expectAllPass(checks)
    }

    @Test func trainingReducesTheLoss() throws {
        let backend = try OpenCLTestDevice.backend()
        let architecture = try Architecture(inputs: 20, hidden: [33], outputs: 4, activation: .relu)
        let curve = try EquivalenceSuite.trainingCurve(backend: backend, architecture: architecture,
                                                       optimizer: .adam, steps: 50)
        let start = curve.prefix(5).reduce(0, +) / 5, end = curve.suffix(5).reduce(0, +) / 5
        #expect(end < 0.7 * start, "loss \(start) → \(end)")
    }

    /// Kernel launches of one training step of 784-512-256-10 at batch 128 (SGD, Adam): the
    /// fused passes and the one-launch optimizer keep it at most 10 (it was 29: 3 per layer
    /// forward, 4 per layer backward, one optimizer launch per tensor).
    @Test(arguments: [OptimizerKind.sgd, .adam])
    func launchesPerStep(kind: OptimizerKind) throws {
        let backend = try OpenCLTestDevice.backend()
        let architecture = try Architecture(inputs: 784, hidden: [512, 256], outputs: 10, activation: .relu)
        let network = try Network(backend: backend, architecture: architecture, seed: 1)
        let data = Synthetic.blobs(classes: 10, features: 784, perClass: 64, seed: 1)
        let trainer = try Trainer(network: network, optimizer: try Optimizer(OptimizerConfiguration(kind: kind), for: network),
                                  batchSize: 128, seed: 1)
        let device = try DeviceDataset(data, on: backend)
        _ = try trainer.trainEpoch(device)  // 640 samples: 5 full steps
        var steps = 0
        let before = backend.launches
        _ = try trainer.trainEpoch(device) { _ in steps += 1 }
        // Per epoch, beside the steps: nothing (the two zeroed counters are fills, not launches).
        // A step: 2 gathers, 3 forward GEMMs, output_loss, 2 gemm2 (∂W, ∂b and δ below), ∂W¹, optimizer.
        let perStep = Double(backend.launches - before) / Double(steps)
        print("OpenCL launches per training step, 784-512-256-10 b128 \(kind): \(perStep)")
        #expect(steps == 5)
        #expect(perStep <= 10, "\(perStep) launches per step")
    }
}
