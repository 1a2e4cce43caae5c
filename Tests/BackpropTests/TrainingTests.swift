import Testing
@testable import Backprop

@Suite("Training")
struct TrainingTests {
    /// Trains a small MLP on the spirals and returns (test accuracy, final parameters).
    func trainSpirals(seed: UInt64, optimizer: OptimizerKind, epochs: Int,
                      batchSize: Int = 32) throws -> (Metrics, [LayerParameters]) {
        let data = Synthetic.spirals(classes: 3, perClass: 200, noise: 0.1, seed: 5)
        let (train, test) = try data.split(testFraction: 0.2, seed: 5)
        let backend = CPUBackend()
        let architecture = try Architecture(inputs: 2, hidden: [32, 32], outputs: 3, activation: .relu)
        let network = try Network(backend: backend, architecture: architecture, seed: seed)
        let trainer = try Trainer(network: network,
                                  optimizer: try Optimizer(OptimizerConfiguration(kind: optimizer, learningRate: optimizer == .adam ? 0.01 : nil), for: network),
                                  batchSize: batchSize, seed: seed)
        let deviceTrain = try DeviceDataset(train, on: backend), deviceTest = try DeviceDataset(test, on: backend)
        try trainer.fit(train: deviceTrain, test: nil, epochs: epochs)
        return (try trainer.evaluate(deviceTest), try network.parameters())
    }

    /// Three interleaved spirals are not linearly separable (a linear model stays near 33–50 %);
    /// a 2-32-32-3 ReLU MLP separates them. 90 % leaves margin for seed-to-seed variation.
    @Test("a seeded run learns the spirals", arguments: OptimizerKind.allCases)
    func learnsSpirals(optimizer: OptimizerKind) throws {
        let (metrics, _) = try trainSpirals(seed: 1, optimizer: optimizer, epochs: 150)
        #expect(metrics.accuracy >= 0.9, "\(optimizer): test accuracy \(metrics.accuracy)")
    }

    @Test("two runs with one seed give identical weights; another seed does not")
    func reproducible() throws {
        let (_, a) = try trainSpirals(seed: 3, optimizer: .adam, epochs: 3)
        let (_, b) = try trainSpirals(seed: 3, optimizer: .adam, epochs: 3)
        let (_, c) = try trainSpirals(seed: 4, optimizer: .adam, epochs: 3)
        #expect(a == b)
        #expect(a != c)
    }

    @Test("a partial last batch contributes its own mean gradient")
    func partialBatch() throws {
        // 10 samples in batches of 4: 4 + 4 + 2. One SGD epoch by the trainer must equal three
        // hand-run steps on exactly those slices of the shuffled order.
        let data = Synthetic.blobs(classes: 2, features: 3, perClass: 5, seed: 2)
        let backend = CPUBackend()
        let architecture = try Architecture(inputs: 3, hidden: [4], outputs: 2, activation: .tanh)
        let network = try Network(backend: backend, architecture: architecture, seed: 1)
        let start = try network.parameters()
        let trainer = try Trainer(network: network,
                                  optimizer: try Optimizer(OptimizerConfiguration(kind: .sgd, learningRate: 0.5), for: network),
                                  batchSize: 4, seed: 11)
        _ = try trainer.trainEpoch(try DeviceDataset(data, on: backend))
        let trained = try network.parameters()

        var rng = SeededGenerator(seed: 11 &+ 0x7EA1)
        let order = rng.permutation(10).map(Int.init)
        let reference = try Network(backend: backend, architecture: architecture, seed: 1)
        try reference.setParameters(start)
        let sgd = try Optimizer(OptimizerConfiguration(kind: .sgd, learningRate: 0.5), for: reference)
        for slice in [order[0..<4], order[4..<8], order[8..<10]] {
            let batch = data.subset(Array(slice))
            _ = try reference.lossAndGradients(inputs: batch.inputs, targets: batch.oneHotTargets(), count: batch.count)
            try sgd.update()
        }
        let expected = try reference.parameters()
        for l in trained.indices {
            #expect(relativeDifference(trained[l].weight, expected[l].weight) < 1e-6)
            #expect(relativeDifference(trained[l].bias, expected[l].bias) < 1e-6)
        }
    }

    @Test("a learning rate that blows up stops training with a clear error")
    func divergence() throws {
        let data = Synthetic.blobs(classes: 2, features: 4, perClass: 32, seed: 1)
        let backend = CPUBackend()
        let network = try Network(backend: backend,
                                  architecture: try Architecture(sizes: [4, 8, 2], activations: [.relu, .identity], loss: .squaredError),
                                  seed: 1)
        let trainer = try Trainer(network: network,
                                  optimizer: try Optimizer(OptimizerConfiguration(kind: .sgd, learningRate: 50), for: network),
                                  batchSize: 8, seed: 1)
        let device = try DeviceDataset(data, on: backend)
        let error = errorText { for _ in 0..<5 { _ = try trainer.trainEpoch(device) } }
        #expect(error?.contains("training diverged") == true, "got: \(error ?? "no error")")
        #expect(error?.contains("--lr") == true)
    }

    @Test("invalid options are refused with the reason")
    func invalidOptions() throws {
        let network = try Network(backend: CPUBackend(),
                                  architecture: try Architecture(inputs: 2, hidden: [], outputs: 2), seed: 1)
        #expect(errorText { _ = try Optimizer(OptimizerConfiguration(kind: .sgd, learningRate: -1), for: network) }?
            .contains("learning rate must be a positive number") == true)
        #expect(errorText { _ = try Trainer(network: network, optimizer: try Optimizer(.init(kind: .adam), for: network), batchSize: 0, seed: 1) }?
            .contains("batch size must be at least 1") == true)
        #expect(errorText { _ = try Architecture(sizes: [2, 0, 2], activations: [.relu, .softmax], loss: .softmaxCrossEntropy) }?
            .contains("layer sizes must be positive") == true)
        #expect(errorText { _ = try Architecture(sizes: [2, 2], activations: [.relu], loss: .softmaxCrossEntropy) }?
            .contains("needs a softmax output") == true)
    }
}
