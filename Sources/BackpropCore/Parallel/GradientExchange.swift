/// The trainer's side of a ``DataParallelGroup``: parameters made equal at the start, each step's
/// gradient summed over the processes, and — when the gradients are host memory in one buffer —
/// the optimizer's work split between them (as in ZeRO stage 1 of DeepSpeed and PyTorch's
/// `ZeroRedundancyOptimizer`, except that every process keeps the whole state's memory, gathered
/// after each epoch, so that rank 0 alone can write a checkpoint).
///
/// Every gradient lives in one contiguous buffer (``Network/gradientBuffer``, where the backend
/// makes views). A step is then one of:
/// - **sharded** (host memory, several processes): the buffer is cut into one aligned shard per
///   process; a reduce-scatter sums each shard on its owner only, the owner updates its shard's
///   parameters and optimizer state, and an allgather of the parameters makes every process's
///   the same. The same bytes move as in one allreduce, and each process makes about 1/p of the
///   optimizer's pass instead of all of it (shards split the padded buffer: in a small network
///   some processes own only padding). Between epochs the optimizer state is gathered too
///   (``shareOptimizerState()``), so that a checkpoint holds all of it.
/// - **one allreduce** over the buffer, every process updating everything: in place on host
///   memory when sharding is off, else after one read back into a host buffer allocated once
///   (OpenCL) and one write. Without a contiguous buffer (a backend with no views) the tensors
///   are summed one allreduce each (host memory) or packed into the host buffer.
///
/// Measured on 784-512-256-10 with 2 ranks before the buffer was contiguous (Benchmarks/RESULTS.md):
/// one allreduce per tensor in place 276 µs; packing into one buffer and back 420–472 µs.
final class GradientExchange {
    let group: any DataParallelGroup
    private let network: Network
    /// The gradient tensors to read back and write, in the optimizer's order: the whole buffer
    /// when there is one, else each tensor.
    private let gradients: [Matrix]
    /// The gradients themselves when they are host memory, else nil.
    private let inPlace: [UnsafeMutableBufferPointer<Float>]?
    private var packed: [Float] = []
    /// The sharded step's shards of the parameter buffer (one per rank), the parameters as host
    /// memory, and the optimizer whose state is gathered between epochs; nil: one allreduce.
    private var sharded: (shards: [Range<Int>], parameters: UnsafeMutableBufferPointer<Float>, optimizer: Optimizer)?

    /// Makes every process's parameters rank 0's, so that the group starts from one model
    /// whatever each process loaded or initialized; with `shardOptimizer` (and host memory in
    /// one buffer, several processes) restricts `optimizer` to this process's shard.
    init(group: any DataParallelGroup, network: Network, optimizer: Optimizer, shardOptimizer: Bool) throws {
        self.group = group
        self.network = network
        gradients = network.gradientBuffer.whole.map { [$0] } ?? network.layers.flatMap { [$0.weightGradient, $0.biasGradient] }
        inPlace = Self.hostMemory(gradients)
        // A trainer made earlier with the same optimizer may have restricted it.
        try optimizer.restrict(to: nil)
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

        // Host memory in one buffer each (the gradients then are one in-place buffer too).
        let host = shardOptimizer && network.gradientBuffer.whole != nil && inPlace != nil
            ? network.parameterBuffer.whole.flatMap { Self.hostMemory([$0])?.first } : nil
        // Every process must make the same collectives: shard only if all can (one that cannot,
        // or was told not to, makes every process take the allreduce instead of a hang).
        let able = try group.sum([host == nil ? 0 : 1])[0]
        if let host, able == Double(group.size) {
            let shards = network.parameterBuffer.shards(group.size)
            try optimizer.restrict(to: shards[group.rank])
            sharded = (shards, host, optimizer)
        }
    }

    /// Whether each step is sharded (see the type's description).
    var isSharded: Bool { sharded != nil }

    /// `matrices` as host buffers when every one is host memory, else nil.
    private static func hostMemory(_ matrices: [Matrix]) -> [UnsafeMutableBufferPointer<Float>]? {
        let host = matrices.compactMap { m in
            (m.storage as? any HostStorage).map { UnsafeMutableBufferPointer(start: $0.hostFloats, count: m.count) }
        }
        return host.count == matrices.count ? host : nil
    }

    /// Sums the processes' gradients: all of them, or in a sharded step this process's shard
    /// only. Each is already of `(1/global)·Σ` over its `local` samples
    /// (``Network/backward(_:count:meanOver:correct:outputActivated:)``), so the sum is the
    /// gradient of the global batch's mean. A process with no samples in this batch contributes
    /// zero. (Rescaling each process's own mean by local/global instead took one more pass over
    /// the whole gradient every step.)
    func sumGradients(local: Int) throws {
        guard group.size > 1 else { return }
        if let inPlace {
            for g in inPlace {
                if local == 0 { g.update(repeating: 0) }
                if let sharded { try group.reduceScatterSum(g, shards: sharded.shards) } else { try group.allreduceSum(g) }
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

    /// After the optimizer's update of a sharded step: every process gets every shard's new
    /// parameters from its owner. Nothing otherwise (every process updated everything).
    func shareParameters() throws {
        guard let sharded else { return }
        try group.allgather(sharded.parameters, shards: sharded.shards)
    }

    /// In a sharded step each process keeps the optimizer state of its shard only: gathers the
    /// rest from the owners, so that every process holds all of it (for a checkpoint). Called by
    /// every process at the same point (the end of an epoch).
    func shareOptimizerState() throws {
        guard let sharded else { return }
        for buffer in [sharded.optimizer.firstBuffer, sharded.optimizer.secondBuffer] {
            guard let whole = buffer?.whole else { continue }
            guard let state = Self.hostMemory([whole])?.first else {
                throw TrainingError.invalidOption("the optimizer state of a sharded step must be host memory")
            }
            try group.allgather(state, shards: sharded.shards)
        }
    }
}
