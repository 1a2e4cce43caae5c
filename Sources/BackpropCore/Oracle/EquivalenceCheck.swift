import Foundation

/// One comparison of a backend against the reference: the norm-wise relative error
/// `‖x − x_ref‖ / ‖x_ref‖` (max over the outputs compared) and the tolerance it must meet.
public struct EquivalenceCheck: Sendable, CustomStringConvertible {
    /// What was compared: the operation or network and its shape.
    public let name: String
    /// The relative error found (`.infinity` when the results differ in length).
    public let error: Double
    /// The largest relative error allowed.
    public let tolerance: Double
    /// Whether `error ≤ tolerance`.
    public var passed: Bool { error <= tolerance }

    /// `name: error (tolerance t) PASS|FAIL`.
    public var description: String {
        "\(name): \(error) (tolerance \(tolerance)) \(passed ? "PASS" : "FAIL")"
    }
}

/// The same operations and networks run on a backend under test and on a reference backend
/// (the CPU backend), from identical inputs, with the results compared. Shared by
/// `backprop gradcheck` and the test suite.
///
/// Tolerances, and why: float32 results that differ only by the order of summation (a GEMM
/// over k terms, a batch sum, a reduction tree) or by a last-ulp difference of `exp`/`tanh`
/// stay within a few `k·ε` relative, ε = 6·10⁻⁸, so operations and whole networks are held to
/// 1e-5 norm-wise; reorder-free elementwise kernels (Hadamard, fill, optimizers compiled
/// without contraction) to 1e-6; gathers and correct counts must be exact.
public struct EquivalenceSuite {
    /// The backend under test.
    public let backend: any Backend
    /// The backend it is compared with (the CPU backend).
    public let reference: any Backend
    /// The matrix dimensions the operation checks combine.
    public var sizes: [Int]
    var rng: SeededGenerator

    /// 1, 7, one past 32 and 128, and 785 (MNIST's 784 inputs plus one): sizes that are no
    /// multiple of a tile or work-group width, so edge tiles and partial groups are exercised.
    public static let standardSizes = [1, 7, 33, 129, 785]
    /// Operations whose results depend on the order of summation (GEMM, reductions, losses).
    public static let operationTolerance = 1e-5
    /// Reorder-free elementwise kernels and the optimizer steps.
    public static let exactTolerance = 1e-6
    /// Whole networks: loss, outputs and every gradient.
    public static let networkTolerance = 1e-5

    /// A suite comparing `backend` with `reference`; `seed` fixes the random inputs, so two runs
    /// compare the same numbers.
    public init(backend: any Backend, reference: any Backend, sizes: [Int] = standardSizes,
                seed: UInt64 = 1) {
        self.backend = backend
        self.reference = reference
        self.sizes = sizes
        rng = SeededGenerator(seed: seed)
    }

    // MARK: Helpers

    mutating func random(_ count: Int, scale: Double = 1) -> [Float] {
        (0..<count).map { _ in Float((rng.nextUniform() * 2 - 1) * scale) }
    }

    /// The same values uploaded to both backends.
    func pair(_ rows: Int, _ cols: Int, _ values: [Float]) throws -> (test: Matrix, ref: Matrix) {
        (try backend.makeMatrix(rows: rows, cols: cols, values: values),
         try reference.makeMatrix(rows: rows, cols: cols, values: values))
    }

    func compare(_ name: String, _ outputs: [(test: Matrix, ref: Matrix)], tolerance: Double) throws -> EquivalenceCheck {
        var worst = 0.0
        for (t, r) in outputs {
            worst = max(worst, relativeDifference(try backend.download(t), try reference.download(r)))
        }
        return EquivalenceCheck(name: name, error: worst, tolerance: tolerance)
    }

    /// Runs `body` once on each backend with that backend's matrices.
    func both(_ body: (any Backend, KeyPath<(test: Matrix, ref: Matrix), Matrix>) throws -> Void) throws {
        try body(backend, \.test)
        try body(reference, \.ref)
    }

    // MARK: GEMM

    /// Every transpose combination, α/β = (1, 0) and (−0.75, 1.5), at square sizes and mixed shapes.
    public mutating func gemmChecks() throws -> [EquivalenceCheck] {
        var shapes = sizes.map { ($0, $0, $0) }
        let s = sizes
        for i in s.indices { shapes.append((s[i], s[(i + 2) % s.count], s[(i + 3) % s.count])) }
        var checks: [EquivalenceCheck] = []
        for (m, n, k) in shapes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                for (alpha, beta) in [(Float(1), Float(0)), (-0.75, 1.5)] {
                    let a = try pair(ta ? k : m, ta ? m : k, random(m * k))
                    let b = try pair(tb ? n : k, tb ? k : n, random(k * n))
                    let c = try pair(m, n, random(m * n))
                    try both { be, side in
                        try be.gemm(transposeA: ta, transposeB: tb, alpha: alpha, a[keyPath: side], b[keyPath: side],
                                    beta: beta, c[keyPath: side])
                    }
                    let op = "gemm \(ta ? "T" : "N")\(tb ? "T" : "N") \(m)×\(n)×\(k) α=\(alpha) β=\(beta)"
                    checks.append(try compare(op, [c], tolerance: Self.operationTolerance))
                }
            }
        }
        return checks
    }

    // MARK: Other operations

    /// Every other Backend operation on `rows × cols` matrices.
    public mutating func operationChecks(rows r: Int, cols c: Int) throws -> [EquivalenceCheck] {
        let n = r * c, shape = "\(r)×\(c)"
        let tol = Self.operationTolerance, exact = Self.exactTolerance
        var checks: [EquivalenceCheck] = []
        let x = try pair(r, c, random(n)), y = try pair(r, c, random(n)), out = try pair(r, c, random(n))
        let bias = try pair(r, 1, random(r)), sum = try pair(r, 1, random(r))

        try both { be, s in try be.fill(out[keyPath: s], with: 0.37) }
        checks.append(try compare("fill \(shape)", [out], tolerance: 0))
        try both { be, s in try be.hadamard(x[keyPath: s], y[keyPath: s], into: out[keyPath: s]) }
        checks.append(try compare("hadamard \(shape)", [out], tolerance: exact))
        try both { be, s in try be.axpy(alpha: -0.7, x[keyPath: s], out[keyPath: s]) }
        checks.append(try compare("axpy \(shape)", [out], tolerance: exact))
        try both { be, s in try be.scale(out[keyPath: s], by: 0.5) }
        checks.append(try compare("scale \(shape)", [out], tolerance: exact))
        try both { be, s in try be.addBias(bias[keyPath: s], to: out[keyPath: s]) }
        checks.append(try compare("addBias \(shape)", [out], tolerance: exact))
        try both { be, s in try be.sumColumns(x[keyPath: s], alpha: 1, beta: 0, into: sum[keyPath: s]) }
        try both { be, s in try be.sumColumns(y[keyPath: s], alpha: 0.5, beta: 0.25, into: sum[keyPath: s]) }
        checks.append(try compare("sumColumns \(shape)", [sum], tolerance: tol))

        let z = try pair(r, c, random(n, scale: 4)), a = try pair(r, c, random(n)), d = try pair(r, c, random(n))
        for act in Activation.allCases {
            try both { be, s in try be.activate(act, z[keyPath: s], into: a[keyPath: s]) }
            checks.append(try compare("activate \(act.rawValue) \(shape)", [a], tolerance: tol))
            guard act != .softmax else { continue }
            try both { be, s in
                try be.activationBackward(act, z: z[keyPath: s], a: a[keyPath: s], upstream: y[keyPath: s],
                                          into: d[keyPath: s])
            }
            checks.append(try compare("activationBackward \(act.rawValue) \(shape)", [d], tolerance: tol))
        }

        checks += try lossChecks(rows: r, cols: c)
        checks += try optimizerChecks(rows: r, cols: c)
        checks.append(try gatherCheck(rows: r, cols: c))
        return checks
    }

    mutating func lossChecks(rows r: Int, cols c: Int) throws -> [EquivalenceCheck] {
        var checks: [EquivalenceCheck] = []
        let z = try pair(r, c, random(r * c, scale: 3)), grad = try pair(r, c, random(r * c))
        for loss in Loss.allCases {
            let outputActivation = loss.requiredOutputActivation ?? .tanh
            var targets = [Float](repeating: 0, count: r * c)
            for j in 0..<c {
                switch loss {
                case .softmaxCrossEntropy: targets[j * r + Int(rng.next() % UInt64(r))] = 1
                case .binaryCrossEntropy: for i in 0..<r { targets[j * r + i] = Float(rng.nextUniform()) }
                case .squaredError: for i in 0..<r { targets[j * r + i] = Float(rng.nextUniform() * 2 - 1) }
                }
            }
            let y = try pair(r, c, targets), a = try pair(r, c, random(r * c))
            let lossSum = try pair(1, 1, [1.5]), correct = try pair(1, 1, [2])
            try both { be, s in
                try be.activate(outputActivation, z[keyPath: s], into: a[keyPath: s])
                try be.lossAndGradient(loss, z: z[keyPath: s], a: a[keyPath: s], targets: y[keyPath: s],
                                       meanOver: max(1, c - 1), gradient: grad[keyPath: s], lossSum: lossSum[keyPath: s])
                try be.countCorrect(output: a[keyPath: s], targets: y[keyPath: s], into: correct[keyPath: s])
            }
            checks.append(try compare("loss \(loss.rawValue) \(r)×\(c)", [lossSum, grad], tolerance: Self.operationTolerance))
            checks.append(try compare("countCorrect \(loss.rawValue) \(r)×\(c)", [correct], tolerance: 0))
        }
        return checks
    }

    mutating func optimizerChecks(rows r: Int, cols c: Int) throws -> [EquivalenceCheck] {
        let n = r * c
        let p = try pair(r, c, random(n)), g = try pair(r, c, random(n))
        let m = try pair(r, c, [Float](repeating: 0, count: n)), v = try pair(r, c, [Float](repeating: 0, count: n))
        let q = try pair(r, c, random(n)), vel = try pair(r, c, [Float](repeating: 0, count: n))
        let w = try pair(r, c, random(n))
        for t in 1...3 {
            try both { be, s in
                try be.sgdStep(parameters: w[keyPath: s], gradient: g[keyPath: s], learningRate: 0.1, weightDecay: 1e-3)
                try be.momentumStep(parameters: q[keyPath: s], gradient: g[keyPath: s], velocity: vel[keyPath: s],
                                    learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4)
                try be.adamStep(parameters: p[keyPath: s], gradient: g[keyPath: s], m: m[keyPath: s], v: v[keyPath: s],
                                learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: t, weightDecay: 1e-4)
            }
        }
        return [
            try compare("sgdStep ×3 \(r)×\(c)", [w], tolerance: Self.exactTolerance),
            try compare("momentumStep ×3 \(r)×\(c)", [q, vel], tolerance: Self.exactTolerance),
            try compare("adamStep ×3 \(r)×\(c)", [p, m, v], tolerance: Self.exactTolerance),
        ]
    }

    mutating func gatherCheck(rows r: Int, cols c: Int) throws -> EquivalenceCheck {
        let sourceCols = c + 5, offset = 2
        let source = try pair(r, sourceCols, random(r * sourceCols)), dest = try pair(r, c, random(r * c))
        let order = rng.permutation(sourceCols)
        let indices = (0..<(c + offset)).map { order[$0 % sourceCols] }
        let testIndices = try backend.makeIndexBuffer(count: indices.count)
        let refIndices = try reference.makeIndexBuffer(count: indices.count)
        try indices.withUnsafeBufferPointer {
            try backend.upload($0, to: testIndices)
            try reference.upload($0, to: refIndices)
        }
        try backend.gatherColumns(source.test, indices: testIndices, offset: offset, into: dest.test)
        try reference.gatherColumns(source.ref, indices: refIndices, offset: offset, into: dest.ref)
        return try compare("gatherColumns \(r)×\(c)", [dest], tolerance: 0)
    }

    /// GEMM, then every other operation at `sizes × sizes` pairs (square, and mixed shapes).
    public mutating func allOperationChecks() throws -> [EquivalenceCheck] {
        var checks = try gemmChecks()
        for (i, s) in sizes.enumerated() {
            checks += try operationChecks(rows: s, cols: s)
            let other = sizes[(i + 2) % sizes.count]
            if other != s { checks += try operationChecks(rows: s, cols: other) }
        }
        return checks
    }
}
