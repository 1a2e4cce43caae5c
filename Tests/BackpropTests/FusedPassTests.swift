import Foundation
import Testing
@testable import BackpropCore
@testable import BackpropCPU

/// The fused layer passes and the contiguous parameter buffer: the CPU backend's fused code
/// gives bit-for-bit the results of the same steps run one primitive at a time (the protocol's
/// defaults, as a backend that implements only the primitives gets them).
@Suite("Fused layer passes and the parameter buffer")
struct FusedPassTests {
    /// Trains `steps` steps of `architecture` with `optimizer` on `backend`; returns every
    /// parameter, the optimizer state, and the loss sum and correct count of the last epoch.
    func train(_ backend: any Backend, _ architecture: Architecture, _ optimizer: OptimizerConfiguration,
               epochs: Int = 2) throws -> ([LayerParameters], [[Float]], [[Float]], Metrics) {
        let inputs = architecture.sizes[0], outputs = architecture.outputCount
        let data = Synthetic.blobs(classes: outputs, features: inputs, perClass: 20, seed: 3)
        let network = try Network(backend: backend, architecture: architecture, seed: 9)
        let trainer = try Trainer(network: network, optimizer: try Optimizer(optimizer, for: network), batchSize: 16, seed: 2)
        let device = try DeviceDataset(data, on: backend)
        var metrics = Metrics(loss: 0, accuracy: 0)
        for _ in 0..<epochs { metrics = try trainer.trainEpoch(device) }
        let (m, v) = try trainer.optimizer.moments()
        return (try network.parameters(), m, v, metrics)
    }

    static let architectures: [Architecture] = [
        try! Architecture(sizes: [5, 7, 6, 3], activations: [.relu, .tanh, .softmax], loss: .softmaxCrossEntropy),
        try! Architecture(sizes: [5, 9, 2], activations: [.sigmoid, .sigmoid], loss: .binaryCrossEntropy),
        try! Architecture(sizes: [5, 4, 2], activations: [.identity, .tanh], loss: .squaredError),
        try! Architecture(sizes: [5, 6, 2], activations: [.tanh, .relu], loss: .squaredError),
        try! Architecture(sizes: [5, 6, 2], activations: [.relu, .sigmoid], loss: .squaredError),
    ]

    @Test("the CPU backend's fused passes and one-call optimizer equal the primitives bit for bit",
          arguments: OptimizerKind.allCases)
    func fusedEqualsPrimitives(kind: OptimizerKind) throws {
        for architecture in Self.architectures {
            var configuration = OptimizerConfiguration(kind: kind, learningRate: kind == .sgd ? 0.2 : 0.02, weightDecay: 0.01)
            configuration.momentum = 0.8
            let fused = try train(CPUBackend(), architecture, configuration)
            let primitives = try train(CountingCPUBackend(), architecture, configuration)
            #expect(fused.0 == primitives.0, "\(architecture.sizes) \(kind): parameters differ")
            #expect(fused.1 == primitives.1 && fused.2 == primitives.2, "\(architecture.sizes) \(kind): optimizer state differs")
            #expect(fused.3 == primitives.3, "\(architecture.sizes) \(kind): \(fused.3) vs \(primitives.3)")
        }
    }

    @Test("weight decay reaches the weights and not the biases through the one-call update")
    func decayOnWeightsOnly() throws {
        // Zero gradients (a zero learning rate would not move anything): SGD with λ on a network
        // whose gradient buffer is zero shrinks the weights by (1 − ηλ) and leaves biases alone.
        let backend = CPUBackend()
        let architecture = try Architecture(sizes: [3, 4, 2], activations: [.tanh, .softmax], loss: .softmaxCrossEntropy)
        let network = try Network(backend: backend, architecture: architecture, seed: 1)
        var start = try network.parameters()
        for k in start.indices { start[k].bias = start[k].bias.indices.map { Float($0) + 1 } }
        try network.setParameters(start)
        let optimizer = try Optimizer(OptimizerConfiguration(kind: .sgd, learningRate: 0.5, weightDecay: 0.2), for: network)
        try optimizer.update()
        let after = try network.parameters()
        for (a, s) in zip(after, start) {
            #expect(a.bias == s.bias)
            #expect(a.weight == s.weight.map { $0 - 0.5 * (0 + 0.2 * $0) })
        }
    }

    @Test("parameters live in one buffer: aligned views, zero padding, one update call")
    func contiguousBuffer() throws {
        let backend = CountingCPUBackend()
        let cpu = CPUBackend()
        let architecture = try Architecture(sizes: [7, 5, 3], activations: [.relu, .softmax], loss: .softmaxCrossEntropy)
        let network = try Network(backend: cpu, architecture: architecture, seed: 1)
        let buffer = network.parameterBuffer
        let whole = try #require(buffer.whole)
        #expect(buffer.offsets.allSatisfy { $0 % 16 == 0 })
        #expect(buffer.count % 256 == 0)
        let all = try cpu.download(whole)
        // The views are the buffer: each layer's weight and bias are found at their offsets.
        for (l, p) in try network.parameters().enumerated() {
            #expect(Array(all[buffer.offsets[l]..<(buffer.offsets[l] + p.weight.count)]) == p.weight)
            #expect(Array(all[buffer.offsets[2 + l]..<(buffer.offsets[2 + l] + p.bias.count)]) == p.bias)
        }
        let used = Set(zip(buffer.offsets, buffer.shapes).flatMap { o, s in o..<(o + s.rows * s.cols) })
        #expect(all.indices.filter { !used.contains($0) }.allSatisfy { all[$0] == 0 })
        // A backend without views keeps one buffer per tensor and updates them one by one.
        let plain = try Network(backend: backend, architecture: architecture, seed: 1)
        #expect(plain.parameterBuffer.whole == nil)
        #expect(try plain.parameters() == network.parameters())
    }

    @Test("the checked fused entry points refuse wrong shapes and decay ranges")
    func checkedShapes() throws {
        let b = CPUBackend()
        let w = try b.makeMatrix(rows: 3, cols: 4), bias = try b.makeMatrix(rows: 3, cols: 1)
        let x = try b.makeMatrix(rows: 4, cols: 5), z = try b.makeMatrix(rows: 3, cols: 5)
        #expect(throws: BackendError.self) {
            try b.denseForward(weight: w, bias: bias, input: z, activation: .relu, z: z, activated: nil)
        }
        #expect(throws: BackendError.self) {
            try b.parameterGradients(delta: z, input: x, weightGradient: x, biasGradient: bias)
        }
        #expect(throws: BackendError.self) {
            try b.backpropagate(weight: w, delta: z, activation: .softmax, z: x, a: x, into: x)
        }
        let p = try b.makeMatrix(rows: 8, cols: 1), g = try b.makeMatrix(rows: 8, cols: 1)
        #expect(throws: BackendError.self) {
            try b.updateParameters(.sgd(learningRate: 1, weightDecay: 0), parameters: p, gradient: g,
                                   first: nil, second: nil, decayed: [4..<9])
        }
        #expect(throws: BackendError.self) {
            try b.updateParameters(.momentum(learningRate: 1, momentum: 0.5, weightDecay: 0), parameters: p,
                                   gradient: g, first: nil, second: nil, decayed: [])
        }
    }
}
