// Host conveniences over the checked operations: arrays in, arrays out.
extension Backend {
    /// Downloads a whole matrix into a new array.
    public func download(_ matrix: Matrix) throws -> [Float] {
        var values = [Float](repeating: 0, count: matrix.count)
        try values.withUnsafeMutableBufferPointer { try download(matrix, into: $0) }
        return values
    }

    /// Uploads an array into a new matrix of the given shape.
    public func makeMatrix(rows: Int, cols: Int, values: [Float]) throws -> Matrix {
        try require(values.count == rows * cols, "makeMatrix", "\(values.count) values for \(rows)×\(cols)")
        let m = try makeMatrix(rows: rows, cols: cols)
        try values.withUnsafeBufferPointer { try upload($0, to: m) }
        return m
    }

    /// Uploads an array of exactly `matrix.count` values.
    public func upload(_ values: [Float], to matrix: Matrix) throws {
        try require(values.count == matrix.count, "upload", "\(values.count) values for \(matrix.shape)")
        try values.withUnsafeBufferPointer { try upload($0, to: matrix) }
    }

    /// Reads a `1 × 1` matrix.
    public func scalar(_ matrix: Matrix) throws -> Float {
        var x: Float = 0
        try withUnsafeMutablePointer(to: &x) {
            try download(matrix.reshaped(rows: 1, cols: 1), into: UnsafeMutableBufferPointer(start: $0, count: 1))
        }
        return x
    }
}
