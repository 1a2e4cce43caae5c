/// Everything training needs from a compute device. The network, trainer and optimizers are
/// written against this protocol only; the backends (`CPUBackend`, `OpenCLBackend`, a test's
/// own) implement it and are chosen by name through ``BackendRegistry``.
///
/// Two layers, so that every rule about shapes is written once:
/// - **What callers use**: the operations on ``Matrix`` in `Backend+Checked.swift` (`gemm`,
///   `addBias`, …). Each checks shapes and that every matrix lives in this backend's memory, and
///   throws ``BackendError`` otherwise; then it calls the requirement of the same name.
/// - **What a backend implements**: the requirements below, on ``Operand``s — matrices already
///   checked, their storage already cast to the backend's own `Storage` type. A requirement
///   never checks a shape; it may throw only for what it alone can know (device errors, an
///   index out of range in `gatherColumns`).
///
/// Rules every implementation keeps:
/// - Operations may be queued and run later (an OpenCL in-order queue); results are visible to
///   later operations on the same backend, and to the host after `download` or `synchronize`.
///   No operation but `upload`/`download` moves data between host and device.
/// - Matrices are column-major (see ``Matrix``).
/// - In-place use (`into` the same matrix as an input) is allowed for elementwise operations.
/// - **Threading: a backend and its matrices are used from one thread at a time.** Backends are
///   not `Sendable`; a program that trains on several threads makes a backend per thread.
public protocol Backend: AnyObject {
    /// The backend's device memory; matrices made by another kind of backend are refused.
    associatedtype Storage: DeviceStorage

    /// A short human name: "CPU (OpenBLAS, 2 threads)", "OpenCL: pthread-skylake-avx512".
    var name: String { get }
    /// Bytes of device memory the backend can give to buffers: the whole allocation limit and the
    /// largest single buffer (`CL_DEVICE_GLOBAL_MEM_SIZE`, `CL_DEVICE_MAX_MEM_ALLOC_SIZE`).
    var memory: DeviceMemory { get }

    /// Whether `storage` belongs to this backend instance (an OpenCL buffer of another context
    /// does not). The default, for host memory, is `true`.
    func owns(_ storage: Storage) -> Bool

    // MARK: Buffers
    /// New zero-filled storage for `count` floats (`count` is checked to be non-negative).
    func makeStorage(count: Int) throws -> Storage
    /// New zero-filled storage for `count` `Int32` indices.
    func makeIndexStorage(count: Int) throws -> Storage
    /// Storage holding `values`, taking the array: a host backend may keep the array's own
    /// buffer instead of copying it (so a dataset handed over is held once, not twice). The
    /// default makes storage of `values.count` floats and uploads them.
    func makeStorage(adopting values: consuming [Float]) throws -> Storage
    /// Copies the first `matrix.count` of `values` into `matrix`.
    func upload(_ values: UnsafeBufferPointer<Float>, to matrix: Operand<Storage>) throws
    /// Copies `matrix` into the first `matrix.count` of `values`, after every queued write to it.
    func download(_ matrix: Operand<Storage>, into values: UnsafeMutableBufferPointer<Float>) throws
    /// Copies `indices` into the first `indices.count` slots of `buffer`.
    func upload(_ indices: UnsafeBufferPointer<Int32>, to buffer: Storage) throws
    /// Sets every element of `matrix` to `value`.
    func fill(_ matrix: Operand<Storage>, with value: Float) throws
    /// Waits until every queued operation has finished.
    func synchronize() throws

    // MARK: Linear algebra
    /// `C ← α·op(A)·op(B) + β·C` with `m, n, k ≥ 1` (the checked entry point handles empty products).
    func gemm(transposeA: Bool, transposeB: Bool, alpha: Float, _ a: Operand<Storage>, _ b: Operand<Storage>,
              beta: Float, _ c: Operand<Storage>) throws
    /// `Z ← Z + b·1ᵀ`.
    func addBias(_ bias: Operand<Storage>, to z: Operand<Storage>) throws
    /// `s ← α·Σⱼ M[:, j] + β·s`.
    func sumColumns(_ m: Operand<Storage>, alpha: Float, beta: Float, into s: Operand<Storage>) throws
    /// `C ← A ⊙ B`.
    func hadamard(_ a: Operand<Storage>, _ b: Operand<Storage>, into c: Operand<Storage>) throws
    /// `Y ← α·X + Y`.
    func axpy(alpha: Float, _ x: Operand<Storage>, _ y: Operand<Storage>) throws
    /// `X ← α·X`.
    func scale(_ x: Operand<Storage>, by alpha: Float) throws

    // MARK: Activations
    /// `A ← σ(Z)`; `.softmax` normalizes each column.
    func activate(_ activation: Activation, _ z: Operand<Storage>, into a: Operand<Storage>) throws
    /// `δ ← upstream ⊙ σ'(Z)` for an elementwise σ (never `.softmax`).
    func activationBackward(_ activation: Activation, z: Operand<Storage>, a: Operand<Storage>,
                            upstream: Operand<Storage>, into delta: Operand<Storage>) throws

    // MARK: Losses
    /// See ``Backend/lossAndGradient(_:z:a:targets:meanOver:gradient:lossSum:)``; `n ≥ 1`.
    func lossAndGradient(_ loss: Loss, z: Operand<Storage>, a: Operand<Storage>, targets y: Operand<Storage>,
                         meanOver n: Int, gradient: Operand<Storage>, lossSum: Operand<Storage>) throws
    /// Adds to `count` the number of columns predicted correctly, by ``Prediction``'s rule.
    func countCorrect(output: Operand<Storage>, targets: Operand<Storage>, into count: Operand<Storage>) throws

    // MARK: Optimizers (in place)
    /// `θ ← θ − η·(g + λθ)`.
    func sgdStep(parameters: Operand<Storage>, gradient: Operand<Storage>, learningRate: Float,
                 weightDecay: Float) throws
    /// `v ← μ·v + (g + λθ)`, `θ ← θ − η·v`.
    func momentumStep(parameters: Operand<Storage>, gradient: Operand<Storage>, velocity: Operand<Storage>,
                      learningRate: Float, momentum: Float, weightDecay: Float) throws
    /// Adam (Kingma & Ba) with bias corrections `c1 = 1 − β₁ᵗ`, `c2 = 1 − β₂ᵗ` (computed once,
    /// on the host, by the checked entry point), L2 decay added to g.
    func adamStep(parameters: Operand<Storage>, gradient: Operand<Storage>, m: Operand<Storage>, v: Operand<Storage>,
                  learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
                  corrections c1: Float, _ c2: Float, weightDecay: Float) throws

    // MARK: Data
    /// `destination[:, j] ← source[:, indices[offset + j]]`; throws when an index is outside
    /// `0 ..< source.cols` (the one check only the backend can make: it reads the indices).
    func gatherColumns(_ source: Operand<Storage>, indices: Storage, offset: Int,
                       into destination: Operand<Storage>) throws

    // MARK: Views (optional)
    /// The alignment, in floats, at which ``view(of:offset:count:)`` can start a view; nil (the
    /// default) when the backend makes no views. Parameters then live in one buffer per tensor
    /// and the optimizer updates them one tensor at a time.
    var viewAlignment: Int? { get }
    /// Storage for `count` floats of `storage` from `offset` (a multiple of ``viewAlignment``),
    /// sharing its memory. Called only when ``viewAlignment`` is not nil.
    func view(of storage: Storage, offset: Int, count: Int) throws -> Storage

    // MARK: Fused layer passes (defaults in Backend+Fused.swift, from the operations above)
    // A backend overrides these to make one pass (or one launch) of what the defaults do in
    // several. Operands are checked by the entry points of the same name in Backend+Checked.swift.

    /// `Z ← W·A + b·1ᵀ`, then `A' ← σ(Z)` when `activated` is given (never for `.softmax`
    /// unless the backend normalizes columns). `input` is `in × n`, `z` and `activated` `out × n`.
    func denseForward(weight: Operand<Storage>, bias: Operand<Storage>, input: Operand<Storage>,
                      activation: Activation, z: Operand<Storage>, activated: Operand<Storage>?) throws
    /// `∂W ← δ·Aᵀ` and `∂b ← Σⱼ δ[:, j]` in one call: `delta` is `out × n`, `input` `in × n`.
    func parameterGradients(delta: Operand<Storage>, input: Operand<Storage>,
                            weightGradient: Operand<Storage>, biasGradient: Operand<Storage>) throws
    /// `δˡ⁻¹ ← (Wᵀ·δˡ) ⊙ σ'(zˡ⁻¹)` for an elementwise σ of the layer below; `z` and `a` are its
    /// pre-activations and activations (`in × n`), `below` is written.
    func backpropagate(weight: Operand<Storage>, delta: Operand<Storage>, activation: Activation,
                       z: Operand<Storage>, a: Operand<Storage>, into below: Operand<Storage>) throws
    /// A hidden layer's backward pass: ``parameterGradients(delta:input:weightGradient:biasGradient:)``
    /// and ``backpropagate(weight:delta:activation:z:a:into:)`` (whose `z`, `a` and `below` are
    /// the layer below's, `input` its activations `a`) in one call: both read `δ`.
    func layerBackward(weight: Operand<Storage>, delta: Operand<Storage>, input: Operand<Storage>,
                       weightGradient: Operand<Storage>, biasGradient: Operand<Storage>, activation: Activation,
                       z: Operand<Storage>, into below: Operand<Storage>) throws
    /// The output layer in one pass: `a ← σ(z)` first when `activate` is set, then the loss of
    /// ``lossAndGradient(_:z:a:targets:meanOver:gradient:lossSum:)`` added to `lossSum`, the
    /// error `δᴸ = ∇ₐC ⊙ σ'(zᴸ)` written to `gradient` (for every loss: the fused ones already
    /// are `δᴸ`), and, when `correct` is given, the columns predicted right added to it.
    func outputLoss(_ loss: Loss, activation: Activation, z: Operand<Storage>, a: Operand<Storage>,
                    activate: Bool, targets y: Operand<Storage>, meanOver n: Int, gradient: Operand<Storage>,
                    lossSum: Operand<Storage>, correct: Operand<Storage>?) throws
    /// One optimizer step over a whole parameter buffer: `rule` on every element, the weight
    /// decay only inside `decayed` (sorted, disjoint ranges of element indices; outside them
    /// `λ = 0`, as for biases). `first` is the velocity or Adam's `m`, `second` Adam's `v`.
    func updateParameters(_ rule: UpdateRule, parameters: Operand<Storage>, gradient: Operand<Storage>,
                          first: Operand<Storage>?, second: Operand<Storage>?, decayed: [Range<Int>]) throws
}

/// One optimizer step's rule and hyperparameters, as ``Backend/updateParameters(_:parameters:gradient:first:second:decayed:)``
/// applies it. Adam's bias corrections `c1 = 1 − β₁ᵗ`, `c2 = 1 − β₂ᵗ` are computed on the host.
public enum UpdateRule: Sendable, Equatable {
    /// `θ ← θ − η·(g + λθ)`.
    case sgd(learningRate: Float, weightDecay: Float)
    /// `v ← μ·v + (g + λθ)`, `θ ← θ − η·v`.
    case momentum(learningRate: Float, momentum: Float, weightDecay: Float)
    /// Adam with bias corrections `c1`, `c2`, L2 decay added to g.
    case adam(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, c1: Float, c2: Float, weightDecay: Float)

    /// The rule's `λ`.
    public var weightDecay: Float {
        switch self {
        case let .sgd(_, wd), let .momentum(_, _, wd), let .adam(_, _, _, _, _, _, wd): wd
        }
    }

    /// How many state buffers the rule keeps per parameter (0, 1 or 2).
    public var stateCount: Int {
        switch self {
        case .sgd: 0
        case .momentum: 1
        case .adam: 2
        }
    }
}

extension Backend {
    public func owns(_ storage: Storage) -> Bool { true }

    public func makeStorage(adopting values: consuming [Float]) throws -> Storage {
        let count = values.count
        let storage = try makeStorage(count: count)
        if count > 0 {
            let all = Operand<Storage>(Matrix(rows: count, cols: 1, storage: storage), storage)
            try values.withUnsafeBufferPointer { try upload($0, to: all) }
        }
        return storage
    }
}

/// A matrix the checked entry points have validated for a backend: its shape is right for the
/// operation and its storage is the backend's own, already cast.
public struct Operand<Storage: DeviceStorage> {
    /// Number of rows (features, for a batch of activations).
    public let rows: Int
    /// Number of columns (samples, for a batch of activations).
    public let cols: Int
    /// The backend's own memory, holding at least `count` floats, column-major.
    public let storage: Storage
    /// `rows · cols`, the number of elements the operation reads or writes.
    public var count: Int { rows * cols }

    init(_ matrix: Matrix, _ storage: Storage) {
        rows = matrix.rows
        cols = matrix.cols
        self.storage = storage
    }

    /// The same storage as a `rows × cols` operand (no more elements than it holds).
    init(rows: Int, cols: Int, storage: Storage) {
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }
}

/// How much device memory a backend can give to buffers.
public struct DeviceMemory: Sendable, Equatable {
    /// All buffers together.
    public var total: UInt64
    /// One buffer.
    public var largestBuffer: UInt64
    /// Limits in bytes; a host backend passes its physical memory for both.
    public init(total: UInt64, largestBuffer: UInt64) {
        self.total = total
        self.largestBuffer = largestBuffer
    }
}

/// Why a backend refused or failed an operation; ``description`` is the one-line message users see.
public enum BackendError: Error, CustomStringConvertible, Equatable {
    /// The operands do not fit `operation`; `detail` says how (the shapes expected and found, or
    /// an index out of range).
    case shapeMismatch(operation: String, detail: String)
    /// A matrix passed to `operation` was made by another backend (or another backend instance).
    case foreignStorage(operation: String)
    /// The backend cannot do `operation` with these arguments (the elementwise derivative of softmax).
    case unsupported(operation: String, detail: String)
    /// The device could not allocate a buffer of `bytes` bytes.
    case outOfMemory(bytes: Int)
    /// A user's choice (`variable`, an option or environment variable) names no valid `value`;
    /// `valid` lists the choices.
    case invalidChoice(variable: String, value: String, valid: String)
    /// A device or driver error, as a full message (an OpenCL error code by name).
    case device(String)

    /// The message, naming the operation or option at fault.
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
