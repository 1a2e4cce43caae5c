import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// The CPU backend's operations against naive Double formulas. Float32 results of short sums
/// agree with Double to ~1e-6 relative (k·ε with ε ≈ 6e-8 and k ≤ 129 terms in the GEMMs):
/// 1e-5 for GEMM; 1e-6 for single elementwise operations (one or two roundings each).
@Suite("CPU backend operations")
struct CPUBackendTests {
    let backend = CPUBackend()

    @Test("gemm: every transpose, α and β, odd sizes",
          arguments: [(1, 1, 1), (7, 33, 5), (33, 7, 129), (129, 65, 33)])
    func gemm(m: Int, n: Int, k: Int) throws {
        var data = TestData(seed: UInt64(m * 1000 + n * 10 + k))
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = data.floats(m * k), b = data.floats(k * n), c = data.floats(m * n)
            let (alpha, beta): (Float, Float) = (0.7, -1.3)
            let A = try backend.makeMatrix(rows: ta ? k : m, cols: ta ? m : k, values: a)
            let B = try backend.makeMatrix(rows: tb ? n : k, cols: tb ? k : n, values: b)
            let C = try backend.makeMatrix(rows: m, cols: n, values: c)
            try backend.gemm(transposeA: ta, transposeB: tb, alpha: alpha, A, B, beta: beta, C)
            var expected = [Double](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k {
                        let aip = ta ? a[p + i * k] : a[i + p * m]
                        let bpj = tb ? b[j + p * n] : b[p + j * k]
                        s += Double(aip) * Double(bpj)
                    }
                    expected[i + j * m] = Double(alpha) * s + Double(beta) * Double(c[i + j * m])
                }
            }
            #expect(relativeDifference(try backend.download(C), expected) < 1e-5, "transposes \(ta) \(tb)")
        }
    }

    @Test("gemm refuses mismatched shapes")
    func gemmShapes() throws {
        let a = try backend.makeMatrix(rows: 2, cols: 3), b = try backend.makeMatrix(rows: 2, cols: 2)
        let c = try backend.makeMatrix(rows: 2, cols: 2)
        #expect(throws: BackendError.self) {
            try backend.gemm(transposeA: false, transposeB: false, alpha: 1, a, b, beta: 0, c)
        }
    }

    @Test("bias broadcast, batch sums, Hadamard, axpy, scale")
    func elementwise() throws {
        let z = try backend.makeMatrix(rows: 2, cols: 3, values: [1, 2, 3, 4, 5, 6])
        try backend.addBias(try backend.makeMatrix(rows: 2, cols: 1, values: [10, 20]), to: z)
        #expect(try backend.download(z) == [11, 22, 13, 24, 15, 26])
        let s = try backend.makeMatrix(rows: 2, cols: 1, values: [1, 1])
        try backend.sumColumns(z, alpha: 0.5, beta: 2, into: s)
        #expect(try backend.download(s) == [2 + 19.5, 2 + 36])
        let h = try backend.makeMatrix(rows: 2, cols: 3)
        try backend.hadamard(z, z, into: h)
        #expect(try backend.download(h) == [121, 484, 169, 576, 225, 676])
        try backend.axpy(alpha: -1, z, h)
        #expect(try backend.download(h) == [110, 462, 156, 552, 210, 650])
        try backend.scale(h, by: 0.5)
        #expect(try backend.download(h) == [55, 231, 78, 276, 105, 325])
    }

    @Test("activations and their fused derivatives", arguments: Activation.hidden)
    func activations(f: Activation) throws {
        var data = TestData(seed: 3)
        let zs = data.floats(40, scale: 3)
        let up = data.floats(40)
        let z = try backend.makeMatrix(rows: 5, cols: 8, values: zs)
        let a = try backend.makeMatrix(rows: 5, cols: 8)
        try backend.activate(f, z, into: a)
        #expect(relativeDifference(try backend.download(a), zs.map { f.value(Double($0)) }) < 1e-6)
        let d = try backend.makeMatrix(rows: 5, cols: 8)
        try backend.activationBackward(f, z: z, a: a, upstream: try backend.makeMatrix(rows: 5, cols: 8, values: up), into: d)
        #expect(relativeDifference(try backend.download(d), zip(zs, up).map { f.derivative(Double($0)) * Double($1) }) < 1e-5)
    }

    @Test("softmax is stable for large inputs and its columns sum to 1")
    func softmax() throws {
        let z = try backend.makeMatrix(rows: 3, cols: 2, values: [1000, 1001, 1002, -5, 0, 5])
        let a = try backend.makeMatrix(rows: 3, cols: 2)
        try backend.activate(.softmax, z, into: a)
        let out = try backend.download(a)
        let e = [exp(-2.0), exp(-1.0), 1]
        #expect(relativeDifference(Array(out[0..<3]), e.map { $0 / e.reduce(0, +) }) < 1e-6)
        #expect(abs(out[3...].reduce(0, +) - 1) < 1e-6)
        #expect(out.allSatisfy { $0.isFinite })
    }

    @Test("losses: values, gradients, stability", arguments: Loss.allCases)
    func losses(loss: Loss) throws {
        let zs: [Float] = [0.5, -1, 30, -40, 2, 0.1]          // includes large |z| for stability
        let ys: [Float] = loss == .softmaxCrossEntropy ? [0, 1, 1, 0, 0, 1] : [0.2, 1, 1, 0, 0.5, 0.9]
        let out: Activation = loss.requiredOutputActivation ?? .sigmoid
        let z = try backend.makeMatrix(rows: 2, cols: 3, values: zs)
        let a = try backend.makeMatrix(rows: 2, cols: 3)
        try backend.activate(out, z, into: a)
        let g = try backend.makeMatrix(rows: 2, cols: 3), sum = try backend.makeMatrix(rows: 1, cols: 1)
        try backend.lossAndGradient(loss, z: z, a: a, targets: try backend.makeMatrix(rows: 2, cols: 3, values: ys),
                                    meanOver: 3, gradient: g, lossSum: sum)
        let arch = try Architecture(sizes: [2, 2], activations: [out], loss: loss)
        // The Double reference cost of a network with W = I, b = 0 is the same loss of z.
        let expected = referenceCost(architecture: arch, parameters: [DoubleLayerParameters(weight: [1, 0, 0, 1], bias: [0, 0])],
                                     inputs: zs.map(Double.init), targets: ys.map(Double.init), count: 3) * 3
        #expect(abs(Double(try backend.scalar(sum)) - expected) < 1e-5 * max(1, expected))
        let av = try backend.download(a)
        #expect(relativeDifference(try backend.download(g), zip(av, ys).map { Double($0 - $1) / 3 }) < 1e-6)
    }

    @Test("optimizer steps follow their formulas")
    func optimizers() throws {
        let p = try backend.makeMatrix(rows: 1, cols: 2, values: [1, -2])
        let g = try backend.makeMatrix(rows: 1, cols: 2, values: [0.5, 0.25])
        try backend.sgdStep(parameters: p, gradient: g, learningRate: 0.1, weightDecay: 0.01)
        #expect(try backend.download(p) == [1 - 0.1 * (0.5 + 0.01), -2 - 0.1 * (0.25 - 0.02)])
        let v = try backend.makeMatrix(rows: 1, cols: 2, values: [1, 1])
        try backend.fill(p, with: 1)
        try backend.momentumStep(parameters: p, gradient: g, velocity: v, learningRate: 0.1, momentum: 0.9, weightDecay: 0)
        #expect(try backend.download(v) == [1.4, 1.15])
        #expect(try backend.download(p) == [Float(1) - 0.1 * 1.4, Float(1) - 0.1 * 1.15])
        let m = try backend.makeMatrix(rows: 1, cols: 2), s = try backend.makeMatrix(rows: 1, cols: 2)
        try backend.fill(p, with: 1)
        try backend.adamStep(parameters: p, gradient: g, m: m, v: s, learningRate: 0.01, beta1: 0.9, beta2: 0.999,
                             epsilon: 1e-8, step: 1, weightDecay: 0)
        // After one step Adam moves each parameter by about η·sign(g).
        let moved = try backend.download(p)
        #expect(abs(moved[0] - 0.99) < 1e-6 && abs(moved[1] - 0.99) < 1e-6)
    }

    /// Adam over three steps with weight decay, against the formulas evaluated in Double:
    /// g' = g + λθ, m ← β₁m + (1−β₁)g', v ← β₂v + (1−β₂)g'², θ ← θ − η·(m/(1−β₁ᵗ))/(√(v/(1−β₂ᵗ)) + ε).
    /// A wrong exponent in the bias correction shows from t = 2 on. Float vs Double over three
    /// steps: ~1e-7 relative; 1e-6 leaves margin.
    @Test("Adam and momentum with weight decay over several steps")
    func optimizerSteps() throws {
        let (lr, b1, b2, eps, wd) = (0.01, 0.9, 0.999, 1e-8, 0.1)
        var theta = [0.5, -1.5, 2.0], m = [0.0, 0, 0], v = [0.0, 0, 0]
        let p = try backend.makeMatrix(rows: 3, cols: 1, values: theta.map(Float.init))
        let pm = try backend.makeMatrix(rows: 3, cols: 1), pv = try backend.makeMatrix(rows: 3, cols: 1)
        for t in 1...3 {
            let g = [0.3 * Double(t), -0.2, 0.05 / Double(t)]
            try backend.adamStep(parameters: p, gradient: try backend.makeMatrix(rows: 3, cols: 1, values: g.map(Float.init)),
                                 m: pm, v: pv, learningRate: Float(lr), beta1: Float(b1), beta2: Float(b2),
                                 epsilon: Float(eps), step: t, weightDecay: Float(wd))
            for i in 0..<3 {
                let gi = g[i] + wd * theta[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                let mHat = m[i] / (1 - pow(b1, Double(t))), vHat = v[i] / (1 - pow(b2, Double(t)))
                theta[i] -= lr * mHat / (vHat.squareRoot() + eps)
            }
            #expect(relativeDifference(try backend.download(p), theta) < 1e-6, "Adam step \(t)")
        }

        var w = [1.0, -2.0], velocity = [0.0, 0.0]
        let q = try backend.makeMatrix(rows: 2, cols: 1, values: w.map(Float.init))
        let qv = try backend.makeMatrix(rows: 2, cols: 1)
        for t in 1...3 {
            let g = [0.5, Double(t)]
            try backend.momentumStep(parameters: q, gradient: try backend.makeMatrix(rows: 2, cols: 1, values: g.map(Float.init)),
                                     velocity: qv, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
            for i in 0..<2 {
                velocity[i] = 0.9 * velocity[i] + (g[i] + 0.01 * w[i])
                w[i] -= 0.1 * velocity[i]
            }
            #expect(relativeDifference(try backend.download(q), w) < 1e-6, "momentum step \(t)")
        }
    }

    @Test("gather columns by index; correct counts by arg-max")
    func gatherAndCount() throws {
        let source = try backend.makeMatrix(rows: 2, cols: 4, values: [0, 1, 10, 11, 20, 21, 30, 31])
        let idx = try backend.makeIndexBuffer(count: 4)
        try [Int32(3), 0, 2, 1].withUnsafeBufferPointer { try backend.upload($0, to: idx) }
        let dest = try backend.makeMatrix(rows: 2, cols: 2)
        try backend.gatherColumns(source, indices: idx, offset: 1, into: dest)
        #expect(try backend.download(dest) == [0, 1, 20, 21])
        #expect(throws: BackendError.self) { try backend.gatherColumns(source, indices: idx, offset: 3, into: dest) }

        let out = try backend.makeMatrix(rows: 3, cols: 3, values: [0.1, 0.7, 0.2, 0.5, 0.4, 0.1, 0.2, 0.2, 0.6])
        let y = try backend.makeMatrix(rows: 3, cols: 3, values: [0, 1, 0, 0, 1, 0, 0, 0, 1])
        let count = try backend.makeMatrix(rows: 1, cols: 1)
        try backend.countCorrect(output: out, targets: y, into: count)
        #expect(try backend.scalar(count) == 2)

        // A column with a NaN is never correct, even if its other entries would be.
        let nan = try backend.makeMatrix(rows: 3, cols: 1, values: [.nan, 1, 0])
        let one = try backend.makeMatrix(rows: 3, cols: 1, values: [0, 1, 0])
        try backend.countCorrect(output: nan, targets: one, into: count)
        #expect(try backend.scalar(count) == 2)

        // One output unit: correct when prediction and target fall on the same side of ½.
        let single = try backend.makeMatrix(rows: 1, cols: 4, values: [0.2, 0.7, 0.5, .nan])
        let labels = try backend.makeMatrix(rows: 1, cols: 4, values: [0, 1, 0, 0])
        try backend.fill(count, with: 0)
        try backend.countCorrect(output: single, targets: labels, into: count)
        #expect(try backend.scalar(count) == 2)
    }
}
