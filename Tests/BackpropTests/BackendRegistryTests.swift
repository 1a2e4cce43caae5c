import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU

/// A backend defined in the test target, registered by name, chosen by `BACKPROP_BACKEND` and
/// trained through: the registry is all a new backend needs.
@Suite("Backend registry")
struct BackendRegistryTests {
    @Test("a third backend, registered by name, trains a network chosen through BACKPROP_BACKEND")
    func thirdBackendTrains() throws {
        var registry = BackendRegistry.standard
        // The factory is `@Sendable`; this test alone calls it, on this thread.
        nonisolated(unsafe) var made: CountingCPUBackend?
        registry.register(.counting { made = $0 })
        #expect(registry.names == ["cpu", "opencl", "counting"])

        let backend = try registry.makeBackend(named: nil, BackendRequest(environment: ["BACKPROP_BACKEND": "Counting"]))
        let counting = try #require(made)
        #expect(backend === counting)
        #expect(backend.name == "counting CPU")

        let data = Synthetic.blobs(classes: 3, features: 4, perClass: 40, seed: 2)
        let architecture = try Architecture(inputs: 4, hidden: [8], outputs: 3, activation: .relu)
        let network = try Network(backend: backend, architecture: architecture, seed: 1)
        let trainer = try Trainer(network: network, optimizer: try Optimizer(OptimizerConfiguration(kind: .adam, learningRate: 0.05), for: network),
                                  batchSize: 16, seed: 1)
        let device = try DeviceDataset(data, on: backend)
        let before = try trainer.evaluate(device)
        try trainer.fit(train: device, test: nil, epochs: 20)
        let after = try trainer.evaluate(device)
        #expect(after.loss < before.loss / 4, "loss \(before.loss) → \(after.loss)")
        #expect(after.accuracy > 0.95)

        // Every step went through the registered backend's requirements.
        let steps = 20 * ((data.count + 15) / 16)
        #expect(counting.calls["adamStep", default: 0] == steps * 2 * architecture.layerCount)
        #expect(counting.calls["gemm", default: 0] >= steps * 3)
        #expect(counting.calls["gatherColumns", default: 0] >= steps * 2)
    }

    @Test("a name nobody registered lists the registered ones")
    func badNameListsRegistered() throws {
        var registry = BackendRegistry.standard
        registry.register(.counting())
        #expect(throws: BackendError.invalidChoice(variable: "BACKPROP_BACKEND", value: "cuda", valid: "cpu, opencl, counting, auto")) {
            try registry.makeBackend(named: nil, BackendRequest(environment: ["BACKPROP_BACKEND": "cuda"]))
        }
        #expect(throws: BackendError.invalidChoice(variable: "--backend", value: "metal", valid: "cpu, opencl, counting, auto")) {
            try registry.makeBackend(named: "metal", BackendRequest(environment: [:]))
        }
        // The standard registry is untouched by the copies above.
        #expect(BackendRegistry.standard.names == ["cpu", "opencl"])
    }

    @Test("the checked entry points refuse bad shapes and foreign matrices before a backend sees them")
    func checksBeforeTheBackend() throws {
        let backend = CountingCPUBackend()
        let a = try backend.makeMatrix(rows: 2, cols: 3), b = try backend.makeMatrix(rows: 2, cols: 3)
        let c = try backend.makeMatrix(rows: 2, cols: 2)
        let before = backend.calls
        #expect(throws: BackendError.self) { try backend.gemm(transposeA: false, transposeB: false, alpha: 1, a, b, beta: 0, c) }
        #expect(throws: BackendError.self) { try backend.hadamard(a, b, into: c) }
        #expect(throws: BackendError.self) { try backend.activationBackward(.softmax, z: a, a: a, upstream: a, into: b) }
        #expect(throws: BackendError.self) { try backend.lossAndGradient(.squaredError, z: a, a: a, targets: b, meanOver: 0, gradient: a, lossSum: c) }
        #expect(backend.calls == before, "no requirement ran")
        // An empty product still honours β: C ← β·C.
        try backend.fill(c, with: 3)
        let empty = try backend.makeMatrix(rows: 2, cols: 0), emptyT = try backend.makeMatrix(rows: 0, cols: 2)
        try backend.gemm(transposeA: false, transposeB: false, alpha: 1, empty, emptyT, beta: 0.5, c)
        #expect(try backend.download(c) == [1.5, 1.5, 1.5, 1.5])
        #expect(backend.calls["gemm"] == nil)
    }

    @Test("the CPU backend lists its one device and refuses others")
    func cpuDevice() throws {
        let devices = try BackendRegistration.cpu.devices()
        #expect(devices.count == 1 && devices[0].index == 0 && !devices[0].name.isEmpty)
        #expect(try makeBackend(named: "cpu", device: "0", environment: [:]) is CPUBackend)
        #expect(throws: BackendError.self) { try makeBackend(named: "cpu", device: "3", environment: [:]) }
    }
}
