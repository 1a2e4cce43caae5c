/// Every parameter tensor of a network — each layer's weight, then its bias — in one buffer of
/// the backend, each tensor a view at an aligned offset, when the backend makes views
/// (``Backend/viewAlignment``); else one buffer per tensor and no ``whole``.
///
/// A network keeps its parameters and its gradients in two of these with one layout, and the
/// optimizer its state in more: so one ``Backend/updateParameters(_:parameters:gradient:first:second:decayed:)``
/// call updates every layer, and a data-parallel group sums every gradient in one collective
/// (an allreduce, or the sharded step's reduce-scatter over aligned parts, ``shards(_:)``).
/// The padding between tensors is zero and stays zero: its gradient is never written.
public final class ParameterBuffer {
    /// The tensors' shapes, in order.
    public let shapes: [Shape]
    /// Where each tensor starts in ``whole``, in floats (multiples of the backend's alignment).
    public let offsets: [Int]
    /// Elements of ``whole``, padding included.
    public let count: Int
    /// All tensors as one `count × 1` matrix, or nil when the backend makes no views.
    public let whole: Matrix?
    /// The backend's view alignment in floats (0 without ``whole``).
    let alignment: Int
    /// Each tensor, sharing ``whole``'s memory when there is one.
    public let tensors: [Matrix]

    /// Zero-filled tensors of `shapes` on `backend`.
    public init(backend: any Backend, shapes: [Shape]) throws {
        self.shapes = shapes
        guard let align = backend.viewAlignment, align > 0 else {
            offsets = []
            count = shapes.reduce(0) { $0 + $1.rows * $1.cols }
            whole = nil
            alignment = 0
            tensors = try shapes.map { try backend.makeMatrix(rows: $0.rows, cols: $0.cols) }
            return
        }
        func roundUp(_ x: Int, _ m: Int) -> Int { (x + m - 1) / m * m }
        var offsets: [Int] = [], end = 0
        for s in shapes {
            offsets.append(end)
            end = roundUp(end + s.rows * s.cols, align)
        }
        // A whole number of 256-element groups too, so an elementwise launch over it is one launch.
        let group = align % 256 == 0 ? align : (256 % align == 0 ? 256 : align * 256)
        count = roundUp(max(end, 1), group)
        self.offsets = offsets
        alignment = align
        let whole = try backend.makeMatrix(rows: count, cols: 1)
        self.whole = whole
        tensors = try backend.views(of: whole, offsets: offsets, shapes: shapes)
    }

    /// Another buffer with the same layout (for gradients and optimizer state).
    public convenience init(backend: any Backend, like other: ParameterBuffer) throws {
        try self.init(backend: backend, shapes: other.shapes)
    }

    /// The element ranges of the tensors at `indices` with the padding that follows each one up
    /// to the next tensor: aligned at both ends. Empty without ``whole``.
    public func paddedRanges(_ indices: [Int]) -> [Range<Int>] {
        guard whole != nil else { return [] }
        return indices.map { k in offsets[k]..<(k + 1 < offsets.count ? offsets[k + 1] : count) }
    }

    /// ``whole`` cut into `parts` contiguous ranges in order, covering it once, each starting at
    /// a multiple of the alignment (so each can be a view) and as equal as that allows (the
    /// shards of a sharded optimizer step, one per process). Empty without ``whole``.
    public func shards(_ parts: Int) -> [Range<Int>] {
        guard whole != nil, parts > 0 else { return [] }
        let blocks = count / alignment   // count is a multiple of the alignment
        let bounds = (0...parts).map { min(count, (blocks * $0 / parts) * alignment) }
        return (0..<parts).map { bounds[$0]..<bounds[$0 + 1] }
    }

    /// `range` of ``whole`` (aligned at its start) as a `range.count × 1` view; nil without ``whole``.
    func slice(_ range: Range<Int>, on backend: any Backend) throws -> Matrix? {
        guard let whole else { return nil }
        return try backend.views(of: whole, offsets: [range.lowerBound], shapes: [Shape(rows: range.count, cols: 1)])[0]
    }
}

extension Backend {
    /// Views of `whole`'s storage as matrices of `shapes` at `offsets`.
    func views(of whole: Matrix, offsets: [Int], shapes: [Shape]) throws -> [Matrix] {
        guard let storage = whole.storage as? Storage, owns(storage) else { throw BackendError.foreignStorage(operation: "view") }
        return try zip(offsets, shapes).map { offset, shape in
            let count = shape.rows * shape.cols
            try require(offset >= 0 && offset + count <= whole.count, "view", "\(count) floats at \(offset) of \(whole.count)")
            return Matrix(rows: shape.rows, cols: shape.cols, storage: try view(of: storage, offset: offset, count: count))
        }
    }
}
