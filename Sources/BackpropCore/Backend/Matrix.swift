/// Device memory owned by a backend. Each backend defines its own storage class and
/// recognises only its own; a `Matrix` never exposes the memory to the network code.
public protocol DeviceStorage: AnyObject {
    /// Number of `Float` elements the storage holds.
    var capacity: Int { get }
}

/// A column-major `rows × cols` matrix living in a backend's memory.
///
/// Shape convention used everywhere (as in the four equations of backpropagation):
/// a batch of activations is `features × batch` — one column per sample — so a layer's
/// forward pass reads `Z = W·A + b·1ᵀ` with `W` of shape `out × in`.
/// Column-major storage makes a sample a contiguous column, so the first `n` columns of a
/// batch buffer are themselves a valid matrix: that is how a partial last batch reuses the
/// buffers allocated for a full one (see ``prefixColumns(_:)``).
public struct Matrix {
    /// Number of rows (features, for a batch of activations).
    public let rows: Int
    /// Number of columns (samples, for a batch of activations).
    public let cols: Int
    /// The backend memory holding the elements; element `(i, j)` is at offset `i + j·rows`.
    public let storage: any DeviceStorage

    /// A view of `storage` as a `rows × cols` matrix. Traps if it does not fit (a programming
    /// error: matrices come from ``Backend/makeMatrix(rows:cols:)``).
    public init(rows: Int, cols: Int, storage: any DeviceStorage) {
        precondition(rows >= 0 && cols >= 0 && rows * cols <= storage.capacity,
                     "matrix \(rows)×\(cols) does not fit its storage of \(storage.capacity)")
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    /// `rows · cols`.
    public var count: Int { rows * cols }
    /// `rows × cols` as a value, for comparisons and messages.
    public var shape: Shape { Shape(rows: rows, cols: cols) }

    /// The first `n` columns, sharing this matrix's storage.
    public func prefixColumns(_ n: Int) -> Matrix {
        precondition(n >= 0 && n <= cols, "prefixColumns(\(n)) of a matrix with \(cols) columns")
        return Matrix(rows: rows, cols: n, storage: storage)
    }

    /// The same storage seen with another shape of no more elements.
    public func reshaped(rows: Int, cols: Int) -> Matrix {
        Matrix(rows: rows, cols: cols, storage: storage)
    }
}

/// The shape `rows × cols` of a matrix.
public struct Shape: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Number of rows.
    public var rows: Int
    /// Number of columns.
    public var cols: Int
    /// A `rows × cols` shape.
    public init(rows: Int, cols: Int) { self.rows = rows; self.cols = cols }
    /// `rows×cols`, as error messages print it: `128×784`.
    public var description: String { "\(rows)×\(cols)" }
}

/// A vector of `Int32` indices in a backend's memory (a shuffled epoch order, for gathers).
public struct IndexBuffer {
    /// Number of indices.
    public let count: Int
    /// The backend memory holding them.
    public let storage: any DeviceStorage
    /// A view of `storage` as `count` indices (made by ``Backend/makeIndexBuffer(count:)``).
    public init(count: Int, storage: any DeviceStorage) {
        self.count = count
        self.storage = storage
    }
}
