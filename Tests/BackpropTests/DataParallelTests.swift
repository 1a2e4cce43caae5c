import Foundation
import Testing
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropOpenCL

@Suite("Data parallelism")
struct DataParallelTests {
    /// A rank of a group that is never asked to communicate.
    final class Seat: DataParallelGroup {
        let rank: Int, size: Int
        init(_ rank: Int, of size: Int) { self.rank = rank; self.size = size }
        func allreduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws {}
        func allreduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws {}
        func broadcast(_ bytes: UnsafeMutableRawBufferPointer) throws {}
        func reduceScatterSum(_ values: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws {}
        func allgather(_ values: UnsafeMutableBufferPointer<Float>, shards: [Range<Int>]) throws {}
    }

    @Test("the ranks' shares of a batch are contiguous, in rank order, cover it once and differ by at most one")
    func shares() {
        for size in 1...5 {
            for n in 0...23 {
                let parts = (0..<size).map { Seat($0, of: size).share(of: n) }
                #expect(parts.first?.lowerBound == 0 && parts.last?.upperBound == n)
                #expect(zip(parts, parts.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                let counts = parts.map(\.count)
                #expect(counts.max()! - counts.min()! <= 1, "\(n) on \(size): \(counts)")
            }
        }
    }

    /// What a training run ends with: parameters, the optimizer's state, the final test metrics,
    /// and whether the steps were sharded.
    struct Outcome: Sendable {
        var parameters: [LayerParameters]
        var moments: (first: [[Float]], second: [[Float]])
        var test: Metrics
        var sharded: Bool
    }

    /// Trains blobs for 3 epochs (6-16-8-4, batch 64).
    static func train(group: any DataParallelGroup, optimizer: OptimizerKind, networkSeed: UInt64,
                      weightDecay: Float = 0, shardOptimizer: Bool = true,
                      backend makeBackend: () throws -> any Backend = { CPUBackend(threads: 1) }) throws -> Outcome {
        // 385 = 6·64 + 1 training samples: the last global batch of one sample leaves ranks with none.
        let all = Synthetic.blobs(classes: 4, features: 6, perClass: 120, seed: 7)
        let train = all.subset(Array(0..<385)), test = all.subset(Array(385..<all.count))
        let backend = try makeBackend()
        let architecture = try Architecture(inputs: 6, hidden: [16, 8], outputs: 4, activation: .tanh)
        let network = try Network(backend: backend, architecture: architecture, seed: networkSeed)
        let rule = try Optimizer(OptimizerConfiguration(kind: optimizer, weightDecay: weightDecay), for: network)
        let trainer = try Trainer(network: network, optimizer: rule, batchSize: 64, seed: 11, group: group,
                                  shardOptimizer: shardOptimizer)
        let deviceTest = try DeviceDataset(test, on: backend)
        try trainer.fit(train: try DeviceDataset(train, on: backend), test: deviceTest, epochs: 3)
        return Outcome(parameters: try network.parameters(), moments: try rule.moments(),
                       test: try trainer.evaluate(deviceTest), sharded: trainer.isSharded)
    }

    /// The sums reorder floats (each rank's share is summed apart, then the shares), so equal
    /// runs differ by rounding: |Δθ| ≤ 1e-5 · max|θ| of the tensor, element by element.
    /// Relative to each element alone would fail on weights that pass near zero. On CPU ranks
    /// each step is sharded (reduce-scatter, each rank updating its part, allgather); the thread
    /// group leaves NaN in the gradients a rank does not own, so reading one would show.
    @Test("ranks on threads train like one process with the same global batch",
          arguments: [(2, OptimizerKind.adam, true), (3, .sgd, true), (4, .momentum, true), (2, .adam, false)])
    func matchesOneProcess(size: Int, optimizer: OptimizerKind, sharded: Bool) throws {
        let single = try Self.train(group: SingleProcess(), optimizer: optimizer, networkSeed: 1)
        // Ranks other than 0 start from other weights: the trainer copies rank 0's to them.
        let ranks = try ThreadGroup.run(size: size) { group in
            try Self.train(group: group, optimizer: optimizer, networkSeed: 1 + UInt64(group.rank), shardOptimizer: sharded)
        }
        #expect(ranks.allSatisfy { $0.sharded == sharded } && !single.sharded)
        try Self.expectSame(ranks, as: single)
    }

    @Test("a sharded step keeps weight decay on the weights only, wherever the shards cut the buffer")
    func shardedWeightDecay() throws {
        let single = try Self.train(group: SingleProcess(), optimizer: .adam, networkSeed: 1, weightDecay: 0.05)
        let ranks = try ThreadGroup.run(size: 3) { group in
            try Self.train(group: group, optimizer: .adam, networkSeed: 1, weightDecay: 0.05)
        }
        #expect(ranks.allSatisfy { $0.sharded })
        try Self.expectSame(ranks, as: single)
    }

    @Test("when one process may not shard (BACKPROP_SHARD_OPTIMIZER=0 on one rank), every process takes the allreduce")
    func shardingNeedsEveryProcess() throws {
        let single = try Self.train(group: SingleProcess(), optimizer: .adam, networkSeed: 1)
        let ranks = try ThreadGroup.run(size: 2) { group in
            try Self.train(group: group, optimizer: .adam, networkSeed: 1, shardOptimizer: group.rank == 0)
        }
        #expect(ranks.allSatisfy { !$0.sharded })
        try Self.expectSame(ranks, as: single)
    }

    /// On OpenCL the gradients live on the device: they are read back into one packed buffer.
    @Test("OpenCL ranks on threads train like one OpenCL process", .enabled(if: OpenCLTestDevice.enabled))
    func openCLMatchesOneProcess() throws {
        let single = try Self.train(group: SingleProcess(), optimizer: .adam, networkSeed: 1) { try OpenCLTestDevice.backend() }
        let ranks = try ThreadGroup.run(size: 2) { group in
            try Self.train(group: group, optimizer: .adam, networkSeed: 1 + UInt64(group.rank)) { try OpenCLBackend() }
        }
        #expect(ranks.allSatisfy { !$0.sharded })
        try Self.expectSame(ranks, as: single)
    }

    /// Parameters and optimizer state (gathered after each epoch, for a checkpoint) equal on
    /// every rank bit for bit, and within rounding of one process's.
    static func expectSame(_ ranks: [Outcome], as single: Outcome) throws {
        for (rank, result) in ranks.enumerated() {
            #expect(result.parameters == ranks[0].parameters, "rank \(rank)'s parameters differ from rank 0's")
            #expect(result.moments.first == ranks[0].moments.first && result.moments.second == ranks[0].moments.second,
                    "rank \(rank)'s optimizer state differs from rank 0's")
        }
        func expectClose(_ a: [Float], _ b: [Float], _ what: String) {
            let scale = b.map(abs).max() ?? 0
            let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            #expect(a.count == b.count && worst <= 1e-5 * scale, "\(what): |Δ| \(worst) vs max \(scale)")
        }
        for (l, (p, q)) in zip(ranks[0].parameters, single.parameters).enumerated() {
            expectClose(p.weight, q.weight, "layer \(l) weight")
            expectClose(p.bias, q.bias, "layer \(l) bias")
        }
        for (name, mine, theirs) in [("first moment", ranks[0].moments.first, single.moments.first),
                                     ("second moment", ranks[0].moments.second, single.moments.second)] {
            #expect(mine.count == theirs.count)
            for (k, (a, b)) in zip(mine, theirs).enumerated() { expectClose(a, b, "\(name) of tensor \(k)") }
        }
        #expect(abs(ranks[0].test.loss - single.test.loss) <= 1e-5 * single.test.loss)
        #expect(ranks[0].test.accuracy == single.test.accuracy)
    }

    /// The work split itself (the tests above would pass if every rank updated everything: the
    /// allgather overwrites what a rank does not own).
    @Test("a restricted optimizer updates its shard only; a trainer of one process lifts the restriction")
    func restrictedUpdate() throws {
        let backend = CPUBackend(threads: 1)
        let network = try Network(backend: backend, architecture: try Architecture(inputs: 6, hidden: [16], outputs: 4), seed: 3)
        let optimizer = try Optimizer(OptimizerConfiguration(kind: .sgd, learningRate: 1), for: network)
        let whole = try #require(network.gradientBuffer.whole)
        let gradient = try #require(whole.storage as? CPUStorage)
        let count = network.parameterBuffer.count
        /// Which elements of the parameter buffer one SGD step with every gradient 1 changes.
        func changed() throws -> [Bool] {
            let parameters = try #require(network.parameterBuffer.whole)
            let before = try backend.download(parameters)
            UnsafeMutableBufferPointer(start: gradient.hostFloats, count: count).update(repeating: 1)
            try optimizer.update()
            return zip(before, try backend.download(parameters)).map { $0 != $1 }
        }
        let shard = network.parameterBuffer.shards(3)[1]
        try optimizer.restrict(to: shard)
        #expect(try changed() == (0..<count).map { shard.contains($0) })
        try optimizer.restrict(to: 0..<0)
        #expect(try changed().allSatisfy { !$0 })
        try optimizer.restrict(to: shard)
        _ = try Trainer(network: network, optimizer: optimizer, batchSize: 8, seed: 1)
        #expect(try changed().allSatisfy { $0 })
    }

    @Test("a parameter buffer's shards cover it once, in order, aligned, as equal as the alignment allows")
    func shards() throws {
        let backend = CPUBackend(threads: 1)
        let buffer = try ParameterBuffer(backend: backend, shapes: [Shape(rows: 16, cols: 6), Shape(rows: 16, cols: 1),
                                                                    Shape(rows: 4, cols: 16), Shape(rows: 4, cols: 1)])
        let align = try #require(backend.viewAlignment)
        for parts in 1...40 {
            let shards = buffer.shards(parts)
            #expect(shards.count == parts && shards.first?.lowerBound == 0 && shards.last?.upperBound == buffer.count)
            #expect(zip(shards, shards.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            #expect(shards.allSatisfy { $0.lowerBound % align == 0 })
            let counts = shards.map(\.count)
            #expect(counts.max()! - counts.min()! <= align, "\(parts) parts: \(counts)")
        }
    }

    @Test("a rank given other data or another seed is told what differs; rank 0 is not")
    func mismatch() throws {
        let errors = try ThreadGroup.run(size: 2) { group -> String? in
            do {
                try group.requireAgreement(["data": 42, "seed": group.rank == 1 ? 2 : 1], hint: "same options")
                return nil
            } catch { return "\(error)" }
        }
        #expect(errors[0] == nil)
        let message = try #require(errors[1])
        #expect(message.contains("differs from rank 0 in seed"), "\(message)")
        #expect(!message.contains("data"), "\(message)")
        #expect(message.hasSuffix("; same options"))
    }

    @Test("a fingerprint sees the order, the bits and the count of values")
    func fingerprints() {
        func print(_ values: [Float]) -> UInt64 { var f = Fingerprint(); f.combine(values); return f.finalized }
        #expect(print([1, 2, 3]) == print([1, 2, 3]))
        #expect(print([1, 2, 3]) != print([2, 1, 3]))
        #expect(print([0]) != print([-0.0]))
        #expect(print([1, 2]) != print([1, 2, 0]))
    }
}
