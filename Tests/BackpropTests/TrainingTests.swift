import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

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

    @Test("--balance's draw: every class in about equal shares, each class's samples uniformly; off again, a permutation")
    func balancedDraw() throws {
        let network = try Network(backend: CPUBackend(), architecture: try Architecture(inputs: 2, hidden: [4], outputs: 3, activation: .relu), seed: 1)
        let trainer = try Trainer(network: network, optimizer: try Optimizer(OptimizerConfiguration(kind: .sgd), for: network),
                                  batchSize: 8, seed: 4)
        // 190 samples of class 0, 10 of class 2, none of class 1 (a class with no sample is never drawn).
        let labels = (0..<200).map { Int32($0 % 20 == 0 ? 2 : 0) }
        trainer.balanceClasses(labels)
        var perClass = [0, 0, 0], perRare = [Int32: Int]()
        for _ in 0..<50 {
            for j in trainer.epochOrder(200) {
                perClass[Int(labels[Int(j)])] += 1
                if labels[Int(j)] == 2 { perRare[j, default: 0] += 1 }
            }
        }
        // 10,000 draws: 5,000 per class give or take a few standard deviations (50).
        #expect(perClass[1] == 0 && abs(perClass[0] - 5000) < 250 && abs(perClass[2] - 5000) < 250, "\(perClass)")
        #expect(perRare.count == 10 && perRare.values.allSatisfy { abs($0 - 500) < 110 }, "\(perRare)")
        trainer.balanceClasses(nil)
        #expect(trainer.epochOrder(200).sorted() == (0..<200).map(Int32.init))
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
            _ = try reference.lossAndGradients(inputs: batch.inputs, targets: batch.targets(), count: batch.count)
            try sgd.update()
        }
        // The same operations on the same values in the same order: equal to the last bit.
        #expect(trained == (try reference.parameters()))
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

    @Test("weight decay shrinks weights but leaves biases alone")
    func weightDecayOnWeightsOnly() throws {
        let backend = CPUBackend()
        let network = try Network(backend: backend, architecture: try Architecture(inputs: 2, hidden: [], outputs: 2), seed: 1)
        let start = LayerParameters(weight: [1, 2, 3, 4], bias: [5, 6])
        try network.setParameters([start])
        for layer in network.layers {        // zero gradients: only the decay can move anything
            try backend.fill(layer.weightGradient, with: 0)
            try backend.fill(layer.biasGradient, with: 0)
        }
        try Optimizer(OptimizerConfiguration(kind: .sgd, learningRate: 0.5, weightDecay: 0.1), for: network).update()
        let after = try network.parameters()[0]
        #expect(after.weight == start.weight.map { $0 - 0.5 * 0.1 * $0 })
        #expect(after.bias == start.bias)
    }

    @Test("evaluation reports loss and accuracy; an empty dataset is refused")
    func evaluation() throws {
        let backend = CPUBackend()
        let network = try Network(backend: backend, architecture: try Architecture(inputs: 2, hidden: [], outputs: 2, activation: .identity), seed: 1)
        // W = 10·I, b = 0: the class is the larger input; three of four samples are labelled so.
        try network.setParameters([LayerParameters(weight: [10, 0, 0, 10], bias: [0, 0])])
        let data = Dataset(featureCount: 2, classCount: 2, inputs: [1, 0, 0, 1, 2, 0, 0, 3], labels: [0, 1, 0, 0])
        let trainer = try Trainer(network: network, optimizer: try Optimizer(.init(kind: .sgd), for: network),
                                  batchSize: 3, seed: 1)
        let metrics = try trainer.evaluate(try DeviceDataset(data, on: backend))
        #expect(metrics.accuracy == 0.75)
        let expectedLoss = [10.0, 10, 20, 30].enumerated().map { i, margin in
            i == 3 ? margin + log1p(exp(-margin)) : log1p(exp(-margin))    // −log softmax of the label
        }.reduce(0, +) / 4
        #expect(abs(metrics.loss - expectedLoss) < 1e-5)
        let empty = Dataset(featureCount: 2, classCount: 2, inputs: [], labels: [])
        #expect(errorText { _ = try trainer.evaluate(try DeviceDataset(empty, on: backend)) } == "the dataset has no samples")
    }

    @Test("a CSV file trains end to end: split, standardized, learned")
    func csvEndToEnd() throws {
        let dir = try temporaryDirectory()
        var csv = "height,label,weight\n"
        var rng = SeededGenerator(seed: 4)
        for i in 0..<200 {
            let c = i % 2
            csv += "\(170 + 10 * Double(c) + rng.nextNormal() * 2),\(c),\(60 + 15 * Double(c) + rng.nextNormal() * 3)\n"
        }
        let path = dir.appendingPathComponent("people.csv").path
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        let loaded = try DataSource.load(path, testFraction: 0.25, seed: 2)
        #expect(loaded.train.count == 150 && loaded.test.count == 50)
        #expect(loaded.featureNames == ["height", "weight"])
        let stats = try #require(loaded.standardization)
        // Each column's training mean is its center, taken off in Double: the standardization's own mean is about 0.
        let centers = try #require(loaded.encoding?.inputCenters)
        #expect(abs(centers[0] - 175) < 2 && abs(centers[1] - 67.5) < 3 && stats.mean.allSatisfy { abs($0) < 1e-4 }, "\(centers) \(stats.mean)")
        // Two well separated classes: a linear softmax model on standardized inputs gets > 95 %.
        let backend = CPUBackend()
        let network = try Network(backend: backend, architecture: try Architecture(inputs: 2, hidden: [], outputs: 2), seed: 1)
        let trainer = try Trainer(network: network, optimizer: try Optimizer(.init(kind: .sgd, learningRate: 0.5), for: network),
                                  batchSize: 16, seed: 1)
        let train = try DeviceDataset(loaded.train, on: backend)
        try trainer.fit(train: train, test: nil, epochs: 20)
        #expect(try trainer.evaluate(try DeviceDataset(loaded.test, on: backend)).accuracy > 0.95)
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
