import BackpropCore
import CPUKernels
import Foundation

/// The reference backend: every matrix product goes to a GEMM provider chosen by instruction set
/// (oneDNN, or OpenBLAS; see ``GEMMChoice``); everything else is a tight loop over unsafe
/// pointers. Simple, exact, and the yardstick for the OpenCL backend.
///
/// Threading: as every `Backend`, used from one thread at a time; its GEMMs run on several
/// threads (the library's own or our panels) inside one call, and so do its larger elementwise
/// passes when the GEMMs use oneDNN's OpenMP team (the same team, see `parallel_loops.c`).
public final class CPUBackend: Backend {
    /// Host memory, 64-byte aligned.
    public typealias Storage = CPUStorage

    private let tuner: GEMMTuner
    /// Threads for the elementwise passes: the OpenMP team's size when the GEMMs use it, else 1
    /// (OpenBLAS or panels would make a second set of threads compete with their own).
    private let loopThreads: Int32

    /// `threads` at most for each product (default ``CPUThreads/count(_:)``); `gemm` forces a
    /// provider (default `BACKPROP_GEMM`, else chosen by instruction set); `threading` how
    /// oneDNN uses them (default `BACKPROP_GEMM_THREADING`, else its own threads). A variable
    /// that names no choice is refused by the `cpu` registration, which the command line goes
    /// through; made directly, this backend then takes the default.
    public init(threads: Int? = nil, gemm: GEMMChoice? = nil, threading: GEMMThreading? = nil) {
        let choice = gemm ?? (try? GEMMChoice.fromEnvironment()).flatMap { $0 } ?? .automatic
        let threading = threading ?? (try? GEMMThreading.fromEnvironment()).flatMap { $0 } ?? .library
        tuner = GEMMTuner(ParallelGEMM(provider: choice.makeProvider(), threads: threads ?? CPUThreads.count(),
                                       libraryThreads: threading == .library))
        loopThreads = Int32(tuner.gemm.libraryThreads ? tuner.gemm.threads : 1)
    }

    /// The GEMM library in use: name, version and the instruction set of its kernels.
    public var gemmProvider: GEMMProviderInfo { tuner.gemm.provider.info }

    /// `CPU (oneDNN 2.6.3, avx512_core_bf16; n threads)`: the GEMM library, its ISA, and the most
    /// threads a product uses.
    public var name: String {
        "CPU (\(gemmProvider.summary); \(tuner.gemm.threads) thread\(tuner.gemm.threads == 1 ? "" : "s"))"
    }

    /// Host memory: what this process may use (the RAM within its cgroup limits and `ulimit -v`), and no limit per buffer beyond it.
    public var memory: DeviceMemory {
        let ram = Cgroup.memoryBytes
        return DeviceMemory(total: ram, largestBuffer: ram)
    }

    // MARK: Buffers

    /// `count` zeroed floats of host memory; throws `BackendError.outOfMemory` when refused.
    public func makeStorage(count: Int) throws -> CPUStorage { try CPUStorage(capacity: count) }
    /// Keeps the array's buffer: a dataset handed over is not copied.
    public func makeStorage(adopting values: consuming [Float]) throws -> CPUStorage { try CPUStorage.adopting(consume values) }

    /// `count` zeroed `Int32`s of host memory.
    public func makeIndexStorage(count: Int) throws -> CPUStorage { try CPUStorage(capacity: count, elementSize: 4) }

    /// A `memcpy` of `matrix.count` floats; nothing is queued.
    public func upload(_ values: UnsafeBufferPointer<Float>, to matrix: Operand<CPUStorage>) throws {
        if let base = values.baseAddress { matrix.floats.update(from: base, count: matrix.count) }
    }

    /// A `memcpy` of `matrix.count` floats; every operation has already finished.
    public func download(_ matrix: Operand<CPUStorage>, into values: UnsafeMutableBufferPointer<Float>) throws {
        if let base = values.baseAddress { base.update(from: matrix.floats, count: matrix.count) }
    }

    /// A `memcpy` of the indices.
    public func upload(_ indices: UnsafeBufferPointer<Int32>, to buffer: CPUStorage) throws {
        if let base = indices.baseAddress { buffer.int32s.update(from: base, count: indices.count) }
    }

    /// Sets the `matrix.count` floats to `value`.
    public func fill(_ matrix: Operand<CPUStorage>, with value: Float) throws {
        matrix.floats.update(repeating: value, count: matrix.count)
    }

    /// Returns at once: every operation runs to completion before it returns.
    public func synchronize() throws {}

    // MARK: Linear algebra

    /// `C ← α·op(A)·op(B) + β·C` by `cblas_sgemm`, C split into column (or row) panels run on
    /// the GEMM threads when the product is large enough to gain from it.
    public func gemm(transposeA: Bool, transposeB: Bool, alpha: Float, _ a: Operand<CPUStorage>,
                     _ b: Operand<CPUStorage>, beta: Float, _ c: Operand<CPUStorage>) throws {
        let (m, k) = transposeA ? (a.cols, a.rows) : (a.rows, a.cols)
        try tuner.run(GEMMCall(transposeA: transposeA, transposeB: transposeB, m: m, n: c.cols, k: k, alpha: alpha,
                               a: a.floats, lda: max(1, a.rows), b: b.floats, ldb: max(1, b.rows),
                               beta: beta, c: c.floats, ldc: max(1, c.rows)))
    }

    /// `Z ← Z + b·1ᵀ`, a vectorized C loop over the columns.
    public func addBias(_ bias: Operand<CPUStorage>, to z: Operand<CPUStorage>) throws {
        bp_add_bias(z.floats, bias.floats, z.rows, z.cols)
    }

    /// `s ← α·Σⱼ M[:, j] + β·s`, a vectorized C loop.
    public func sumColumns(_ m: Operand<CPUStorage>, alpha: Float, beta: Float, into s: Operand<CPUStorage>) throws {
        bp_par_sum_columns(loopThreads, m.floats, m.rows, m.cols, alpha, beta, s.floats)
    }

    /// `C ← A ⊙ B`, a vectorized C loop.
    public func hadamard(_ a: Operand<CPUStorage>, _ b: Operand<CPUStorage>, into c: Operand<CPUStorage>) throws {
        bp_hadamard(a.floats, b.floats, c.floats, c.count)
    }

    /// `Y ← α·X + Y`, a vectorized C loop.
    public func axpy(alpha: Float, _ x: Operand<CPUStorage>, _ y: Operand<CPUStorage>) throws {
        bp_axpy(alpha, x.floats, y.floats, y.count)
    }

    /// `X ← α·X`; `α = 0` writes zeros, clearing NaNs too.
    public func scale(_ x: Operand<CPUStorage>, by alpha: Float) throws {
        // β = 0 must clear C even where it holds NaN (BLAS convention), so no multiplication.
        if alpha == 0 { x.floats.update(repeating: 0, count: x.count); return }
        bp_scale(x.floats, alpha, x.count)
    }

    // MARK: Activations

    /// `A ← σ(Z)`: `expf`/`tanhf` per element; softmax per column after subtracting the
    /// column's maximum, so no `exp` overflows.
    public func activate(_ activation: Activation, _ z: Operand<CPUStorage>, into a: Operand<CPUStorage>) throws {
        let pz = z.floats, pa = a.floats, n = z.count
        switch activation {
        case .identity: if pz != pa { pa.update(from: pz, count: n) }
        case .sigmoid: for i in 0..<n { pa[i] = 1 / (1 + expf(-pz[i])) }
        case .relu: bp_relu(pz, pa, n)
        case .tanh: for i in 0..<n { pa[i] = tanhf(pz[i]) }
        case .softmax:
            let rows = z.rows
            for j in 0..<z.cols {
                let zc = pz + j * rows, ac = pa + j * rows
                // softmax(z) = e^{z − max z} / Σ e^{z − max z}: no overflow for large z.
                let m = columnMax(zc, rows)
                var sum: Float = 0
                for i in 0..<rows { let e = expf(zc[i] - m); ac[i] = e; sum += e }
                let inv = 1 / sum
                for i in 0..<rows { ac[i] *= inv }
            }
        }
    }

    /// `δ ← upstream ⊙ σ'(Z)`, with `σ'` from `a` for sigmoid (`a(1 − a)`) and tanh (`1 − a²`)
    /// and from `z` for ReLU.
    public func activationBackward(_ activation: Activation, z: Operand<CPUStorage>, a: Operand<CPUStorage>,
                                   upstream: Operand<CPUStorage>, into delta: Operand<CPUStorage>) throws {
        let pu = upstream.floats, pd = delta.floats, n = z.count
        switch activation {
        case .identity: if pu != pd { pd.update(from: pu, count: n) }
        case .sigmoid: bp_par_activation_backward(loopThreads, Int32(BP_SIGMOID), a.floats, pu, pd, n)
        case .relu: bp_par_activation_backward(loopThreads, Int32(BP_RELU), z.floats, pu, pd, n)
        case .tanh: bp_par_activation_backward(loopThreads, Int32(BP_TANH), a.floats, pu, pd, n)
        case .softmax: preconditionFailure("refused by the checked entry point")
        }
    }

    // MARK: Losses

    /// The batch's loss summed in Double and added to `lossSum`, and `gradient ← (a − y)/n`
    /// (`∇ₐC` for squared error, `δᴸ` for the fused losses); log-sum-exp and `log1p` keep the
    /// cross-entropies finite for large `|z|`.
    public func lossAndGradient(_ loss: Loss, z: Operand<CPUStorage>, a: Operand<CPUStorage>,
                                targets y: Operand<CPUStorage>, meanOver n: Int,
                                gradient: Operand<CPUStorage>, lossSum: Operand<CPUStorage>) throws {
        let pz = z.floats, pa = a.floats, py = y.floats, pg = gradient.floats
        let inv = 1 / Float(n)
        var total: Double = 0
        switch loss {
        case .squaredError:
            for i in 0..<z.count {
                let d = pa[i] - py[i]
                total += Double(0.5 * d * d)
                pg[i] = d * inv
            }
        case .softmaxCrossEntropy:
            let rows = z.rows
            for j in 0..<z.cols {
                let zc = pz + j * rows, yc = py + j * rows
                // −Σ yᵢ log softmax(z)ᵢ = Σ yᵢ (log Σ e^{z} − zᵢ), with log Σ e^{z} taken stably.
                let m = columnMax(zc, rows)
                var sum: Float = 0
                for i in 0..<rows { sum += expf(zc[i] - m) }
                let logSumExp = m + logf(sum)
                var c: Float = 0
                for i in 0..<rows where yc[i] != 0 { c += yc[i] * (logSumExp - zc[i]) }
                total += Double(c)
            }
            for i in 0..<z.count { pg[i] = (pa[i] - py[i]) * inv }
        case .binaryCrossEntropy:
            for i in 0..<z.count {
                let x = pz[i]
                // −[y log σ(x) + (1 − y) log(1 − σ(x))], written so no exp overflows.
                total += Double(max(x, 0) - x * py[i] + log1pf(expf(-abs(x))))
                pg[i] = (pa[i] - py[i]) * inv
            }
        }
        lossSum.floats[0] += Float(total)
    }

    /// Adds the columns that `Prediction.isCorrect` accepts.
    public func countCorrect(output: Operand<CPUStorage>, targets: Operand<CPUStorage>,
                             into count: Operand<CPUStorage>) throws {
        let rows = output.rows
        var correct = 0
        for j in 0..<output.cols {
            let o = UnsafeBufferPointer(start: output.floats + j * rows, count: rows)
            let t = UnsafeBufferPointer(start: targets.floats + j * rows, count: rows)
            if Prediction.isCorrect(output: o, target: t) { correct += 1 }
        }
        count.floats[0] += Float(correct)
    }

    // MARK: Optimizers

    /// `θ ← θ − η·(g + λθ)`, a vectorized C loop.
    public func sgdStep(parameters: Operand<CPUStorage>, gradient: Operand<CPUStorage>, learningRate: Float,
                        weightDecay: Float) throws {
        bp_par_sgd(loopThreads, parameters.floats, gradient.floats, parameters.count, learningRate, weightDecay)
    }

    /// `v ← μ·v + (g + λθ)`, `θ ← θ − η·v`, a vectorized C loop.
    public func momentumStep(parameters: Operand<CPUStorage>, gradient: Operand<CPUStorage>,
                             velocity: Operand<CPUStorage>, learningRate: Float, momentum: Float,
                             weightDecay: Float) throws {
        bp_par_momentum(loopThreads, parameters.floats, gradient.floats, velocity.floats, parameters.count,
                        learningRate, momentum, weightDecay)
    }

    /// `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²` with `g` including `λθ`, then
    /// `θ ← θ − η·(m/c1)/(√(v/c2) + ε)`; a vectorized C loop.
    public func adamStep(parameters: Operand<CPUStorage>, gradient: Operand<CPUStorage>, m: Operand<CPUStorage>,
                         v: Operand<CPUStorage>, learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
                         corrections c1: Float, _ c2: Float, weightDecay: Float) throws {
        bp_par_adam(loopThreads, parameters.floats, gradient.floats, m.floats, v.floats, parameters.count,
                    learningRate, beta1, beta2, c1, c2, epsilon, weightDecay)
    }

    // MARK: Data

    /// Copies column `indices[offset + j]` of `source` to column `j`; throws
    /// `BackendError.shapeMismatch` at the first index outside `0 ..< source.cols`.
    public func gatherColumns(_ source: Operand<CPUStorage>, indices: CPUStorage, offset: Int,
                              into destination: Operand<CPUStorage>) throws {
        let idx = indices.int32s + offset
        for j in 0..<destination.cols {
            let k = Int(idx[j])
            guard k >= 0 && k < source.cols else {
                throw BackendError.shapeMismatch(operation: "gatherColumns", detail: "index \(k) out of 0..<\(source.cols)")
            }
        }
        bp_par_gather_columns(loopThreads, source.floats, source.rows, idx, destination.cols, destination.floats)
    }

    // MARK: Views

    /// 16 floats: every view starts on a 64-byte boundary, as every buffer does.
    public var viewAlignment: Int? { 16 }

    /// The same memory from `offset`; throws `shapeMismatch` when it does not fit.
    public func view(of storage: CPUStorage, offset: Int, count: Int) throws -> CPUStorage {
        guard offset >= 0, count >= 0, offset + count <= storage.capacity, offset % 16 == 0 else {
            throw BackendError.shapeMismatch(operation: "view", detail: "\(count) floats at \(offset) of \(storage.capacity)")
        }
        return CPUStorage(viewOf: storage, offset: offset, count: count)
    }

    // MARK: Fused layer passes

    /// The GEMM into `Z`, then bias and σ in one pass over `Z` column by column, while it is in
    /// cache (softmax: the bias pass, then each column normalized).
    public func denseForward(weight: Operand<CPUStorage>, bias: Operand<CPUStorage>, input: Operand<CPUStorage>,
                             activation: Activation, z: Operand<CPUStorage>, activated: Operand<CPUStorage>?) throws {
        try gemm(transposeA: false, transposeB: false, alpha: 1, weight, input, beta: 0, z)
        let code: Int32 = switch activation {
        case .identity: Int32(BP_IDENTITY)
        case .sigmoid: Int32(BP_SIGMOID)
        case .relu: Int32(BP_RELU)
        case .tanh: Int32(BP_TANH)
        case .softmax: Int32(BP_BIAS_ONLY)
        }
        bp_par_bias_activate(loopThreads, z.floats, bias.floats, activation == .softmax ? nil : activated?.floats,
                             z.rows, z.cols, code)
        if activation == .softmax, let activated { try activate(.softmax, z, into: activated) }
    }

    /// Column by column, one pass over `z`, `a` and `y`: σ (when `activate`), the loss summed in
    /// Double, `δᴸ` (squared error: `(a − y)/n ⊙ σ'(z)`; the cross-entropies `(a − y)/n`), and
    /// the prediction rule. The same arithmetic as `activate`, `lossAndGradient`,
    /// `activationBackward` and `countCorrect` one after another, so the same results.
    public func outputLoss(_ loss: Loss, activation: Activation, z: Operand<CPUStorage>, a: Operand<CPUStorage>,
                           activate: Bool, targets y: Operand<CPUStorage>, meanOver n: Int,
                           gradient: Operand<CPUStorage>, lossSum: Operand<CPUStorage>,
                           correct: Operand<CPUStorage>?) throws {
        let rows = z.rows, inv = 1 / Float(n)
        var total: Double = 0, right = 0
        for j in 0..<z.cols {
            let zc = z.floats + j * rows, ac = a.floats + j * rows, yc = y.floats + j * rows
            let gc = gradient.floats + j * rows
            switch loss {
            case .softmaxCrossEntropy:
                // −Σ yᵢ log softmax(z)ᵢ = Σ yᵢ (log Σ e^{z} − zᵢ), with log Σ e^{z} taken stably;
                // the same Σ e^{z − max z} normalizes a.
                let m = columnMax(zc, rows)
                var sum: Float = 0
                if activate {
                    for i in 0..<rows { let e = expf(zc[i] - m); ac[i] = e; sum += e }
                    let r = 1 / sum
                    for i in 0..<rows { ac[i] *= r }
                } else {
                    for i in 0..<rows { sum += expf(zc[i] - m) }
                }
                let logSumExp = m + logf(sum)
                var c: Float = 0
                for i in 0..<rows where yc[i] != 0 { c += yc[i] * (logSumExp - zc[i]) }
                total += Double(c)
                for i in 0..<rows { gc[i] = (ac[i] - yc[i]) * inv }
            case .binaryCrossEntropy:
                for i in 0..<rows {
                    let x = zc[i]
                    if activate { ac[i] = 1 / (1 + expf(-x)) }
                    // −[y log σ(x) + (1 − y) log(1 − σ(x))], written so no exp overflows.
                    total += Double(max(x, 0) - x * yc[i] + log1pf(expf(-abs(x))))
                    gc[i] = (ac[i] - yc[i]) * inv
                }
            case .squaredError:
                for i in 0..<rows {
                    if activate {
                        switch activation {
                        case .identity, .softmax: ac[i] = zc[i]
                        case .sigmoid: ac[i] = 1 / (1 + expf(-zc[i]))
                        case .relu: ac[i] = zc[i] > 0 ? zc[i] : 0
                        case .tanh: ac[i] = tanhf(zc[i])
                        }
                    }
                    let d = ac[i] - yc[i]
                    total += Double(0.5 * d * d)
                    let g = d * inv
                    // ⊙ σ'(zᴸ), as bp_*_backward compute it.
                    switch activation {
                    case .identity, .softmax: gc[i] = g
                    case .sigmoid: gc[i] = g * (ac[i] * (1 - ac[i]))
                    case .relu: gc[i] = zc[i] > 0 ? g : 0
                    case .tanh: gc[i] = g * (1 - ac[i] * ac[i])
                    }
                }
            }
            if correct != nil, Prediction.isCorrect(output: UnsafeBufferPointer(start: ac, count: rows),
                                                    target: UnsafeBufferPointer(start: yc, count: rows)) {
                right += 1
            }
        }
        lossSum.floats[0] += Float(total)
        if let correct { correct.floats[0] += Float(right) }
    }

    /// One vectorized C loop per run of elements with the same weight decay, over the whole
    /// contiguous buffer: one pass over memory.
    public func updateParameters(_ rule: UpdateRule, parameters: Operand<CPUStorage>, gradient: Operand<CPUStorage>,
                                 first: Operand<CPUStorage>?, second: Operand<CPUStorage>?,
                                 decayed: [Range<Int>]) throws {
        let p = parameters.floats, g = gradient.floats
        for (run, decays) in decayRuns(count: parameters.count, decayed: decayed) {
            let o = run.lowerBound, count = run.count
            switch rule {
            case let .sgd(lr, wd):
                bp_par_sgd(loopThreads, p + o, g + o, count, lr, decays ? wd : 0)
            case let .momentum(lr, mu, wd):
                guard let v = first?.floats else { throw BackendError.unsupported(operation: "updateParameters", detail: "momentum needs a velocity") }
                bp_par_momentum(loopThreads, p + o, g + o, v + o, count, lr, mu, decays ? wd : 0)
            case let .adam(lr, b1, b2, eps, c1, c2, wd):
                guard let m = first?.floats, let v = second?.floats else {
                    throw BackendError.unsupported(operation: "updateParameters", detail: "Adam needs two moments")
                }
                bp_par_adam(loopThreads, p + o, g + o, m + o, v + o, count, lr, b1, b2, c1, c2, eps, decays ? wd : 0)
            }
        }
    }

    // MARK: Helpers

    private func columnMax(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        var m = -Float.infinity
        for i in 0..<n { m = max(m, p[i]) }
        return m
    }
}
