/// A checkpoint rides in the model file as extra tensors beside `layers.N.*` (which readers
/// such as `safetensors.numpy` and Tests/Python/forward.py pick by name, so they are unaffected)
/// and a `checkpoint` metadata entry:
///
/// - `optimizer.first.K`, `optimizer.second.K`: the optimizer state of parameter tensor `K`
///   (layer `K/2`'s weight for even `K`, its bias for odd), flat, in the network's order;
/// - `best.layers.N.weight`, `best.layers.N.bias`: the best epoch's parameters, flat.
extension ModelFile {
    /// Names of the tensors that belong to a checkpoint.
    static func isCheckpointTensor(_ name: String) -> Bool {
        name.hasPrefix("optimizer.") || name.hasPrefix("best.")
    }

    /// The checkpoint's tensors, in a fixed order.
    func checkpointTensors() -> [(name: String, tensor: Safetensors.Tensor)] {
        guard let checkpoint else { return [] }
        var tensors = [(name: String, tensor: Safetensors.Tensor)]()
        for (k, t) in checkpoint.first.enumerated() { tensors.append(("optimizer.first.\(k)", .init(shape: [t.count], floats: t))) }
        for (k, t) in checkpoint.second.enumerated() { tensors.append(("optimizer.second.\(k)", .init(shape: [t.count], floats: t))) }
        for (l, p) in (checkpoint.best ?? []).enumerated() {
            tensors.append(("best.layers.\(l).weight", .init(shape: [p.weight.count], floats: p.weight)))
            tensors.append(("best.layers.\(l).bias", .init(shape: [p.bias.count], floats: p.bias)))
        }
        return tensors
    }

    /// The checkpoint in `container`, or nil when its metadata has none.
    static func readCheckpoint(_ container: Safetensors, file: String, architecture: Architecture) throws -> TrainingCheckpoint? {
        guard let state: TrainingState = try decode("checkpoint", container.metadata, file: file,
                                                     expected: "{\"epochs\", \"step\", \"optimizer\", \"shuffler\", …}") else { return nil }
        func fail(_ detail: String) -> ModelFileError { .malformed(file: file, detail: detail) }
        guard state.shufflerWords.flatMap(SeededGenerator.init(state:)) != nil else {
            throw fail("metadata \"checkpoint\": \"shuffler\" must be 4 hexadecimal words, not all zero")
        }
        let sizes = architecture.sizes
        let counts = (0..<architecture.layerCount).flatMap { [sizes[$0] * sizes[$0 + 1], sizes[$0 + 1]] }
        func tensor(_ name: String, count: Int) throws -> [Float] {
            guard let t = container[name] else { throw fail("tensor \"\(name)\" is missing: the checkpoint needs it") }
            guard let values = t.floats, values.count == count, t.shape == [count] else {
                throw fail("tensor \"\(name)\" has dtype \(t.dtype) and shape \(t.shape): expected F32 [\(count)]")
            }
            return values
        }
        let kind = state.optimizer.kind
        let first = kind == .sgd ? [] : try counts.enumerated().map { try tensor("optimizer.first.\($0)", count: $1) }
        let second = kind == .adam ? try counts.enumerated().map { try tensor("optimizer.second.\($0)", count: $1) } : []
        var best: [LayerParameters]?
        if container["best.layers.0.weight"] != nil {
            best = try (0..<architecture.layerCount).map {
                LayerParameters(weight: try tensor("best.layers.\($0).weight", count: counts[2 * $0]),
                                bias: try tensor("best.layers.\($0).bias", count: counts[2 * $0 + 1]))
            }
        }
        return TrainingCheckpoint(state: state, first: first, second: second, best: best)
    }
}
