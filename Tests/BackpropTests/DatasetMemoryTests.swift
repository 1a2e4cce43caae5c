import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU

/// The dataset is held once: IDX files decode chunk by chunk straight into the final floats,
/// the CPU backend keeps a handed-over array's buffer, and the validation split is a view of
/// the training upload, not a copy.
@Suite("Dataset memory")
struct DatasetMemoryTests {
    /// Decodes `bytes` through an ``IDXDecoder`` in chunks of `size` bytes.
    func decodeChunked(_ bytes: [UInt8], size: Int) throws -> (dimensions: [Int], values: [Float]) {
        var decoder = IDXDecoder(file: "chunked.idx", table: (0...255).map { Float($0) * 0.5 })
        try bytes.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                let end = min(start + size, all.count)
                try decoder.consume(UnsafeBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
        return try decoder.finish()
    }

    @Test("an IDX tensor decodes the same whatever the chunk boundaries, header split included",
          arguments: [1, 2, 3, 5, 7, 16, 1 << 20])
    func chunkedDecode(size: Int) throws {
        let data: [UInt8] = (0..<60).map { (i: Int) -> UInt8 in UInt8((i * 37 + 11) % 256) }
        let file = idx([3, 4, 5], data)
        let whole = try IDXTensor.parse(file, file: "whole.idx")
        let chunked = try decodeChunked(file, size: size)
        #expect(chunked.dimensions == [3, 4, 5])
        #expect(chunked.values == whole.bytes.map { Float($0) * 0.5 })
    }

    @Test("chunked decoding reports the same errors as a whole buffer", arguments: [1, 3, 1 << 20])
    func chunkedErrors(size: Int) {
        for (bytes, message) in [(idx([4], [1, 2]), "truncated: dimensions 4 need 4 bytes of data, found 2"),
                                 (idx([1], [1, 2]), "1 unexpected bytes"),
                                 ([0, 0, 8, 3, 0, 0], "truncated header"),
                                 ([0, 0, 7, 1, 0, 0, 0, 0], "unsupported element type 0x07"),
                                 ([0, 0], "too short")] as [([UInt8], String)] {
            let text = errorText { _ = try decodeChunked(bytes, size: size) }
            #expect(text?.contains("chunked.idx") == true && text?.contains(message) == true,
                    "chunks of \(size): got \(text ?? "no error"), expected \(message)")
        }
    }

    @Test("a gzipped IDX file reads straight into the floats the byte reader gives, scaled")
    func floatsFromGzip() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("images").path
        let pixels: [UInt8] = (0..<(50 * 28 * 28)).map { (i: Int) -> UInt8 in UInt8((i * 13) % 256) }
        try Data(idx([50, 28, 28], pixels)).write(to: URL(fileURLWithPath: path))
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gz.arguments = ["-k", path]
        try gz.run(); gz.waitUntilExit()
        for file in [path, path + ".gz"] {
            let (dimensions, values) = try IDXTensor.readFloats(file, scale: 1 / 255)
            #expect(dimensions == [50, 28, 28])
            let scale: Float = 1 / 255
            #expect(values == pixels.map { Float($0) * scale })
        }
    }

    /// The address of an array's buffer, to compare with storage that should be that buffer.
    func address(_ values: [Float]) -> UInt {
        values.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    }

    func hostAddress(_ matrix: Matrix) -> UInt? {
        (matrix.storage as? CPUStorage).map { UInt(bitPattern: $0.hostFloats) }
    }

    @Test("the CPU backend keeps a handed-over dataset's buffer: no second copy of the samples")
    func uploadAdoptsBuffer() throws {
        var data = Synthetic.spirals(classes: 3, perClass: 50, noise: 0.1, seed: 2)
        let original = data.inputs.map { $0 }   // a copy of its own, to compare with
        let buffer = address(data.inputs)
        let backend = CPUBackend()
        var shared = data   // a second reference: the upload must copy, leaving `data` intact
        let copied = try DeviceDataset(taking: &shared, on: backend)
        #expect(hostAddress(copied.inputs) != buffer)
        #expect(try backend.download(copied.inputs) == original)
        #expect(data.inputs == original)
        shared = data
        data.inputs = []
        let taken = try DeviceDataset(taking: &shared, on: backend)
        #expect(shared.inputs.isEmpty && shared.count == 150, "the labels stay, the samples go")
        #expect(hostAddress(taken.inputs) == buffer, "the device holds the array's own buffer")
        #expect(try backend.download(taken.inputs) == original)
    }

    @Test("the validation split moved to the end and seen as views equals holdOut's copies")
    func validationViews() throws {
        let data = Synthetic.spirals(classes: 3, perClass: 40, noise: 0.1, seed: 4)
        let record = ValidationRecord(fraction: 0.25, seed: 9)
        let (train, validation, done) = try data.holdOut(record, stratified: true)
        var moved = data
        let movedRecord = try moved.moveHeldOutToEnd(record, stratified: true)
        #expect(movedRecord == done)
        let cut = train.count
        #expect(Array(moved.inputs[..<(cut * data.featureCount)]) == train.inputs)
        #expect(Array(moved.inputs[(cut * data.featureCount)...]) == validation.inputs)
        #expect(Array(moved.labels[..<cut]) == train.labels && Array(moved.labels[cut...]) == validation.labels)

        let backend = CPUBackend()
        let all = try DeviceDataset(taking: &moved, on: backend)
        let trainView = try all.columns(0..<cut, on: backend)
        let validationView = try all.columns(cut..<all.count, on: backend)
        #expect(trainView.inputs.storage === all.inputs.storage && validationView.inputs.storage === all.inputs.storage)
        #expect(trainView.count == train.count && validationView.count == validation.count)
        #expect(errorText { _ = try all.columns(0..<(all.count + 1), on: backend) } != nil)

        // Training on the view and evaluating the other view gives what the copies give.
        func run(_ trainSet: DeviceDataset, _ heldSet: DeviceDataset) throws -> ([LayerParameters], Metrics) {
            let architecture = try Architecture(inputs: 2, hidden: [16], outputs: 3, activation: .relu)
            let network = try Network(backend: backend, architecture: architecture, seed: 3)
            let trainer = try Trainer(network: network,
                                      optimizer: try Optimizer(OptimizerConfiguration(kind: .adam, learningRate: 0.01), for: network),
                                      batchSize: 16, seed: 5)
            try trainer.fit(train: trainSet, test: nil, epochs: 2)
            return (try network.parameters(), try trainer.evaluate(heldSet))
        }
        let trainCopy = try DeviceDataset(train, on: backend), validationCopy = try DeviceDataset(validation, on: backend)
        let viaViews = try run(trainView, validationView), viaCopies = try run(trainCopy, validationCopy)
        #expect(viaViews.0 == viaCopies.0)
        #expect(viaViews.1 == viaCopies.1)
        // The view that does not start at column 0, trained on.
        let swappedViews = try run(validationView, trainView), swappedCopies = try run(validationCopy, trainCopy)
        #expect(swappedViews.0 == swappedCopies.0)
        #expect(swappedViews.1 == swappedCopies.1)
    }

    @Test("evaluating takes the samples over and scores as evaluating a copy does")
    func evaluationTakes() throws {
        let data = Synthetic.spirals(classes: 3, perClass: 30, noise: 0.1, seed: 6)
        let backend = CPUBackend()
        let network = try Network(backend: backend,
                                  architecture: try Architecture(inputs: 2, hidden: [8], outputs: 3, activation: .relu),
                                  seed: 1)
        let copied = try Evaluation(network: network, data: data)
        var taken = data
        let result = try Evaluation(network: network, taking: &taken)
        #expect(result == copied)
        #expect(taken.inputs.isEmpty && taken.labels == data.labels)
    }
}
