import Testing
@testable import BackpropCore
@testable import BackpropCPU

/// The elementwise passes split over the OpenMP team (`parallel_loops.c`) against the same
/// passes on one thread, bit for bit: every element is computed by the same arithmetic in the
/// same order, only by another thread. Sizes are past the one-thread threshold (32K floats),
/// odd, and not multiples of the 16-float parts, so the split and its last part are exercised.
@Suite("CPU elementwise passes on the OpenMP team")
struct ParallelLoopsTests {
    let one = CPUBackend(threads: 1, gemm: .onednn, threading: .library)
    let two = CPUBackend(threads: 2, gemm: .onednn, threading: .library)

    /// `body` run on both backends from the same inputs; the results of each must be identical.
    func same(_ what: String, _ body: (CPUBackend) throws -> [Float]) throws {
        let a = try body(one), b = try body(two)
        #expect(a.count == b.count && a.elementsEqual(b) { $0.bitPattern == $1.bitPattern }, "\(what)")
        #expect(a.contains { $0 != 0 }, "\(what): all zero")
    }

    @Test("optimizer updates, over decayed and undecayed runs")
    func updates() throws {
        var data = TestData(seed: 5)
        let n = 70_001, p = data.floats(n), g = data.floats(n), m = data.floats(n), v = data.floats(n).map(abs)
        let rules: [UpdateRule] = [.sgd(learningRate: 0.1, weightDecay: 0.01),
                                   .momentum(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01),
                                   .adam(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, c1: 0.1, c2: 0.001,
                                         weightDecay: 0.01)]
        for rule in rules {
            try same("\(rule)") { backend in
                let pm = try backend.makeMatrix(rows: n, cols: 1, values: p)
                let first = rule.stateCount > 0 ? try backend.makeMatrix(rows: n, cols: 1, values: m) : nil
                let second = rule.stateCount > 1 ? try backend.makeMatrix(rows: n, cols: 1, values: v) : nil
                try backend.updateParameters(rule, parameters: pm, gradient: try backend.makeMatrix(rows: n, cols: 1, values: g),
                                             first: first, second: second, decayed: [0..<40_003])
                return try backend.download(pm) + (first.map { try backend.download($0) } ?? [])
                    + (second.map { try backend.download($0) } ?? [])
            }
        }
    }

    @Test("bias + activation, σ', bias sums, gather", arguments: Activation.hidden)
    func layerPasses(f: Activation) throws {
        var data = TestData(seed: 7)
        let (rows, cols) = (333, 211)
        let w = data.floats(rows * 9), x = data.floats(9 * cols), b = data.floats(rows), up = data.floats(rows * cols)
        try same("denseForward \(f) then σ' and Σ columns") { backend in
            let z = try backend.makeMatrix(rows: rows, cols: cols), a = try backend.makeMatrix(rows: rows, cols: cols)
            try backend.denseForward(weight: try backend.makeMatrix(rows: rows, cols: 9, values: w), bias:
                                        try backend.makeMatrix(rows: rows, cols: 1, values: b),
                                     input: try backend.makeMatrix(rows: 9, cols: cols, values: x), activation: f,
                                     z: z, activated: a)
            let d = try backend.makeMatrix(rows: rows, cols: cols)
            try backend.activationBackward(f, z: z, a: a, upstream: try backend.makeMatrix(rows: rows, cols: cols, values: up),
                                           into: d)
            let s = try backend.makeMatrix(rows: rows, cols: 1, values: b)
            try backend.sumColumns(d, alpha: 0.25, beta: 0.5, into: s)
            return try backend.download(z) + backend.download(a) + backend.download(d) + backend.download(s)
        }
        let order = (0..<cols).map { Int32(($0 * 37) % cols) }
        try same("gatherColumns") { backend in
            let idx = try backend.makeIndexBuffer(count: cols)
            try order.withUnsafeBufferPointer { try backend.upload($0, to: idx) }
            let out = try backend.makeMatrix(rows: rows, cols: cols - 3)
            try backend.gatherColumns(try backend.makeMatrix(rows: rows, cols: cols, values: up), indices: idx, offset: 3, into: out)
            return try backend.download(out)
        }
    }
}
