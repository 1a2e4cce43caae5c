@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU

/// A backend defined outside the library, as a user would write one: it implements the
/// requirements on checked operands by delegating to a `CPUBackend`, and counts each call.
/// The tests register it by name (`counting`) and train through it; a subclass breaks one
/// operation on purpose to show the gradient checks are not vacuous.
class CountingCPUBackend: Backend {
    typealias Storage = CPUStorage
    let base = CPUBackend()
    private(set) var calls: [String: Int] = [:]

    var name: String { "counting CPU" }
    var memory: DeviceMemory { base.memory }

    func record(_ operation: String) { calls[operation, default: 0] += 1 }

    func makeStorage(count: Int) throws -> CPUStorage { record("makeStorage"); return try base.makeStorage(count: count) }
    func makeIndexStorage(count: Int) throws -> CPUStorage { record("makeIndexStorage"); return try base.makeIndexStorage(count: count) }
    func upload(_ v: UnsafeBufferPointer<Float>, to m: Operand<CPUStorage>) throws { record("upload"); try base.upload(v, to: m) }
    func download(_ m: Operand<CPUStorage>, into v: UnsafeMutableBufferPointer<Float>) throws { record("download"); try base.download(m, into: v) }
    func upload(_ i: UnsafeBufferPointer<Int32>, to b: CPUStorage) throws { record("uploadIndices"); try base.upload(i, to: b) }
    func fill(_ m: Operand<CPUStorage>, with v: Float) throws { record("fill"); try base.fill(m, with: v) }
    func synchronize() throws { record("synchronize") }
    func gemm(transposeA: Bool, transposeB: Bool, alpha: Float, _ a: Operand<CPUStorage>, _ b: Operand<CPUStorage>,
              beta: Float, _ c: Operand<CPUStorage>) throws {
        record("gemm")
        try base.gemm(transposeA: transposeA, transposeB: transposeB, alpha: alpha, a, b, beta: beta, c)
    }
    func addBias(_ b: Operand<CPUStorage>, to z: Operand<CPUStorage>) throws { record("addBias"); try base.addBias(b, to: z) }
    func sumColumns(_ m: Operand<CPUStorage>, alpha: Float, beta: Float, into s: Operand<CPUStorage>) throws {
        record("sumColumns")
        try base.sumColumns(m, alpha: alpha, beta: beta, into: s)
    }
    func hadamard(_ a: Operand<CPUStorage>, _ b: Operand<CPUStorage>, into c: Operand<CPUStorage>) throws { record("hadamard"); try base.hadamard(a, b, into: c) }
    func axpy(alpha: Float, _ x: Operand<CPUStorage>, _ y: Operand<CPUStorage>) throws { record("axpy"); try base.axpy(alpha: alpha, x, y) }
    func scale(_ x: Operand<CPUStorage>, by a: Float) throws { record("scale"); try base.scale(x, by: a) }
    func activate(_ f: Activation, _ z: Operand<CPUStorage>, into a: Operand<CPUStorage>) throws { record("activate"); try base.activate(f, z, into: a) }
    func activationBackward(_ f: Activation, z: Operand<CPUStorage>, a: Operand<CPUStorage>, upstream: Operand<CPUStorage>,
                            into d: Operand<CPUStorage>) throws {
        record("activationBackward")
        try base.activationBackward(f, z: z, a: a, upstream: upstream, into: d)
    }
    func lossAndGradient(_ loss: Loss, z: Operand<CPUStorage>, a: Operand<CPUStorage>, targets y: Operand<CPUStorage>,
                         meanOver n: Int, gradient: Operand<CPUStorage>, lossSum: Operand<CPUStorage>) throws {
        record("lossAndGradient")
        try base.lossAndGradient(loss, z: z, a: a, targets: y, meanOver: n, gradient: gradient, lossSum: lossSum)
    }
    func countCorrect(output: Operand<CPUStorage>, targets: Operand<CPUStorage>, into count: Operand<CPUStorage>) throws {
        record("countCorrect")
        try base.countCorrect(output: output, targets: targets, into: count)
    }
    func sgdStep(parameters: Operand<CPUStorage>, gradient: Operand<CPUStorage>, learningRate: Float, weightDecay: Float) throws {
        record("sgdStep")
        try base.sgdStep(parameters: parameters, gradient: gradient, learningRate: learningRate, weightDecay: weightDecay)
    }
    func momentumStep(parameters: Operand<CPUStorage>, gradient: Operand<CPUStorage>, velocity: Operand<CPUStorage>,
                      learningRate: Float, momentum: Float, weightDecay: Float) throws {
        record("momentumStep")
        try base.momentumStep(parameters: parameters, gradient: gradient, velocity: velocity, learningRate: learningRate,
                              momentum: momentum, weightDecay: weightDecay)
    }
    func adamStep(parameters: Operand<CPUStorage>, gradient: Operand<CPUStorage>, m: Operand<CPUStorage>, v: Operand<CPUStorage>,
                  learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, corrections c1: Float, _ c2: Float,
                  weightDecay: Float) throws {
        record("adamStep")
        try base.adamStep(parameters: parameters, gradient: gradient, m: m, v: v, learningRate: learningRate, beta1: beta1,
                          beta2: beta2, epsilon: epsilon, corrections: c1, c2, weightDecay: weightDecay)
    }
    func gatherColumns(_ s: Operand<CPUStorage>, indices: CPUStorage, offset: Int, into d: Operand<CPUStorage>) throws {
        record("gatherColumns")
        try base.gatherColumns(s, indices: indices, offset: offset, into: d)
    }
}

extension BackendRegistration {
    /// The test backend, registered under the name `counting`. `made` receives each backend
    /// the factory makes, so a test can read its counts.
    static func counting(_ made: @escaping @Sendable (CountingCPUBackend) -> Void = { _ in }) -> BackendRegistration {
        BackendRegistration(
            name: "counting", summary: "CPU backend that counts its calls (tests)",
            devices: { [DeviceDescription(index: 0, name: "host")] },
            make: { _ in
                let backend = CountingCPUBackend()
                made(backend)
                return backend
            })
    }
}
