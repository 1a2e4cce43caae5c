/// The activations, pre-activations and errors of every layer for one batch size,
/// allocated once and reused by every step (a partial batch uses their first columns).
public final class Workspace {
    public let batchSize: Int
    /// Input batch `x` (`inputs × batch`) and targets `y` (`outputs × batch`).
    public let input: Matrix
    public let target: Matrix
    /// Per layer `l`: `zˡ`, `aˡ` and `δˡ = ∂C/∂zˡ`, each `sizeˡ × batch`.
    public let z: [Matrix]
    public let a: [Matrix]
    public let delta: [Matrix]
    /// Device-side accumulators (`1 × 1`): Σ loss and number of correct predictions.
    public let lossSum: Matrix
    public let correct: Matrix

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
