import Foundation

/// A trained network on disk, in the safetensors format: one F32 tensor per weight and bias,
/// named `layers.N.weight` (shape `[out, in]`, row-major, as PyTorch's `nn.Linear` stores it)
/// and `layers.N.bias` (shape `[out]`); everything else in `__metadata__`, as JSON strings:
///
/// | key               | value                                                    |
/// |-------------------|----------------------------------------------------------|
/// | `format`          | `backprop`                                               |
/// | `format_version`  | `3` (2: no centers in `table`; 1: no `table` and `split`; both are read too) |
/// | `architecture`    | `{"sizes": […], "activations": […], "loss": "…"}`        |
/// | `standardization` | `{"mean": […], "std": […]}` (inputs: `x' = (x − center − mean)/std`, `center` from `table`) |
/// | `class_names`     | `["0", "1", …]`                                          |
/// | `feature_names`   | the CSV columns the inputs came from                     |
/// | `training`        | epochs, seed, optimizer, learning rate, final metrics    |
/// | `table`           | task, label columns, feature columns with their categories or centers, classes, target statistics and centers |
/// | `split`           | the CSV's hash and row count, split seed and test fraction |
/// | `checkpoint`      | optional: the ``TrainingState`` to resume from exactly (see ``checkpoint``) |
public struct ModelFile: Sendable, Equatable {
    /// The `format_version` written.
    /// 3 since a CSV model's numeric columns and targets record a `center`: a reader of version 2
    /// would take the inputs without it and be off by each column's mean, so it refuses them.
    public static let formatVersion = 3
    /// The versions read: 1 (before `table` and `split`), 2 (before centers) and 3.
    public static let readableVersions = 1...3

    /// Sizes, activations and loss of the network.
    public var architecture: Architecture
    /// Per layer, the weight `out × in` column-major (as ``Network`` holds it) and the bias.
    public var parameters: [LayerParameters]
    /// The input transform predictions must apply (CSV data), or nil.
    public var standardization: Standardization?
    /// One name per output class, when the data had them.
    public var classNames: [String]?
    /// The CSV feature columns, in input order, when the data came from a CSV.
    public var featureNames: [String]?
    /// How the model was trained, or nil for a model saved without training.
    public var training: TrainingInfo?
    /// How CSV columns become inputs and targets (nil for IDX data and version 1 files).
    public var table: TableEncoding?
    /// The rows held out for testing (nil for IDX data and version 1 files).
    public var split: SplitRecord?
    /// Set in a checkpoint file (`train --checkpoint`): optimizer state, shuffler, schedule.
    public var checkpoint: TrainingCheckpoint?

    /// A model; it is checked (finite parameters of the right shapes) when serialized.
    public init(architecture: Architecture, parameters: [LayerParameters],
                standardization: Standardization? = nil, classNames: [String]? = nil,
                featureNames: [String]? = nil, training: TrainingInfo? = nil,
                table: TableEncoding? = nil, split: SplitRecord? = nil) {
        self.architecture = architecture; self.parameters = parameters
        self.standardization = standardization; self.classNames = classNames
        self.featureNames = featureNames; self.training = training
        self.table = table; self.split = split
    }

    // MARK: Saving

    /// The safetensors bytes of this model. Refuses parameters that are not finite, so a
    /// diverged network never replaces a good file.
    public func serialized(file: String = "model") throws -> [UInt8] {
        try check(file: file)
        var tensors = [(name: String, tensor: Safetensors.Tensor)]()
        for (l, p) in parameters.enumerated() {
            let out = architecture.sizes[l + 1], inputs = architecture.sizes[l]
            var rowMajor = [Float](repeating: 0, count: out * inputs)
            for i in 0..<out { for j in 0..<inputs { rowMajor[i * inputs + j] = p.weight[i + j * out] } }
            tensors.append(("layers.\(l).weight", .init(shape: [out, inputs], floats: rowMajor)))
            tensors.append(("layers.\(l).bias", .init(shape: [out], floats: p.bias)))
        }
        tensors += checkpointTensors()
        var metadata = ["format": "backprop", "format_version": String(Self.formatVersion),
                        "architecture": try json(architecture)]
        if let standardization { metadata["standardization"] = try json(standardization) }
        if let classNames { metadata["class_names"] = try json(classNames) }
        if let featureNames { metadata["feature_names"] = try json(featureNames) }
        if let training { metadata["training"] = try json(training) }
        if let table { metadata["table"] = try json(table) }
        if let split { metadata["split"] = try json(split) }
        if let checkpoint { metadata["checkpoint"] = try json(checkpoint.state) }
        return try Safetensors(tensors: tensors, metadata: metadata).serialized()
    }

    /// Writes the model to `path` atomically (see ``writeFileAtomically(_:to:)``): the previous file stays
    /// intact unless the new one is complete and on disk.
    public func save(to path: String) throws {
        try save(to: path, beforeRename: {})
    }

    func save(to path: String, beforeRename: () throws -> Void) throws {
        try AtomicFile.write(try serialized(file: path), to: path, beforeRename: beforeRename)
    }

    // MARK: Loading

    /// Reads and checks the model file at `path`; throws ``ModelFileError`` naming the file and
    /// what is wrong (a missing tensor, a shape that does not fit the architecture, …).
    public static func load(_ path: String) throws -> ModelFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelFileError.unreadable(file: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw ModelFileError.unreadable(file: path, reason: "it is a directory") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ModelFileError.unreadable(file: path, reason: error.localizedDescription)
        }
        return try parse(Array(data), file: path)
    }

    /// Reads a model from safetensors bytes, checking every tensor against the architecture
    /// in the metadata. Errors name `file`, the tensor or metadata field, and what was expected.
    public static func parse(_ bytes: [UInt8], file: String) throws -> ModelFile {
        func fail(_ detail: String) -> ModelFileError { .malformed(file: file, detail: detail) }
        let container = try Safetensors.parse(bytes, file: file)
        let meta = container.metadata
        guard meta["format"] == "backprop" else {
            throw fail("metadata \"format\" is \(meta["format"].map { "\"\($0)\"" } ?? "missing"): expected \"backprop\" (a model written by backprop train --save)")
        }
        guard let version = meta["format_version"].flatMap({ Int($0) }) else {
            throw fail("metadata \"format_version\" is missing or not an integer: expected \(formatVersion)")
        }
        guard readableVersions.contains(version) else {
            throw fail("metadata \"format_version\" is \(version): this build reads versions \(readableVersions.lowerBound) to \(readableVersions.upperBound)")
        }
        let architectureShape = "{\"sizes\": [...], \"activations\": [...], \"loss\": \"...\"}"
        guard let architecture: Architecture = try decode("architecture", meta, file: file, expected: architectureShape) else {
            throw fail("metadata \"architecture\" is missing: expected JSON \(architectureShape)")
        }
        do { try architecture.validate() } catch {
            throw fail("metadata \"architecture\": \(error)")
        }

        var parameters = [LayerParameters]()
        let sizes = architecture.sizes
        for l in 0..<architecture.layerCount {
            let out = sizes[l + 1], inputs = sizes[l]
            let rowMajor = try floats(container, "layers.\(l).weight", shape: [out, inputs], file: file)
            var weight = [Float](repeating: 0, count: rowMajor.count)
            for i in 0..<out { for j in 0..<inputs { weight[i + j * out] = rowMajor[i * inputs + j] } }
            let bias = try floats(container, "layers.\(l).bias", shape: [out], file: file)
            parameters.append(LayerParameters(weight: weight, bias: bias))
        }
        let expectedNames = Set((0..<architecture.layerCount).flatMap { ["layers.\($0).weight", "layers.\($0).bias"] })
        if let extra = container.tensors.map(\.name).first(where: { !expectedNames.contains($0) && !isCheckpointTensor($0) }) {
            throw fail("tensor \"\(extra)\" is not part of the architecture \(architecture) (expected layers.0 to layers.\(architecture.layerCount - 1))")
        }

        var model = ModelFile(
            architecture: architecture, parameters: parameters,
            standardization: try decode("standardization", meta, file: file, expected: "{\"mean\": [...], \"std\": [...]}"),
            classNames: try decode("class_names", meta, file: file, expected: "a list of strings"),
            featureNames: try decode("feature_names", meta, file: file, expected: "a list of strings"),
            training: try decode("training", meta, file: file, expected: "{\"epochs\", \"seed\", \"optimizer\", \"learning_rate\", \"train\", \"test\"}"),
            table: try decode("table", meta, file: file, expected: "{\"task\", \"labels\", \"columns\", \"missing\", …}"),
            split: try decode("split", meta, file: file, expected: "{\"file_hash\", \"rows\", \"seed\", \"test_fraction\", \"stratified\"}"))
        model.checkpoint = try readCheckpoint(container, file: file, architecture: architecture)
        try model.check(file: file)
        return model
    }

    /// The first tensor holding a NaN or an infinity (`"layers.1.weight"`), or nil.
    public var firstNonFiniteParameter: String? {
        for (l, p) in parameters.enumerated() {
            if p.weight.contains(where: { !$0.isFinite }) { return "layers.\(l).weight" }
            if p.bias.contains(where: { !$0.isFinite }) { return "layers.\(l).bias" }
        }
        return nil
    }

    /// Consistency of everything but the tensors' presence: shapes, finiteness, metadata sizes.
    func check(file: String) throws {
        func fail(_ detail: String) -> ModelFileError { .malformed(file: file, detail: detail) }
        let sizes = architecture.sizes
        guard parameters.count == architecture.layerCount else {
            throw fail("\(parameters.count) layers of parameters for the \(architecture.layerCount) layers of \(architecture)")
        }
        for (l, p) in parameters.enumerated() {
            guard p.weight.count == sizes[l] * sizes[l + 1], p.bias.count == sizes[l + 1] else {
                throw fail("layer \(l): \(p.weight.count) weights and \(p.bias.count) biases, expected \(sizes[l + 1])×\(sizes[l]) and \(sizes[l + 1])")
            }
            if let k = p.weight.firstIndex(where: { !$0.isFinite }) {
                throw fail("tensor \"layers.\(l).weight\": element \(k) is \(p.weight[k]): expected finite numbers")
            }
            if let k = p.bias.firstIndex(where: { !$0.isFinite }) {
                throw fail("tensor \"layers.\(l).bias\": element \(k) is \(p.bias[k]): expected finite numbers")
            }
        }
        if let s = standardization {
            guard s.mean.count == sizes[0], s.std.count == sizes[0] else {
                throw fail("metadata \"standardization\": \(s.mean.count) means and \(s.std.count) standard deviations, expected \(sizes[0]) of each (one per input)")
            }
            guard s.mean.allSatisfy(\.isFinite), s.std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw fail("metadata \"standardization\": expected finite means and positive finite standard deviations")
            }
        }
        if let names = classNames, names.count != sizes[sizes.count - 1] {
            throw fail("metadata \"class_names\": \(names.count) names, expected \(sizes[sizes.count - 1]) (one per output)")
        }
        if let names = featureNames, names.count != sizes[0] {
            throw fail("metadata \"feature_names\": \(names.count) names, expected \(sizes[0]) (one per input)")
        }
        if let table {
            guard table.inputNames.count == sizes[0], table.outputCount == sizes[sizes.count - 1] else {
                throw fail("metadata \"table\": \(table.inputNames.count) inputs and \(table.outputCount) outputs, expected \(sizes[0]) and \(sizes[sizes.count - 1])")
            }
            let centers = table.columns.compactMap(\.center) + (table.targetCenters ?? [])
            guard centers.allSatisfy(\.isFinite), table.targetCenters.map({ $0.count == table.labels.count }) ?? true else {
                throw fail("metadata \"table\": centers must be finite, one per target (\(table.targetCenters?.count ?? 0) for \(table.labels.count) targets)")
            }
        }
        if let t = training, t.epochs < 0 {
            throw fail("metadata \"training\": epochs \(t.epochs), expected zero or more")
        }
    }

    private static func floats(_ container: Safetensors, _ name: String, shape: [Int], file: String) throws -> [Float] {
        guard let tensor = container[name] else {
            throw ModelFileError.malformed(file: file, detail: "tensor \"\(name)\" is missing: expected shape \(shape) of F32")
        }
        guard tensor.shape == shape else {
            throw ModelFileError.malformed(file: file, detail: "tensor \"\(name)\" has shape \(tensor.shape): the architecture needs \(shape)")
        }
        guard let values = tensor.floats else {
            throw ModelFileError.malformed(file: file, detail: "tensor \"\(name)\" has dtype \(tensor.dtype): expected F32")
        }
        return values
    }

    static func decode<T: Decodable>(_ key: String, _ meta: [String: String], file: String,
                                             expected: String) throws -> T? {
        guard let text = meta[key] else { return nil }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try decoder.decode(T.self, from: Data(text.utf8)) } catch {
            throw ModelFileError.malformed(file: file, detail: "metadata \"\(key)\" is not valid: expected JSON \(expected)")
        }
    }

    func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
