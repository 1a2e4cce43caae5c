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

    /// Sums the processes' gradients. Each is already of `(1/global)·Σ` over its `local` samples
    /// (``Network/backward(_:count:meanOver:correct:outputActivated:)``), so the sum is the
    /// gradient of the global batch's mean. A process with no samples in this batch contributes
    /// zero. (Rescaling each process's own mean by local/global instead took one more pass over
    /// the whole gradient every step.)
    func sumGradients(local: Int) throws {
        guard group.size > 1 else { return }
        if let inPlace {
            for g in inPlace {
                if local == 0 { g.update(repeating: 0) }
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
            if local == 0 { all.update(repeating: 0) }
            try group.allreduceSum(all)
            offset = 0
            for g in gradients {
                try backend.upload(UnsafeBufferPointer(rebasing: all[offset..<(offset + g.count)]), to: g)
                offset += g.count
            }
        }
    }
}
