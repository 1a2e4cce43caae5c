import Foundation
import Testing
@testable import BackpropCore

/// A protobuf message read back as (field number, value) pairs: varints as integers,
/// length-delimited fields as bytes, 32-bit fields as their bit pattern. Independent of the writer.
private struct Fields {
    var varints: [Int: [UInt64]] = [:], bytes: [Int: [[UInt8]]] = [:], fixed32: [Int: [UInt32]] = [:]

    init(_ data: [UInt8]) throws {
        var k = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                try #require(k < data.count, "varint runs past the end")
                let b = data[k]; k += 1
                value |= UInt64(b & 0x7F) << shift; shift += 7
                if b < 0x80 { return value }
            }
        }
        while k < data.count {
            let key = try varint(), field = Int(key >> 3)
            switch key & 7 {
            case 0: varints[field, default: []].append(try varint())
            case 2:
                let n = Int(try varint())
                try #require(k + n <= data.count, "field \(field) runs past the end")
                bytes[field, default: []].append(Array(data[k..<(k + n)])); k += n
            case 5:
                try #require(k + 4 <= data.count)
                fixed32[field, default: []].append(data[k..<(k + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) }); k += 4
            default: Issue.record("unexpected wire type \(key & 7)"); return
            }
        }
    }
    func string(_ field: Int) -> String? { bytes[field]?.first.map { String(decoding: $0, as: UTF8.self) } }
    func strings(_ field: Int) -> [String] { (bytes[field] ?? []).map { String(decoding: $0, as: UTF8.self) } }
    /// The first embedded message in `field`.
    func message(_ field: Int) throws -> Fields {
        try Fields(try #require(bytes[field]?.first, "no field \(field)"))
    }
}

@Suite("ONNX export: the protobuf writer and the graph it writes")
struct ONNXExportTests {
    @Test("known encodings from the protobuf documentation")
    func encodings() {
        var w = ProtobufWriter()
        w.int(1, 150)
        #expect(w.bytes == [0x08, 0x96, 0x01])
        w = ProtobufWriter(); w.string(2, "testing")
        #expect(w.bytes == [0x12, 0x07] + Array("testing".utf8))
        w = ProtobufWriter(); w.int(1, -1)
        #expect(w.bytes == [0x08] + Array(repeating: 0xFF, count: 9) + [0x01])
        w = ProtobufWriter(); w.float(2, 1)
        #expect(w.bytes == [0x15, 0x00, 0x00, 0x80, 0x3F])
        w = ProtobufWriter(); w.message(3) { $0.int(1, 150) }
        #expect(w.bytes == [0x1A, 0x03, 0x08, 0x96, 0x01])
    }

    @Test("the graph: header, opset, nodes in order, initializers and their raw floats, input and output shapes",
          arguments: [(Loss.softmaxCrossEntropy, Task.classification), (.squaredError, .regression)])
    func structure(loss: Loss, task: Task) throws {
        let output: Activation = loss == .squaredError ? .identity : .softmax
        var model = try sampleModel(try Architecture(sizes: [3, 4, 2], activations: [.tanh, output], loss: loss), seed: 3)
        model.standardization = Standardization(mean: [1, 2, 3], std: [2, 4, 8])
        if task == .regression {
            model.table = TableEncoding(task: .regression, labels: ["y", "z"],
                                        columns: ["a", "b", "c"].map { .init(name: $0, categories: nil, fill: nil) },
                                        classes: nil, targets: Standardization(mean: [10, 20], std: [3, 5]), missing: .error)
        }
        let top = try Fields(try model.onnxSerialized(producerVersion: "9.9"))
        #expect(top.varints[1] == [8])                                           // ir_version
        #expect(top.string(2) == "backprop" && top.string(3) == "9.9")
        let opset = try top.message(8)
        #expect(opset.varints[2] == [13] && opset.string(1) == "")
        let graph = try top.message(7)
        let nodes = try (graph.bytes[1] ?? []).map(Fields.init)
        let ops = nodes.compactMap { $0.string(4) }
        let tail = task == .regression ? ["Mul", "Add"] : ["Softmax"]
        #expect(ops == ["Sub", "Div", "Gemm", "Tanh", "Gemm"] + tail)
        // A chain from "input" to "output".
        #expect(nodes.first?.strings(1).first == "input" && nodes.last?.string(2) == "output")
        for (a, b) in zip(nodes, nodes.dropFirst()) { #expect(b.strings(1).first == a.string(2)) }
        let gemm = try nodes[2].message(5)
        #expect(gemm.string(1) == "transB" && gemm.varints[3] == [1] && gemm.varints[20] == [2])

        let tensors = try (graph.bytes[5] ?? []).map(Fields.init)
        let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.string(8) ?? "", $0) })
        let weight = try #require(byName["layers.0.weight"])
        #expect(weight.varints[1] == [4, 3] && weight.varints[2] == [1])            // dims [out, in], FLOAT
        let raw = try #require(weight.bytes[9]?.first)
        let floats = stride(from: 0, to: raw.count, by: 4).map { Float(bitPattern: raw[$0..<($0 + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) }) }
        let w = model.parameters[0].weight                                          // column-major 4 × 3
        #expect(floats == (0..<4).flatMap { i in (0..<3).map { j in w[i + j * 4] } })
        #expect(byName["input_std"]?.varints[1] == [3])
        #expect((byName["target_mean"] != nil) == (task == .regression))

        for (field, name, width) in [(11, "input", 3), (12, "output", 2)] {
            let info = try graph.message(field)
            #expect(info.string(1) == name)
            let tensorType = try info.message(2).message(1)
            #expect(tensorType.varints[1] == [1])
            let dims = try (try tensorType.message(2).bytes[1] ?? []).map(Fields.init)
            #expect(dims.count == 2 && dims[0].string(2) == "N" && dims[1].varints[1] == [UInt64(width)])
        }
    }

    @Test("a model with a non-finite weight is refused and no file is written")
    func refusesNonFinite() throws {
        var model = try sampleModel(try Architecture(sizes: [2, 2], activations: [.sigmoid], loss: .binaryCrossEntropy), seed: 1)
        model.parameters[0].weight[1] = .nan
        let path = try temporaryDirectory().appendingPathComponent("m.onnx").path
        #expect(throws: ModelFileError.self) { try model.exportONNX(to: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
