/// The activations, pre-activations and errors of every layer for one batch size,
/// allocated once and reused by every step (a partial batch uses their first columns).
public final class Workspace {
    /// Columns of every matrix: the most samples one step takes.
    public let batchSize: Int
    /// Input batch `x = a⁰`, `inputs × batch`.
    public let input: Matrix
    /// Targets `y`, `outputs × batch` (one-hot when gathered from a ``DeviceDataset``).
    public let target: Matrix
    /// `zˡ = Wˡ·aˡ⁻¹ + bˡ` per layer, `sizeˡ × batch`.
    public let z: [Matrix]
    /// `aˡ = σ(zˡ)` per layer, `sizeˡ × batch`; the last is the network's output.
    public let a: [Matrix]
    /// `δˡ = ∂C/∂zˡ` per layer, `sizeˡ × batch`, written by the backward pass.
    public let delta: [Matrix]
    /// `1 × 1`: `Σₓ Cₓ` accumulated by the backward passes; the caller zeroes it.
    public let lossSum: Matrix
    /// `1 × 1`: correct predictions counted so far (see ``Prediction``); the caller zeroes it.
    public let correct: Matrix

    /// Every buffer for `architecture` at `batchSize` columns on `backend`; throws
    /// ``ArchitectureError`` when `batchSize < 1`, or the backend's error when memory runs out.
    public init(backend: any Backend, architecture: Architecture, batchSize: Int) throws {
        guard batchSize > 0 else {
            throw ArchitectureError.invalid("batch size must be at least 1, got \(batchSize)")
        }
        self.batchSize = batchSize
        let sizes = architecture.sizes
        input = try backend.makeMatrix(rows: sizes[0], cols: batchSize)
        target = try backend.makeMatrix(rows: sizes[sizes.count - 1], cols: batchSize)
        z = try sizes.dropFirst().map { try backend.makeMatrix(rows: $0, cols: batchSize) }
        a = try sizes.dropFirst().map { try backend.makeMatrix(rows: $0, cols: batchSize) }
        delta = try sizes.dropFirst().map { try backend.makeMatrix(rows: $0, cols: batchSize) }
        lossSum = try backend.makeMatrix(rows: 1, cols: 1)
        correct = try backend.makeMatrix(rows: 1, cols: 1)
    }
}
