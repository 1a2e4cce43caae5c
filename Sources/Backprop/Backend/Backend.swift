/// Everything training needs from a compute device. The network, trainer and optimizers are
/// written against this protocol only; `CPUBackend` and `OpenCLBackend` implement it.
///
/// Rules every implementation keeps:
/// - Operations may be queued and run later (an OpenCL in-order queue); results are visible to
///   later operations on the same backend, and to the host after `download` or `synchronize`.
///   No operation but `upload`/`download` moves data between host and device.
/// - Matrices are column-major (see ``Matrix``); shapes are checked and a mismatch throws
///   ``BackendError/shapeMismatch(operation:detail:)``.
/// - In-place use (`into` the same matrix as an input) is allowed for elementwise operations.
/// - A backend is used from one thread at a time.
public protocol Backend: AnyObject {
    /// A short human name: "CPU (OpenBLAS)", "OpenCL: pthread-skylake-avx512".
    var name: String { get }

    // MARK: Buffers
    /// A new zero-filled `rows × cols` matrix.
    func makeMatrix(rows: Int, cols: Int) throws -> Matrix
    /// Copies `values` (column-major, `matrix.count` of them) into `matrix`.
    func upload(_ values: UnsafeBufferPointer<Float>, to matrix: Matrix) throws
    /// Copies `matrix` (column-major) into `values`, which holds at least `matrix.count` floats.
    /// Waits for every queued operation that writes `matrix`.
    func download(_ matrix: Matrix, into values: UnsafeMutableBufferPointer<Float>) throws
    func makeIndexBuffer(count: Int) throws -> IndexBuffer
    func upload(_ indices: UnsafeBufferPointer<Int32>, to buffer: IndexBuffer) throws
    /// Sets every element of `matrix` to `value`.
    func fill(_ matrix: Matrix, with value: Float) throws
    /// Waits until every queued operation has finished.
    func synchronize() throws

    // MARK: Linear algebra
    /// `C ← α·op(A)·op(B) + β·C`, where `op(X)` is `Xᵀ` when the flag is set.
    func gemm(transposeA: Bool, transposeB: Bool, alpha: Float, _ a: Matrix, _ b: Matrix,
              beta: Float, _ c: Matrix) throws
    /// `Z ← Z + b·1ᵀ`: adds the column vector `bias` (`rows × 1`) to every column of `z`.
    func addBias(_ bias: Matrix, to z: Matrix) throws
    /// `s ← α·Σⱼ M[:, j] + β·s`: the sum over the batch (columns), as ∂C/∂b = Σ δ needs.
    func sumColumns(_ m: Matrix, alpha: Float, beta: Float, into s: Matrix) throws
    /// `C ← A ⊙ B`, elementwise.
    func hadamard(_ a: Matrix, _ b: Matrix, into c: Matrix) throws
    /// `Y ← α·X + Y`.
    func axpy(alpha: Float, _ x: Matrix, _ y: Matrix) throws
    /// `X ← α·X`.
    func scale(_ x: Matrix, by alpha: Float) throws

    // MARK: Activations
    /// `A ← σ(Z)`; `.softmax` normalizes each column.
    func activate(_ activation: Activation, _ z: Matrix, into a: Matrix) throws
    /// `δ ← upstream ⊙ σ'(Z)`, fused; `a = σ(z)` is passed so sigmoid and tanh need not
    /// recompute it. Not defined for `.softmax` (its Jacobian is not diagonal: use a fused loss).
    func activationBackward(_ activation: Activation, z: Matrix, a: Matrix, upstream: Matrix,
                            into delta: Matrix) throws

    // MARK: Losses
    /// For a batch of `n = output.cols` samples with cost `C = (1/n)·Σₓ Cₓ`:
    /// adds `Σₓ Cₓ` to the `1 × 1` matrix `lossSum`, and writes into `gradient`
    ///   - `.squaredError`: `∇ₐC = (a − y)/n` (the network then applies `⊙ σ'(zᴸ)`);
    ///   - `.softmaxCrossEntropy`, `.binaryCrossEntropy`: `δᴸ = (a − y)/n`, the output
    ///     activation's derivative already folded in (see ``Loss/fusesOutputDerivative``).
    /// For `.softmaxCrossEntropy` each target column must be a probability vector (one-hot, or
    /// summing to 1): the fused gradient `a − y` is `(Σᵢyᵢ)·a − y` only then.
    /// `z` are the pre-activations (the cross-entropies are computed stably from them),
    /// `a` the output activations, `y` the targets, all `classes × n`. `n` may be less than
    /// the batch the buffers were made for; `meanOver` is the `n` to divide by.
    func lossAndGradient(_ loss: Loss, z: Matrix, a: Matrix, targets y: Matrix,
                         meanOver n: Int, gradient: Matrix, lossSum: Matrix) throws
    /// Adds to the `1 × 1` matrix `count` the number of columns whose arg-max in `output`
    /// equals the arg-max in `targets` (for one output unit: both on the same side of 0.5).
    func countCorrect(output: Matrix, targets: Matrix, into count: Matrix) throws

    // MARK: Optimizers (in place)
    /// `θ ← θ − η·(g + λθ)`.
    func sgdStep(parameters: Matrix, gradient: Matrix, learningRate: Float,
                 weightDecay: Float) throws
    /// `v ← μ·v + (g + λθ)`, `θ ← θ − η·v`.
    func momentumStep(parameters: Matrix, gradient: Matrix, velocity: Matrix,
                      learningRate: Float, momentum: Float, weightDecay: Float) throws
    /// Adam (Kingma & Ba) with bias correction at step `t` (1-based), L2 decay added to g.
    func adamStep(parameters: Matrix, gradient: Matrix, m: Matrix, v: Matrix,
                  learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
                  step t: Int, weightDecay: Float) throws

    // MARK: Data
    /// `destination[:, j] ← source[:, indices[offset + j]]` for `j < destination.cols`:
    /// gathers a minibatch from a dataset that already lives in the backend's memory.
    func gatherColumns(_ source: Matrix, indices: IndexBuffer, offset: Int,
                       into destination: Matrix) throws
}

extension Backend {
    /// Downloads a whole matrix into a new array.
    public func download(_ matrix: Matrix) throws -> [Float] {
        var values = [Float](repeating: 0, count: matrix.count)
        try values.withUnsafeMutableBufferPointer { try download(matrix, into: $0) }
        return values
    }

    /// Uploads an array into a new matrix of the given shape.
    public func makeMatrix(rows: Int, cols: Int, values: [Float]) throws -> Matrix {
        guard values.count == rows * cols else {
            throw BackendError.shapeMismatch(
                operation: "makeMatrix", detail: "\(values.count) values for \(rows)×\(cols)")
        }
        let m = try makeMatrix(rows: rows, cols: cols)
        try values.withUnsafeBufferPointer { try upload($0, to: m) }
        return m
    }

    public func upload(_ values: [Float], to matrix: Matrix) throws {
        guard values.count == matrix.count else {
            throw BackendError.shapeMismatch(
                operation: "upload", detail: "\(values.count) values for \(matrix.shape)")
        }
        try values.withUnsafeBufferPointer { try upload($0, to: matrix) }
    }

    /// Reads a `1 × 1` matrix.
    public func scalar(_ matrix: Matrix) throws -> Float {
        var x: Float = 0
        try withUnsafeMutablePointer(to: &x) {
            try download(matrix.reshaped(rows: 1, cols: 1),
                         into: UnsafeMutableBufferPointer(start: $0, count: 1))
        }
        return x
    }
}

public enum BackendError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(operation: String, detail: String)
    case foreignStorage(operation: String)
    case unsupported(operation: String, detail: String)
    case outOfMemory(bytes: Int)
    case invalidChoice(variable: String, value: String, valid: String)
    case device(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, detail): "\(op): shape mismatch: \(detail)"
        case let .foreignStorage(op): "\(op): a matrix belongs to another backend"
        case let .unsupported(op, detail): "\(op): \(detail)"
        case let .outOfMemory(bytes): "could not allocate \(bytes) bytes"
        case let .invalidChoice(variable, value, valid):
            // Command-line options read `--device x`, environment variables `NAME=x`.
            "\(variable)\(variable.hasPrefix("--") ? " " : "=")\(value) is not valid; choose one of: \(valid)"
        case let .device(message): message
        }
    }
}
