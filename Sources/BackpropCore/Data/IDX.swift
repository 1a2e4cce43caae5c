import Foundation

/// The IDX format of the MNIST files: a 4-byte magic `00 00 type rank`, `rank` big-endian
/// UInt32 dimensions, then the data. We read unsigned-byte tensors (type 0x08), gzipped or not.
public struct IDXTensor: Sendable, Equatable {
    /// The sizes, outermost first (`[60000, 28, 28]` for MNIST's training images).
    public var dimensions: [Int]
    /// The elements in file order (row-major: the last dimension varies fastest).
    public var bytes: [UInt8]

    /// A tensor whose `bytes` hold the product of `dimensions` elements.
    public init(dimensions: [Int], bytes: [UInt8]) { self.dimensions = dimensions; self.bytes = bytes }

    /// Reads and parses the file at `path` (gzipped or not); throws ``DataError`` naming it.
    public static func read(_ path: String) throws -> IDXTensor {
        try parse(try readPossiblyCompressedFile(path), file: path)
    }

    /// Parses IDX bytes; every failure names `file` and what was expected.
    public static func parse(_ data: [UInt8], file: String) throws -> IDXTensor {
        func fail(_ detail: String) -> DataError { .malformed(file: file, detail: detail) }
        guard data.count >= 4 else {
            throw fail("too short for an IDX header (\(data.count) bytes, need at least 4)")
        }
        guard data[0] == 0, data[1] == 0 else {
            throw fail(String(format: "wrong magic number 0x%02X%02X%02X%02X: expected 0x0000 followed by type and rank (is this an IDX file?)",
                              data[0], data[1], data[2], data[3]))
        }
        guard data[2] == 0x08 else {
            throw fail(String(format: "unsupported element type 0x%02X: expected 0x08 (unsigned byte)", data[2]))
        }
        let rank = Int(data[3])
        guard rank >= 1, rank <= 4 else { throw fail("rank \(rank): expected 1 to 4 dimensions") }
        let header = 4 + 4 * rank
        guard data.count >= header else {
            throw fail("truncated header: \(data.count) bytes, the \(rank) dimensions need \(header)")
        }
        let dims = (0..<rank).map { d in
            let o = 4 + 4 * d
            return Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3])
        }
        // The product of the non-zero dimensions must fit the file too, so that no later
        // product of a subset of them (pixels per image) can overflow.
        var total = 1
        for v in dims where v > 0 {
            let (product, overflow) = total.multipliedReportingOverflow(by: v)
            guard !overflow, product <= data.count else {
                throw fail("dimensions \(dims.map(String.init).joined(separator: "×")) need more bytes than the file's \(data.count)")
            }
            total = product
        }
        if dims.contains(0) { total = 0 }
        let available = data.count - header
        guard available == total else {
            throw fail(available < total
                ? "truncated: dimensions \(dims.map(String.init).joined(separator: "×")) need \(total) bytes of data, found \(available)"
                : "\(available - total) unexpected bytes after the \(total) bytes of data")
        }
        var payload = data
        payload.removeSubrange(0..<header)     // in place when the caller hands over its buffer
        return IDXTensor(dimensions: dims, bytes: payload)
    }
}

/// Loader for the MNIST digits (28×28 grey images of handwritten 0–9: 60 000 to train, 10 000 to
/// test), or any folder of IDX files under the same four names.
public enum MNIST {
    /// The four standard file names, gzipped; plain names (without `.gz`) are accepted too.
    static let files = (trainImages: "train-images-idx3-ubyte", trainLabels: "train-labels-idx1-ubyte",
                        testImages: "t10k-images-idx3-ubyte", testLabels: "t10k-labels-idx1-ubyte")

    /// Loads the training and test splits from a folder of IDX files; pixels scaled to [0, 1].
    public static func load(directory: String) throws -> (train: Dataset, test: Dataset) {
        (try loadSplit(directory, files.trainImages, files.trainLabels),
         try loadSplit(directory, files.testImages, files.testLabels))
    }

    static func locate(_ directory: String, _ name: String) throws -> String {
        for candidate in [name + ".gz", name] {
            let path = (directory as NSString).appendingPathComponent(candidate)
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw DataError.unreadable(file: (directory as NSString).appendingPathComponent(name + ".gz"),
                                   reason: "no such file (an MNIST folder holds \(name)[.gz])")
    }

    static func loadSplit(_ directory: String, _ imagesName: String, _ labelsName: String) throws -> Dataset {
        let imagesPath = try locate(directory, imagesName), labelsPath = try locate(directory, labelsName)
        let images = try IDXTensor.read(imagesPath), labels = try IDXTensor.read(labelsPath)
        return try dataset(images: images, imagesFile: imagesPath, labels: labels, labelsFile: labelsPath)
    }

    /// Pairs an image tensor (`count × rows × cols`) with a label tensor (`count`).
    public static func dataset(images: IDXTensor, imagesFile: String,
                               labels: IDXTensor, labelsFile: String) throws -> Dataset {
        guard images.dimensions.count >= 2 else {
            throw DataError.malformed(file: imagesFile, detail: "expected images of rank 3 (count × rows × cols), found rank \(images.dimensions.count)")
        }
        guard labels.dimensions.count == 1 else {
            throw DataError.malformed(file: labelsFile, detail: "expected labels of rank 1, found rank \(labels.dimensions.count)")
        }
        let count = images.dimensions[0]
        guard labels.dimensions[0] == count else {
            throw DataError.malformed(file: labelsFile, detail: "\(labels.dimensions[0]) labels for the \(count) images of \(imagesFile)")
        }
        guard count > 0 else { throw DataError.malformed(file: imagesFile, detail: "no images (the first dimension is 0)") }
        var features = 1
        for d in images.dimensions.dropFirst() {
            let (product, overflow) = features.multipliedReportingOverflow(by: d)
            guard !overflow else { throw DataError.malformed(file: imagesFile, detail: "image dimensions overflow") }
            features = product
        }
        guard features > 0 else { throw DataError.malformed(file: imagesFile, detail: "images have no pixels") }
        let maxLabel = labels.bytes.max() ?? 0
        guard maxLabel < 10 else {
            throw DataError.malformed(file: labelsFile, detail: "label \(maxLabel) found: expected digits 0 to 9")
        }
        let scale: Float = 1 / 255
        return Dataset(featureCount: features, classCount: 10,
                       inputs: images.bytes.map { Float($0) * scale },
                       labels: labels.bytes.map { Int32($0) },
                       classNames: (0..<10).map(String.init))
    }
}
