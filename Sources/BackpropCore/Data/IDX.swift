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

    /// Reads and parses the file at `path` (gzipped or not), one chunk at a time; throws
    /// ``DataError`` naming it.
    public static func read(_ path: String) throws -> IDXTensor {
        let (dimensions, bytes) = try decode(path, table: (0...255).map { UInt8($0) })
        return IDXTensor(dimensions: dimensions, bytes: bytes)
    }

    /// Parses IDX bytes; every failure names `file` and what was expected.
    public static func parse(_ data: [UInt8], file: String) throws -> IDXTensor {
        var decoder = IDXDecoder(file: file, table: (0...255).map { UInt8($0) }, exactSize: data.count)
        try data.withUnsafeBufferPointer { try decoder.consume($0) }
        let (dimensions, bytes) = try decoder.finish()
        return IDXTensor(dimensions: dimensions, bytes: bytes)
    }

    /// Reads the file at `path` (gzipped or not) straight into floats `Float(byte) · scale`, one
    /// chunk at a time: neither the file nor its bytes are ever held whole, only the result.
    public static func readFloats(_ path: String, scale: Float) throws -> (dimensions: [Int], values: [Float]) {
        try decode(path, table: (0...255).map { Float($0) * scale })
    }

    /// Streams the file at `path` through an ``IDXDecoder`` converting bytes by `table`.
    static func decode<Element>(_ path: String, table: [Element]) throws -> (dimensions: [Int], values: [Element]) {
        let (size, exact) = sizeHint(path)
        var decoder = IDXDecoder(file: path, table: table, exactSize: exact ? size : nil, sizeHint: size)
        try forEachChunk(of: path) { try decoder.consume($0) }
        return try decoder.finish()
    }

    /// The decoded size of the file at `path` as far as it can be known before reading it: a
    /// plain file's size (exact), or a gzip file's trailer ISIZE (the size modulo 2³², of its
    /// last member only: a hint, trusted only up to deflate's largest ratio). Nil when unknown.
    static func sizeHint(_ path: String) -> (size: Int?, exact: Bool) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return (nil, false) }
        defer { try? handle.close() }
        guard let end = try? handle.seekToEnd(), end >= 2 else { return (nil, false) }
        try? handle.seek(toOffset: 0)
        let magic = (try? handle.read(upToCount: 2)).map { [UInt8]($0) } ?? []
        guard magic == [0x1f, 0x8b] else { return (Int(end), true) }
        guard end >= 18, (try? handle.seek(toOffset: end - 4)) != nil,
              let trailer = try? handle.read(upToCount: 4), trailer.count == 4 else { return (nil, false) }
        let isize = trailer.reversed().reduce(0) { $0 << 8 | Int($1) }
        return (isize <= 1032 * Int(end) ? isize : nil, false)
    }
}

/// Decodes an IDX unsigned-byte tensor from chunks of any size, converting each byte through
/// `table` (256 entries) as it arrives, so that the file is never held whole: the result is
/// the only large allocation. The checks and messages are the same however the bytes are cut.
struct IDXDecoder<Element> {
    let file: String
    /// `table[b]` is the element for byte `b`.
    let table: [Element]
    /// The total number of bytes when known exactly (a buffer, a plain file): the header's
    /// dimensions are checked against it before anything is allocated.
    let exactSize: Int?
    /// The expected total bytes, when guessed (a gzip trailer): sizes the first allocation.
    let sizeHint: Int?
    /// The header bytes gathered so far, until the dimensions are known.
    private var header = [UInt8]()
    private var dimensions: [Int]?
    /// Elements the dimensions call for.
    private var total = 0
    private var values = [Element]()
    /// Elements decoded into `values`.
    private var filled = 0
    /// Bytes seen in all, and those past the `total` elements.
    private var seen = 0, extra = 0
    /// The largest decoded file accepted (as ``readPossiblyCompressedFile(_:limit:)``).
    private let limit = 1 << 31

    init(file: String, table: [Element], exactSize: Int? = nil, sizeHint: Int? = nil) {
        precondition(table.count == 256, "an IDX byte table has 256 entries")
        self.file = file; self.table = table; self.exactSize = exactSize; self.sizeHint = sizeHint ?? exactSize
    }

    private func fail(_ detail: String) -> DataError { .malformed(file: file, detail: detail) }

    /// Takes the next bytes of the file.
    mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>) throws {
        seen += chunk.count
        guard seen <= limit else { throw fail("larger than \(limit) bytes") }
        var rest = chunk[...]
        while dimensions == nil, !rest.isEmpty {
            // 4 bytes of magic, then as many dimensions as the magic's rank says.
            let want = header.count < 4 ? 4 : 4 + 4 * Int(header[3])
            let take = min(want - header.count, rest.count)
            header += rest.prefix(take)
            rest = rest.dropFirst(take)
            if header.count == 4 { try checkMagic() }
            if header.count >= 4, header.count == 4 + 4 * Int(header[3]) { try start() }
        }
        if dimensions != nil, !rest.isEmpty { try store(UnsafeBufferPointer(rebasing: rest)) }
    }

    private func checkMagic() throws {
        guard header[0] == 0, header[1] == 0 else {
            throw fail(String(format: "wrong magic number 0x%02X%02X%02X%02X: expected 0x0000 followed by type and rank (is this an IDX file?)",
                              header[0], header[1], header[2], header[3]))
        }
        guard header[2] == 0x08 else {
            throw fail(String(format: "unsupported element type 0x%02X: expected 0x08 (unsigned byte)", header[2]))
        }
        let rank = Int(header[3])
        guard rank >= 1, rank <= 4 else { throw fail("rank \(rank): expected 1 to 4 dimensions") }
    }

    /// The header is complete: reads the dimensions and allocates for the elements.
    private mutating func start() throws {
        let rank = Int(header[3])
        let dims = (0..<rank).map { d in
            let o = 4 + 4 * d
            return Int(header[o]) << 24 | Int(header[o + 1]) << 16 | Int(header[o + 2]) << 8 | Int(header[o + 3])
        }
        // The product of the non-zero dimensions must fit the file too, so that no later
        // product of a subset of them (pixels per image) can overflow.
        var product = 1
        for v in dims where v > 0 {
            let (p, overflow) = product.multipliedReportingOverflow(by: v)
            guard !overflow, p <= exactSize ?? limit else {
                throw fail("dimensions \(dims.map(String.init).joined(separator: "×")) need more bytes than the file"
                           + (exactSize.map { "'s \($0)" } ?? " may hold (\(limit))"))
            }
            product = p
        }
        dimensions = dims
        total = dims.contains(0) ? 0 : product
        // Allocate once for what the file is expected to hold; grow only if the guess was short.
        let expected = sizeHint.map { max($0 - header.count, 0) } ?? (1 << 20)
        values = [Element](repeating: table[0], count: min(total, expected))
    }

    /// Converts data bytes into `values`, growing it only when the size guess fell short.
    private mutating func store(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        let n = min(bytes.count, total - filled)
        extra += bytes.count - n
        guard n > 0 else { return }
        if filled + n > values.count {
            let grown = min(total, max(filled + n, 2 * values.count))
            values.append(contentsOf: repeatElement(table[0], count: grown - values.count))
        }
        let start = filled
        table.withUnsafeBufferPointer { t in
            values.withUnsafeMutableBufferPointer { out in
                for i in 0..<n { out[start + i] = t[Int(bytes[i])] }
            }
        }
        filled += n
    }

    /// The dimensions and elements, once every byte was consumed; throws when the file was
    /// too short for its header or its dimensions, or longer than they say.
    mutating func finish() throws -> (dimensions: [Int], values: [Element]) {
        guard let dims = dimensions else {
            guard header.count >= 4 else {
                throw fail("too short for an IDX header (\(seen) bytes, need at least 4)")
            }
            let rank = Int(header[3])
            throw fail("truncated header: \(seen) bytes, the \(rank) dimensions need \(4 + 4 * rank)")
        }
        let shape = dims.map(String.init).joined(separator: "×")
        guard filled == total else {
            throw fail("truncated: dimensions \(shape) need \(total) bytes of data, found \(filled)")
        }
        guard extra == 0 else { throw fail("\(extra) unexpected bytes after the \(total) bytes of data") }
        let result = values
        values = []
        return (dims, result)
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
        // The pixels go straight from the file into the floats the dataset keeps.
        let (dimensions, pixels) = try IDXTensor.readFloats(imagesPath, scale: 1 / 255)
        let labels = try IDXTensor.read(labelsPath)
        return try dataset(imageDimensions: dimensions, pixels: pixels, imagesFile: imagesPath,
                           labels: labels, labelsFile: labelsPath)
    }

    /// Pairs an image tensor (`count × rows × cols`) with a label tensor (`count`).
    public static func dataset(images: IDXTensor, imagesFile: String,
                               labels: IDXTensor, labelsFile: String) throws -> Dataset {
        let scale: Float = 1 / 255
        return try dataset(imageDimensions: images.dimensions, pixels: images.bytes.map { Float($0) * scale },
                           imagesFile: imagesFile, labels: labels, labelsFile: labelsFile)
    }

    /// Pairs images already scaled to floats (`count × rows × cols`, as `pixels`) with a label
    /// tensor (`count`); `pixels` becomes the dataset's inputs without a copy.
    static func dataset(imageDimensions: [Int], pixels: [Float], imagesFile: String,
                        labels: IDXTensor, labelsFile: String) throws -> Dataset {
        guard imageDimensions.count >= 2 else {
            throw DataError.malformed(file: imagesFile, detail: "expected images of rank 3 (count × rows × cols), found rank \(imageDimensions.count)")
        }
        guard labels.dimensions.count == 1 else {
            throw DataError.malformed(file: labelsFile, detail: "expected labels of rank 1, found rank \(labels.dimensions.count)")
        }
        let count = imageDimensions[0]
        guard labels.dimensions[0] == count else {
            throw DataError.malformed(file: labelsFile, detail: "\(labels.dimensions[0]) labels for the \(count) images of \(imagesFile)")
        }
        guard count > 0 else { throw DataError.malformed(file: imagesFile, detail: "no images (the first dimension is 0)") }
        var features = 1
        for d in imageDimensions.dropFirst() {
            let (product, overflow) = features.multipliedReportingOverflow(by: d)
            guard !overflow else { throw DataError.malformed(file: imagesFile, detail: "image dimensions overflow") }
            features = product
        }
        guard features > 0 else { throw DataError.malformed(file: imagesFile, detail: "images have no pixels") }
        let maxLabel = labels.bytes.max() ?? 0
        guard maxLabel < 10 else {
            throw DataError.malformed(file: labelsFile, detail: "label \(maxLabel) found: expected digits 0 to 9")
        }
        return Dataset(featureCount: features, classCount: 10, inputs: pixels,
                       labels: labels.bytes.map { Int32($0) },
                       classNames: (0..<10).map(String.init))
    }
}
