import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// A trained-looking model: random parameters for `architecture`, with every piece of metadata.
func sampleModel(_ architecture: Architecture, seed: UInt64 = 1) throws -> ModelFile {
    let network = try Network(backend: CPUBackend(), architecture: architecture, seed: seed)
    var data = TestData(seed: seed)
    let inputs = architecture.sizes[0], outputs = architecture.sizes[architecture.sizes.count - 1]
    let parameters = try network.parameters().map {
        LayerParameters(weight: $0.weight, bias: data.floats($0.bias.count, scale: 0.5))
    }
    return ModelFile(architecture: architecture, parameters: parameters,
                     standardization: Standardization(mean: data.floats(inputs), std: data.floats(inputs).map { abs($0) + 0.5 }),
                     classNames: (0..<outputs).map { "class \($0)" },
                     featureNames: (0..<inputs).map { "x\($0)" },
                     training: TrainingInfo(epochs: 3, seed: seed, optimizer: .adam, learningRate: 0.00075,
                                            train: Metrics(loss: 0.25, accuracy: 0.9),
                                            test: Metrics(loss: 0.5, accuracy: 0.8)))
}

/// Safetensors bytes from a header written by hand, for malformed-file cases.
func safetensorsBytes(_ header: String, data: [UInt8] = [UInt8](repeating: 0, count: 24),
                      length: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    return withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian) { Array($0) } + h + data
}

/// Metadata of a valid 2 → 2 softmax model, to which the tensors of a case are added.
let validMetadata = #""__metadata__":{"format":"backprop","format_version":"1","architecture":"{\"sizes\":[2,2],\"activations\":[\"softmax\"],\"loss\":\"cross-entropy\"}"}"#
let validTensors = #""layers.0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}"#

/// Malformed model files and a fragment of the error each must give. Shared with the CLI table.
let malformedModels: [(name: String, bytes: [UInt8], message: String)] = [
    ("too short", [1, 0, 0], "too short for a safetensors file"),
    ("bad header JSON", safetensorsBytes(#"{"layers.0.weight": {"dtype": "#), "header is not valid JSON"),
    ("header not an object", safetensorsBytes("[1, 2, 3]"), "does not start with '{'"),
    ("header length past the end", safetensorsBytes("{\(validMetadata),\(validTensors)}", length: 5000),
     "header length 5000 runs past the end of the file"),
    ("absurd header length", safetensorsBytes("{}", length: 0xFFFF_FFFF_FFFF), "is absurd"),
    ("offsets out of range", safetensorsBytes(#"{\#(validMetadata),"layers.0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[16,400]}}"#),
     "tensor \"layers.0.bias\": data_offsets [16, 400] out of range"),
    ("negative offsets", safetensorsBytes(#"{\#(validMetadata),"layers.0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[-8,8]},"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#),
     "data_offsets [-8, 8] out of range"),
    ("overlapping offsets", safetensorsBytes(#"{\#(validMetadata),"layers.0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#, data: [UInt8](repeating: 0, count: 16)),
     "overlap the previous tensor"),
    ("gap between tensors", safetensorsBytes(#"{\#(validMetadata),"layers.0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}"#, data: [UInt8](repeating: 0, count: 32)),
     "leaving bytes 16..<24 unused"),
    ("trailing data", safetensorsBytes("{\(validMetadata),\(validTensors)}", data: [UInt8](repeating: 0, count: 30)),
     "6 bytes of data after the last tensor"),
    ("offsets not a pair", safetensorsBytes(#"{"layers.0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0]}}"#),
     "tensor \"layers.0.weight\": field \"data_offsets\" is missing or not a pair"),
    ("shape not integers", safetensorsBytes(#"{"layers.0.weight":{"dtype":"F32","shape":[2.5],"data_offsets":[0,24]}}"#),
     "field \"shape\" is missing or not a list of integers"),
    ("unknown dtype", safetensorsBytes(#"{\#(validMetadata),"layers.0.weight":{"dtype":"F33","shape":[2,2],"data_offsets":[0,16]},"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#),
     "tensor \"layers.0.weight\": unknown dtype \"F33\""),
    ("dtype other than F32", safetensorsBytes(#"{\#(validMetadata),"layers.0.weight":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"layers.0.bias":{"dtype":"F64","shape":[2],"data_offsets":[8,24]}}"#),
     "has dtype F16: expected F32"),
    ("shape against the architecture", safetensorsBytes(#"{\#(validMetadata),"layers.0.weight":{"dtype":"F32","shape":[1,4],"data_offsets":[0,16]},"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#),
     "tensor \"layers.0.weight\" has shape [1, 4]: the architecture needs [2, 2]"),
    ("shape against the byte count", safetensorsBytes(#"{\#(validMetadata),"layers.0.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]},"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#),
     "hold 16 bytes but shape [3, 2] of F32 needs 24"),
    ("shape whose product overflows", safetensorsBytes(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,24]}}"#),
     "shape [4294967296, 4294967296] needs more bytes than the file's 24"),
    ("missing tensor", safetensorsBytes(#"{\#(validMetadata),"layers.0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#, data: [UInt8](repeating: 0, count: 16)),
     "tensor \"layers.0.bias\" is missing: expected shape [2] of F32"),
    ("extra tensor", safetensorsBytes(#"{\#(validMetadata),\#(validTensors),"layers.1.bias":{"dtype":"F32","shape":[0],"data_offsets":[24,24]}}"#),
     "tensor \"layers.1.bias\" is not part of the architecture"),
    ("metadata not strings", safetensorsBytes(#"{"__metadata__":{"format":1},\#(validTensors)}"#),
     "\"__metadata__\" must be an object mapping strings to strings"),
    ("not our format", safetensorsBytes("{\(validTensors)}"), "metadata \"format\" is missing: expected \"backprop\""),
    ("future version", safetensorsBytes(#"{"__metadata__":{"format":"backprop","format_version":"4"},\#(validTensors)}"#),
     "metadata \"format_version\" is 4: this build reads versions 1 to 3"),
    ("architecture not JSON", safetensorsBytes(#"{"__metadata__":{"format":"backprop","format_version":"1","architecture":"[2,2"},\#(validTensors)}"#),
     "metadata \"architecture\" is not valid: expected JSON {\"sizes\""),
    ("unknown activation", safetensorsBytes(#"{"__metadata__":{"format":"backprop","format_version":"1","architecture":"{\"sizes\":[2,2],\"activations\":[\"swish\"],\"loss\":\"cross-entropy\"}"},\#(validTensors)}"#),
     "metadata \"architecture\" is not valid"),
    ("inconsistent architecture", safetensorsBytes(#"{"__metadata__":{"format":"backprop","format_version":"1","architecture":"{\"sizes\":[2,2],\"activations\":[\"relu\"],\"loss\":\"cross-entropy\"}"},\#(validTensors)}"#),
     "metadata \"architecture\": invalid network: loss cross-entropy needs a softmax output"),
    ("standardization of the wrong size", safetensorsBytes(#"{"__metadata__":{"format":"backprop","format_version":"1","architecture":"{\"sizes\":[2,2],\"activations\":[\"softmax\"],\"loss\":\"cross-entropy\"}","standardization":"{\"mean\":[0],\"std\":[1]}"},\#(validTensors)}"#),
     "metadata \"standardization\": 1 means and 1 standard deviations, expected 2"),
    ("zero standard deviation", safetensorsBytes(#"{"__metadata__":{"format":"backprop","format_version":"1","architecture":"{\"sizes\":[2,2],\"activations\":[\"softmax\"],\"loss\":\"cross-entropy\"}","standardization":"{\"mean\":[0,0],\"std\":[1,0]}"},\#(validTensors)}"#),
     "positive finite standard deviations"),
    ("class names of the wrong count", safetensorsBytes(#"{"__metadata__":{"format":"backprop","format_version":"1","architecture":"{\"sizes\":[2,2],\"activations\":[\"softmax\"],\"loss\":\"cross-entropy\"}","class_names":"[\"a\"]"},\#(validTensors)}"#),
     "metadata \"class_names\": 1 names, expected 2"),
    ("NaN weight", safetensorsBytes("{\(validMetadata),\(validTensors)}", data: [0, 0, 0xC0, 0x7F] + [UInt8](repeating: 0, count: 20)),
     "tensor \"layers.0.weight\": element 0 is nan: expected finite numbers"),
]

@Suite("Model files")
struct ModelFileTests {
    @Test("a model survives save and load exactly, and the loaded network predicts the same",
          arguments: [(Activation.relu, Loss.softmaxCrossEntropy), (.tanh, .binaryCrossEntropy), (.sigmoid, .squaredError)])
    func roundTrip(hidden: Activation, loss: Loss) throws {
        let architecture = try Architecture(inputs: 5, hidden: [7, 3], outputs: 4, activation: hidden, loss: loss)
        let model = try sampleModel(architecture)
        let path = try temporaryDirectory().appendingPathComponent("model.safetensors").path
        try model.save(to: path)
        let loaded = try ModelFile.load(path)
        #expect(loaded == model)

        let backend = CPUBackend()
        let original = try Network(backend: backend, architecture: architecture)
        try original.setParameters(model.parameters)
        let x = TestData(seed: 4).floatsValue(5 * 6)
        #expect(try Network(backend: backend, model: loaded).predict(inputs: x, count: 6)
                == original.predict(inputs: x, count: 6))
    }

    @Test("weights are stored [out, in] row-major, as torch.nn.Linear holds them")
    func layout() throws {
        let architecture = try Architecture(sizes: [3, 2], activations: [.identity], loss: .squaredError)
        // Column-major 2×3: W = [[1, 2, 3], [4, 5, 6]].
        let model = ModelFile(architecture: architecture,
                              parameters: [LayerParameters(weight: [1, 4, 2, 5, 3, 6], bias: [7, 8])])
        let file = try Safetensors.parse(try model.serialized(), file: "m")
        #expect(file["layers.0.weight"]?.shape == [2, 3])
        #expect(file["layers.0.weight"]?.floats == [1, 2, 3, 4, 5, 6])
        #expect(file["layers.0.bias"]?.floats == [7, 8])
        #expect(file.metadata["format_version"] == "3")
        let bytes = try model.serialized()
        let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(headerLength % 8 == 0, "the data starts 8-byte aligned")
    }

    @Test("a safetensors container round-trips any dtype and its metadata")
    func container() throws {
        let file = Safetensors(tensors: [("a", .init(dtype: "U8", shape: [3], bytes: [1, 2, 3])),
                                         ("b", .init(shape: [1, 2], floats: [0.5, -2])),
                                         ("empty", .init(dtype: "F64", shape: [0, 4], bytes: []))],
                               metadata: ["k": "v \"quoted\" / ünïcode"])
        #expect(try Safetensors.parse(try file.serialized(), file: "f") == file)
    }

    @Test("malformed model files are rejected with the file, the tensor or field, and what was expected",
          arguments: malformedModels)
    func malformed(name: String, bytes: [UInt8], message: String) {
        let text = errorText { _ = try ModelFile.parse(bytes, file: "bad.safetensors") }
        #expect(text?.hasPrefix("bad.safetensors: ") == true, "\(name): got \(text ?? "no error")")
        #expect(text?.contains(message) == true, "\(name): got \(text ?? "no error")")
    }

    @Test("the valid file the malformed cases start from does load")
    func validBase() throws {
        let model = try ModelFile.parse(safetensorsBytes("{\(validMetadata),\(validTensors)}"), file: "ok")
        #expect(model.architecture.sizes == [2, 2])
    }

    @Test("a failure between write and rename keeps the previous model and leaves no temporary file")
    func interruptedSave() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("model.safetensors").path
        let architecture = try Architecture(inputs: 4, hidden: [5], outputs: 3)
        let first = try sampleModel(architecture, seed: 1), second = try sampleModel(architecture, seed: 2)
        try first.save(to: path)

        struct Interrupted: Error {}
        var sawTemporary = false
        #expect(throws: Interrupted.self) {
            try second.save(to: path) {
                // The new bytes are complete and synced in a temporary file beside the target.
                let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
                sawTemporary = files.contains { $0.hasPrefix(".model.safetensors.tmp-") }
                throw Interrupted()
            }
        }
        #expect(sawTemporary)
        #expect(try ModelFile.load(path) == first)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])

        try second.save(to: path)
        #expect(try ModelFile.load(path) == second)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])
    }

    @Test("a write through a symbolic link replaces the file it points to and keeps the link; a stream is written in place")
    func writesThroughLinksAndStreams() throws {
        let dir = try temporaryDirectory()
        let real = dir.appendingPathComponent("real.csv").path, link = dir.appendingPathComponent("link.csv").path
        try "old\n".write(toFile: real, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real.csv")
        try checkOutputPath(link)
        try writeFileAtomically(Array("new\n".utf8), to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "real.csv")
        #expect(try String(contentsOfFile: real, encoding: .utf8) == "new\n")
        #expect(sameFile(link, real) && sameFile(dir.path + "/./real.csv", real) && !sameFile(link, dir.path))

        // A chain of links is followed to its end; a loop is an error, not a file to replace.
        let chain = dir.appendingPathComponent("chain.csv").path
        try FileManager.default.createSymbolicLink(atPath: chain, withDestinationPath: "link.csv")
        try writeFileAtomically(Array("chained\n".utf8), to: chain)
        #expect(try String(contentsOfFile: real, encoding: .utf8) == "chained\n")
        let loop = dir.appendingPathComponent("loop").path
        try FileManager.default.createSymbolicLink(atPath: loop, withDestinationPath: "loop")
        #expect(errorText { try writeFileAtomically([1], to: loop) }?.contains("too many levels of symbolic links") == true)

        // A named pipe stays a pipe, and its reader gets the bytes.
        let pipe = dir.appendingPathComponent("pipe").path
        #expect(mkfifo(pipe, 0o600) == 0)
        let received = Received()
        let reader = Thread {
            received.set(FileHandle(forReadingAtPath: pipe).map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) })
        }
        reader.start()
        try writeFileAtomically(Array("through\n".utf8), to: pipe)
        let deadline = Date().addingTimeInterval(10)
        while received.get() == nil, Date() < deadline { usleep(1_000) }
        #expect(received.get() == "through\n")
        var info = stat()
        #expect(stat(pipe, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
        // Two names of one device are not one file to protect.
        #expect(!sameFile("/dev/null", "/dev/./null"))
        // A regular file under /dev (tmpfs) is replaced like any other: a shorter write leaves no tail.
        if FileManager.default.fileExists(atPath: "/dev/shm") {
            let shm = "/dev/shm/backprop-test-\(UUID().uuidString)"
            defer { unlink(shm) }
            try writeFileAtomically(Array("a longer first text\n".utf8), to: shm)
            try writeFileAtomically(Array("short\n".utf8), to: shm)
            #expect(try String(contentsOfFile: shm, encoding: .utf8) == "short\n")
        }
        // A device is written, not replaced, and its errors are reported.
        try writeFileAtomically(Array("x".utf8), to: "/dev/null")
        #expect(stat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
        if FileManager.default.fileExists(atPath: "/dev/full") {
            let full = errorText { try writeFileAtomically(Array("x".utf8), to: "/dev/full") }
            #expect(full?.contains("No space left") == true, "got \(full ?? "no error")")
        }
    }

    @Test("a model with non-finite parameters is never written")
    func refusesNaN() throws {
        let path = try temporaryDirectory().appendingPathComponent("m.safetensors").path
        var model = try sampleModel(try Architecture(inputs: 2, hidden: [2], outputs: 2))
        try model.save(to: path)
        model.parameters[1].bias[0] = .infinity
        #expect(model.firstNonFiniteParameter == "layers.1.bias")
        let text = errorText { try model.save(to: path) }
        #expect(text?.contains("tensor \"layers.1.bias\": element 0 is inf") == true, "got \(text ?? "no error")")
        #expect(try ModelFile.load(path).firstNonFiniteParameter == nil)
    }

    @Test("evaluation gives the trainer's metrics and a confusion matrix that adds up")
    func evaluation() throws {
        let data = Synthetic.blobs(classes: 3, features: 4, perClass: 20, seed: 2)
        let network = try Network(backend: CPUBackend(), architecture: try Architecture(inputs: 4, hidden: [8], outputs: 3))
        let result = try Evaluation(network: network, data: data, batchSize: 7)
        #expect(result.count == 60)
        let correct = (0..<3).reduce(0) { $0 + result.confusion[$1][$1] }
        #expect(abs(Double(correct) / 60 - result.metrics.accuracy) < 1e-12)
    }
}

extension TestData {
    /// `floats` on a copy, for use in expressions.
    func floatsValue(_ n: Int) -> [Float] { var copy = self; return copy.floats(n) }
}

/// A value one thread sets and another reads.
private final class Received: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?
    func set(_ v: String?) { lock.lock(); value = v ?? "(unreadable)"; lock.unlock() }
    func get() -> String? { lock.lock(); defer { lock.unlock() }; return value }
}
