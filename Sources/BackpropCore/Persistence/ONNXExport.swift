import Foundation

/// The few protobuf encodings an ONNX file needs, written by hand rather than through a
/// generated library: varints, 32-bit floats and length-delimited fields (strings, bytes and
/// nested messages). Fields are appended in the order the caller writes them.
struct ProtobufWriter {
    /// The encoded message so far.
    private(set) var bytes: [UInt8] = []

    /// Base-128 little-endian groups, high bit set on every byte but the last.
    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    /// The key of field `number`: `number << 3 | wireType` (0 varint, 2 length-delimited, 5 32-bit).
    mutating func key(_ number: Int, wireType: UInt8) {
        varint(UInt64(number) << 3 | UInt64(wireType))
    }

    /// An `int64`/`int32`/enum field; a negative value takes ten bytes (two's complement), as protobuf wants.
    mutating func int(_ number: Int, _ value: Int64) {
        key(number, wireType: 0)
        varint(UInt64(bitPattern: value))
    }

    /// A `float` field: four bytes, little-endian.
    mutating func float(_ number: Int, _ value: Float) {
        key(number, wireType: 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }

    /// A `bytes` field: its length, then the bytes.
    mutating func data(_ number: Int, _ value: [UInt8]) {
        key(number, wireType: 2)
        varint(UInt64(value.count))
        bytes += value
    }

    /// A `string` field, in UTF-8.
    mutating func string(_ number: Int, _ value: String) { data(number, Array(value.utf8)) }

    /// An embedded message, encoded by `build` and written as a length-delimited field.
    mutating func message(_ number: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        data(number, inner.bytes)
    }
}

/// An ONNX graph of a ``ModelFile``: the network's forward pass from raw (unstandardized,
/// already encoded) inputs to the outputs `predict` prints. Field numbers are those of
/// `onnx.proto` (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto).
enum ONNXGraph {
    /// The `ir_version` written (ONNX 1.10 and later read it).
    static let irVersion: Int64 = 8
    /// The default-domain operator set the graph uses.
    static let opsetVersion: Int64 = 13

    /// One operator: its type, inputs, output and integer attributes.
    struct Node {
        var op: String
        var inputs: [String]
        var output = ""
        var intAttributes: [(String, Int64)] = []
    }

    /// A tensor stored in the graph (`raw_data`, little-endian): float32, or float64 for centers.
    struct Initializer {
        var name: String
        var shape: [Int]
        var values: [Float]
        var doubles: [Double]? = nil
    }

    /// ONNX's `TensorProto.DataType` of float32 and float64.
    static let float32: Int64 = 1, float64: Int64 = 11

    /// Whether the graph's input (and, for regression, its output) is float64: when float32
    /// cannot carry a column's detail next to its center (its spacing at the center more than a
    /// thousandth of the column's deviation: a Unix time with milliseconds, cents on millions),
    /// the center is taken off (added back) in float64 as training did, and the rest is float32.
    static func precision(_ model: ModelFile) -> (input: Bool, output: Bool) {
        func needs64(_ centers: [Double], _ std: [Float]) -> Bool {
            zip(centers, std).contains { c, s in Double(Float(abs(c)).ulp) > 1e-3 * Double(s) }
        }
        let input = model.standardization.map { needs64(model.table?.inputCenters ?? [], $0.std) } ?? false
        let output = model.task == .regression && (model.table?.targets.map { needs64(model.table?.targetCenters ?? [], $0.std) } ?? false)
        return (input, output)
    }

    /// The nodes and initializers of `model`, in order: Sub/Div for the input standardization,
    /// per layer Gemm (weights `[out, in]`, `transB = 1`) and its activation, then Mul/Add
    /// taking standardized regression targets back to the data's units.
    static func build(_ model: ModelFile) -> (nodes: [Node], initializers: [Initializer]) {
        var nodes = [Node](), initializers = [Initializer]()
        let sizes = model.architecture.sizes
        func constant(_ name: String, _ shape: [Int], _ values: [Float]) -> String {
            initializers.append(Initializer(name: name, shape: shape, values: values))
            return name
        }
        func constant64(_ name: String, _ shape: [Int], _ values: [Double]) -> String {
            initializers.append(Initializer(name: name, shape: shape, values: [], doubles: values))
            return name
        }
        let wide = precision(model)
        if let s = model.standardization {
            // The graph takes the features as they are: the table's centers come off first, in
            // float64 when float32 would lose the columns' detail, else joined to the means.
            let centers = model.table?.inputCenters ?? []
            var mean = s.mean
            if wide.input {
                nodes.append(Node(op: "Sub", inputs: ["", constant64("input_center", [sizes[0]], centers)]))
                nodes.append(Node(op: "Cast", inputs: [""], intAttributes: [("to", float32)]))
            } else {
                mean = s.mean.indices.map { i in Float(Double(s.mean[i]) + (i < centers.count ? centers[i] : 0)) }
            }
            nodes.append(Node(op: "Sub", inputs: ["", constant("input_mean", [sizes[0]], mean)]))
            nodes.append(Node(op: "Div", inputs: ["", constant("input_std", [sizes[0]], s.std)]))
        }
        for (l, p) in model.parameters.enumerated() {
            let out = sizes[l + 1], inputs = sizes[l]
            var rowMajor = [Float](repeating: 0, count: out * inputs)
            for i in 0..<out { for j in 0..<inputs { rowMajor[i * inputs + j] = p.weight[i + j * out] } }
            nodes.append(Node(op: "Gemm", inputs: ["", constant("layers.\(l).weight", [out, inputs], rowMajor),
                                                   constant("layers.\(l).bias", [out], p.bias)],
                              intAttributes: [("transB", 1)]))
            switch model.architecture.activations[l] {
            case .identity: break
            case .relu: nodes.append(Node(op: "Relu", inputs: [""]))
            case .sigmoid: nodes.append(Node(op: "Sigmoid", inputs: [""]))
            case .tanh: nodes.append(Node(op: "Tanh", inputs: [""]))
            case .softmax: nodes.append(Node(op: "Softmax", inputs: [""], intAttributes: [("axis", 1)]))
            }
        }
        if model.task == .regression, let t = model.table?.targets {
            let outputs = sizes[sizes.count - 1]
            nodes.append(Node(op: "Mul", inputs: ["", constant("target_std", [outputs], t.std)]))
            let centers = model.table?.targetCenters ?? []
            if wide.output {
                nodes.append(Node(op: "Add", inputs: ["", constant("target_mean", [outputs], t.mean)]))
                nodes.append(Node(op: "Cast", inputs: [""], intAttributes: [("to", float64)]))
                nodes.append(Node(op: "Add", inputs: ["", constant64("target_center", [outputs], centers)]))
            } else {
                let mean = t.mean.indices.map { j in Float(Double(t.mean[j]) + (j < centers.count ? centers[j] : 0)) }
                nodes.append(Node(op: "Add", inputs: ["", constant("target_mean", [outputs], mean)]))
            }
        }
        // Chain the nodes: an empty first input is the previous node's output.
        var previous = "input"
        for k in nodes.indices {
            nodes[k].inputs[0] = previous
            nodes[k].output = k == nodes.count - 1 ? "output" : "\(nodes[k].op.lowercased())_\(k)"
            previous = nodes[k].output
        }
        return (nodes, initializers)
    }

    /// The serialized `ModelProto`.
    static func serialize(_ model: ModelFile, producerVersion: String) -> [UInt8] {
        let (nodes, initializers) = build(model)
        let sizes = model.architecture.sizes
        var w = ProtobufWriter()
        w.int(1, irVersion)                                       // ModelProto.ir_version
        w.string(2, "backprop")                                   // producer_name
        w.string(3, producerVersion)                              // producer_version
        w.message(7) { graph in                                   // graph
            for (k, node) in nodes.enumerated() {
                graph.message(1) { n in                           // GraphProto.node
                    for input in node.inputs { n.string(1, input) }
                    n.string(2, node.output)
                    n.string(3, "\(node.op.lowercased())_\(k)")
                    n.string(4, node.op)
                    for (name, value) in node.intAttributes {
                        n.message(5) { a in a.string(1, name); a.int(3, value); a.int(20, 2) }  // AttributeProto: name, i, type INT
                    }
                }
            }
            graph.string(2, "backprop")                           // GraphProto.name
            for tensor in initializers {
                graph.message(5) { t in                           // GraphProto.initializer: TensorProto
                    for d in tensor.shape { t.int(1, Int64(d)) }  // dims
                    t.int(2, tensor.doubles == nil ? float32 : float64)  // data_type
                    t.string(8, tensor.name)
                    if let doubles = tensor.doubles {
                        t.data(9, doubles.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
                    } else {
                        t.data(9, tensor.values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
                    }
                }
            }
            let wide = precision(model)
            graph.message(11) { valueInfo(&$0, "input", width: sizes[0], type: wide.input ? float64 : float32) }
            graph.message(12) { valueInfo(&$0, "output", width: sizes[sizes.count - 1], type: wide.output ? float64 : float32) }
        }
        w.message(8) { opset in opset.string(1, ""); opset.int(2, opsetVersion) }  // opset_import
        return w.bytes
    }

    /// A `ValueInfoProto` of a float tensor `[N, width]`, `N` symbolic (any batch size).
    private static func valueInfo(_ w: inout ProtobufWriter, _ name: String, width: Int, type elementType: Int64) {
        w.string(1, name)
        w.message(2) { type in                                    // TypeProto
            type.message(1) { tensor in                           // TypeProto.tensor_type
                tensor.int(1, elementType)                        // elem_type
                tensor.message(2) { shape in                      // TensorShapeProto
                    shape.message(1) { $0.string(2, "N") }        // dim_param
                    shape.message(1) { $0.int(1, Int64(width)) }  // dim_value
                }
            }
        }
    }
}

extension ModelFile {
    /// This model as an ONNX file (`ir_version` 8, opset 13) that `onnxruntime` runs: input
    /// `input` of shape `[N, features]`, the encoded but unstandardized features (one-hot
    /// columns already expanded, as `predict` encodes a CSV row); output `output` of shape
    /// `[N, outputs]`, the probabilities or, for regression, the values in the targets' units.
    /// Both float32, unless float32 cannot carry a column's detail beside its value (see
    /// `ONNXGraph.precision`): then that end is float64.
    /// Throws when a parameter is not finite, as saving does.
    public func onnxSerialized(file: String = "model", producerVersion: String = "") throws -> [UInt8] {
        try check(file: file)
        return ONNXGraph.serialize(self, producerVersion: producerVersion)
    }

    /// Writes `onnxSerialized(file:producerVersion:)` to `path` atomically: a failure leaves
    /// any previous file there untouched and no partial file behind.
    public func exportONNX(to path: String, producerVersion: String = "") throws {
        try writeFileAtomically(try onnxSerialized(file: path, producerVersion: producerVersion), to: path)
    }
}
