/// The trainer's side of a ``DataParallelGroup``: parameters made equal at the start, and each
/// step's gradient summed over the processes.
///
/// Every gradient lives in one contiguous buffer (``Network/gradientBuffer``, where the backend
/// makes views), so a step is ONE allreduce: in place when that buffer is host memory (the CPU
/// backend), else after one read back into a host buffer allocated once (OpenCL) and one write.
/// Without a contiguous buffer (a backend with no views) the tensors are summed one allreduce
/// each (host memory) or packed into the host buffer. Measured on 784-512-256-10 with 2 ranks
/// before the buffer was contiguous (Benchmarks/RESULTS.md): one allreduce per tensor in place
/// 276 µs; packing into one buffer and back 420–472 µs, the copies costing more than the calls.
final class GradientExchange {
    let group: any DataParallelGroup
    private let network: Network
    /// The gradient tensors to read back and write, in the optimizer's order: the whole buffer
    /// when there is one, else each tensor.
    private let gradients: [Matrix]
    /// The gradients themselves when they are host memory, else nil.
    private let inPlace: [UnsafeMutableBufferPointer<Float>]?
    private var packed: [Float] = []

    /// Makes every process's parameters rank 0's, so that the group starts from one model
    /// whatever each process loaded or initialized.
    init(group: any DataParallelGroup, network: Network) throws {
        self.group = group
        self.network = network
        gradients = network.gradientBuffer.whole.map { [$0] } ?? network.layers.flatMap { [$0.weightGradient, $0.biasGradient] }
        let host = gradients.compactMap { g in
            (g.storage as? any HostStorage).map { UnsafeMutableBufferPointer(start: $0.hostFloats, count: g.count) }
        }
        inPlace = host.count == gradients.count ? host : nil
        guard group.size > 1 else { return }
        if inPlace == nil { packed = [Float](repeating: 0, count: gradients.reduce(0) { $0 + $1.count }) }

        var parameters = try network.parameters().flatMap { $0.weight + $0.bias }
        try parameters.withUnsafeMutableBytes { try group.broadcast($0) }
        var offset = 0
        try network.setParameters(network.layers.map { layer in
            defer { offset += layer.weight.count + layer.bias.count }
            let w = offset + layer.weight.count
            return LayerParameters(weight: Array(parameters[offset..<w]),
                                   bias: Array(parameters[w..<(w + layer.bias.count)]))
        })
    }

    /// Turns this process's gradient of the mean over its `local` samples into the gradient of
    /// the mean over the `global` batch: `∂C/∂θ = Σ_ranks (local/global)·∂C_rank/∂θ`.
    /// A process with no samples in this batch contributes zero.
    func sumGradients(local: Int, global: Int) throws {
        guard group.size > 1 else { return }
        if let inPlace {
            for g in inPlace {
                weigh(g, local: local, global: global)
                try group.allreduceSum(g)
            }
            return
        }
        let backend = network.backend
        try packed.withUnsafeMutableBufferPointer { all in
            var offset = 0
            for g in gradients {
                if local > 0 { try backend.download(g, into: UnsafeMutableBufferPointer(rebasing: all[offset..<(offset + g.count)])) }
                offset += g.count
            }
            weigh(all, local: local, global: global)
            try group.allreduceSum(all)
            offset = 0
            for g in gradients {
                try backend.upload(UnsafeBufferPointer(rebasing: all[offset..<(offset + g.count)]), to: g)
                offset += g.count
            }
        }
    }

    /// `g ← (local/global)·g`; zero when this process had no samples (its buffers hold an old step).
    private func weigh(_ g: UnsafeMutableBufferPointer<Float>, local: Int, global: Int) {
        if local == 0 { g.update(repeating: 0); return }
        guard local != global else { return }
        let weight = Float(local) / Float(global)
        for i in g.indices { g[i] *= weight }
    }
}
