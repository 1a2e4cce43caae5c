import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// A fresh temporary folder per test.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// IDX bytes: magic 00 00 08 rank, big-endian dimensions, data.
func idx(_ dims: [UInt32], _ data: [UInt8]) -> [UInt8] {
    [0, 0, 8, UInt8(dims.count)] + dims.flatMap { d in (0..<4).reversed().map { UInt8((d >> (8 * UInt32($0))) & 0xFF) } } + data
}

/// The thrown error's description, or nil.
func errorText(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
}

@Suite("Loaders: IDX and CSV")
struct LoaderTests {
    @Test("a small IDX image/label pair loads, plain and gzipped")
    func idxRoundTrip() throws {
        let dir = try temporaryDirectory()
        let pixels: [UInt8] = [0, 255, 128, 64, 1, 2, 3, 4]            // two 2×2 images
        try Data(idx([2, 2, 2], pixels)).write(to: dir.appendingPathComponent("train-images-idx3-ubyte"))
        try Data(idx([2], [3, 9])).write(to: dir.appendingPathComponent("train-labels-idx1-ubyte"))
        try Data(idx([2, 2, 2], pixels)).write(to: dir.appendingPathComponent("t10k-images-idx3-ubyte"))
        try Data(idx([2], [0, 1])).write(to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))
        let (train, test) = try MNIST.load(directory: dir.path)
        #expect(train.count == 2 && train.featureCount == 4 && train.classCount == 10)
        #expect(train.labels == [3, 9] && test.labels == [0, 1])
        #expect(train.inputs[1] == 1 && train.inputs[4] == Float(1) / 255)

        // gzip the labels with the system gzip: the reader must not care.
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gz.arguments = [dir.appendingPathComponent("train-labels-idx1-ubyte").path]
        try gz.run(); gz.waitUntilExit()
        #expect(try MNIST.load(directory: dir.path).train.labels == [3, 9])
    }

    @Test("the bundled MNIST has 60 000 + 10 000 labelled 28×28 images")
    func bundledMNIST() throws {
        let dir = try #require(DataSource.bundledMNIST())
        let labels = try IDXTensor.read(dir + "/t10k-labels-idx1-ubyte.gz")
        #expect(labels.dimensions == [10_000])
        let images = try IDXTensor.read(dir + "/train-images-idx3-ubyte.gz")
        #expect(images.dimensions == [60_000, 28, 28])
    }

    @Test("malformed IDX files are rejected with an error naming the problem",
          arguments: [
            (idx([2], [1, 2]).enumerated().map { $0.offset == 2 ? 0x09 : $0.element }, "unsupported element type 0x09"),
            ([0x1F, 0x8B, 8, 1, 0, 0, 0, 0], "wrong magic number"),
            ([0, 0, 8], "too short"),
            ([0, 0, 8, 3, 0, 0], "truncated header"),
            (idx([4], [1, 2]), "truncated: dimensions 4 need 4 bytes of data, found 2"),
            (idx([1], [1, 2]), "1 unexpected bytes"),
            (idx([0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], []), "need more bytes than the file"),
            // A zero count must not hide the overflow of the other dimensions.
            (idx([0, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], []), "need more bytes than the file"),
            ([0, 0, 8, 9], "rank 9"),
          ] as [([UInt8], String)])
    func malformedIDX(bytes: [UInt8], message: String) throws {
        let text = errorText { _ = try IDXTensor.parse(bytes, file: "bad.idx") }
        #expect(text?.contains("bad.idx") == true)
        #expect(text?.contains(message) == true, "got: \(text ?? "no error")")
    }

    @Test("images and labels of different counts are rejected")
    func countMismatch() {
        let text = errorText {
            _ = try MNIST.dataset(images: IDXTensor(dimensions: [2, 1, 1], bytes: [0, 1]), imagesFile: "img",
                                  labels: IDXTensor(dimensions: [3], bytes: [0, 1, 2]), labelsFile: "lbl")
        }
        #expect(text == "lbl: 3 labels for the 2 images of img")
        let empty = errorText {
            _ = try MNIST.dataset(images: IDXTensor(dimensions: [0, 28, 28], bytes: []), imagesFile: "img",
                                  labels: IDXTensor(dimensions: [0], bytes: []), labelsFile: "lbl")
        }
        #expect(empty == "img: no images (the first dimension is 0)")
    }

    @Test("a truncated .gz file is an error, not a crash")
    func truncatedGzip() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("labels").path
        try Data(idx([1000], [UInt8](repeating: 7, count: 1000))).write(to: URL(fileURLWithPath: path))
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gz.arguments = [path]
        try gz.run(); gz.waitUntilExit()
        let full = try Data(contentsOf: URL(fileURLWithPath: path + ".gz"))
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: path + ".gz"))
        let text = errorText { _ = try IDXTensor.read(path + ".gz") }
        #expect(text?.contains(path + ".gz") == true, "got: \(text ?? "no error")")
    }

    @Test("a .gz CSV cut short is an error, even where the cut leaves whole rows or only the trailer is missing")
    func truncatedGzipCSV() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("t.csv").path
        let rows = (0..<3000).map { "\($0 % 7),\($0 % 11),\($0 % 2)" }
        try ("a,b,label\n" + rows.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gz.arguments = ["-9", path]
        try gz.run(); gz.waitUntilExit()
        let full = try Data(contentsOf: URL(fileURLWithPath: path + ".gz"))
        #expect(try DataSource.loadTable(path + ".gz").train.count > 0)
        for cut in [full.count - 8, full.count / 2] {
            try full.prefix(cut).write(to: URL(fileURLWithPath: path + ".gz"))
            let text = errorText { _ = try DataSource.loadTable(path + ".gz") }
            #expect(text?.contains("truncated") == true, "cut at \(cut) of \(full.count): \(text ?? "no error")")
        }
    }

    @Test("a CSV with a label column loads; integer labels name their classes")
    func csv() throws {
        let loaded = try loadCSV("a,label,b\n1,0,2\n3.5,2,-4e1\n5,0,1\n6,2,0\n", testFraction: 0.5)
        #expect(loaded.featureNames == ["a", "b"])
        #expect(loaded.encoding?.classes == ["0", "2"])
        #expect(loaded.train.count == 2 && loaded.test.count == 2)
        let kind = try loadCSV("x,y,kind\r\n1,2,1\r\n3,4,0\r\n5,6,1\r\n7,8,0\r\n", labels: ["kind"], testFraction: 0.5)
        #expect(kind.encoding?.classes == ["0", "1"])
    }

    @Test("malformed CSV files are rejected with the file, line, column and problem",
          arguments: [
            ("", "t.csv: empty file"),
            ("a,label\n", "no data rows"),
            ("a,b\n1,2\n", "line 1: no label column \"label\""),
            ("a,label\n1,0\n2,1,5\n", "line 3: 3 fields, expected 2"),
            ("a,label\n1,0\nNA,1\n", "line 3, column 1 (\"a\"): missing value"),
            ("a,label\ninf,1\n", "line 2, column 1 (\"a\"): \"inf\" is not a finite number"),
            ("a,a,label\n1,2,0\n", "line 1: column \"a\" appears twice"),
            ("a,label\n1,\n2,1\n", "line 2, column 2 (\"label\"): missing value"),
            ("a,label\n\"1,0\n", "line 2, column 1: a quoted field is never closed"),
            ("a,label\n\"1\"x,0\n", "line 2, column 1: \"x\" after a closing quote"),
            ("a,label\n1,0\n2,0\n", "every label in column \"label\" is \"0\""),
          ])
    func malformedCSV(text: String, message: String) {
        let error = errorText { _ = try loadCSV(text) }
        #expect(error?.contains(message) == true, "got: \(error ?? "no error")")
    }

    @Test("standardization uses training statistics and the split is seeded")
    func splitAndStandardize() throws {
        let data = Synthetic.blobs(classes: 2, features: 3, perClass: 50, seed: 3)
        let (train, test) = try data.split(testFraction: 0.2, seed: 9)
        #expect(train.count == 80 && test.count == 20)
        #expect(try data.split(testFraction: 0.2, seed: 9).test == test)
        #expect(try data.split(testFraction: 0.2, seed: 10).test != test)
        var standardized = train
        Standardization(fitting: train).apply(to: &standardized)
        let again = Standardization(fitting: standardized)
        for i in 0..<3 {
            #expect(abs(again.mean[i]) < 1e-5)
            #expect(abs(again.std[i] - 1) < 1e-4)
        }
        #expect(errorText { _ = try data.split(testFraction: 1.5, seed: 1) }?.contains("--test-split") == true)
    }
}
