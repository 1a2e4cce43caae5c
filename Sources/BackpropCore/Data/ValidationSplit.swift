/// Which training samples were held out for validation: drawn from the training split by a
/// seed, stratified by class for classification, so that the record and the data alone
/// give the same rows again on `--resume`.
public struct ValidationRecord: Sendable, Equatable, Codable {
    /// Fraction of the training split held out.
    public var fraction: Double
    /// The draw's seed.
    public var seed: UInt64
    /// Samples held out (a check that the record fits the data).
    public var count: Int
    /// As ``SplitRecord/allocation``: nil in files written before it, split per class.
    public var allocation: SplitAllocation?

    /// A record; ``count`` is filled in by ``Dataset/holdOut(_:stratified:)``.
    public init(fraction: Double, seed: UInt64, count: Int = 0, allocation: SplitAllocation? = .largestRemainder) {
        self.fraction = fraction; self.seed = seed; self.count = count; self.allocation = allocation
    }
}

extension Dataset {
    /// Splits off `record.fraction` of the samples (at least one, never all) as a validation
    /// set, by the same stratified rule as the test split (``SplitRecord/split(strata:)``), with
    /// its own seed. Returns the remaining training samples, the validation samples and the
    /// record with its count.
    public func holdOut(_ record: ValidationRecord, stratified: Bool) throws
        -> (train: Dataset, validation: Dataset, record: ValidationRecord) {
        let (train, held) = try holdOutPositions(record, stratified: stratified)
        var done = record
        done.count = held.count
        return (subset(train), subset(held), done)
    }

    /// ``holdOut(_:stratified:)`` without a copy: reorders the samples in place so that those
    /// kept for training come first and the held-out ones last, each in the order `holdOut`
    /// gives them. The first `count − record.count` samples are then `holdOut`'s training set and
    /// the rest its validation set, in one buffer (``DeviceDataset/columns(_:on:)`` makes the
    /// two views after the upload). Returns the record with its count; on error the dataset is
    /// unchanged.
    public mutating func moveHeldOutToEnd(_ record: ValidationRecord, stratified: Bool) throws -> ValidationRecord {
        let (train, held) = try holdOutPositions(record, stratified: stratified)
        var done = record
        done.count = held.count
        reorder(train + held)
        return done
    }

    /// Puts sample `order[i]` at position `i`, for a permutation `order` of the samples: in
    /// place, following each cycle with one sample's worth of scratch.
    mutating func reorder(_ order: [Int]) {
        precondition(order.count == count, "reorder needs a permutation of the samples")
        func permute(_ values: inout [Float], width: Int) {
            guard width > 0 else { return }
            var done = [Bool](repeating: false, count: order.count)
            var scratch = [Float](repeating: 0, count: width)
            values.withUnsafeMutableBufferPointer { x in
                scratch.withUnsafeMutableBufferPointer { t in
                    guard let base = x.baseAddress, let temp = t.baseAddress else { return }
                    for start in order.indices where !done[start] {
                        done[start] = true
                        guard order[start] != start else { continue }
                        // Walk the cycle: position i takes what stood at order[i].
                        temp.update(from: base + start * width, count: width)
                        var i = start
                        while order[i] != start {
                            (base + i * width).update(from: base + order[i] * width, count: width)
                            i = order[i]
                            done[i] = true
                        }
                        (base + i * width).update(from: temp, count: width)
                    }
                }
            }
        }
        permute(&inputs, width: featureCount)
        if targetValues != nil {
            var values = targetValues ?? []
            targetValues = nil
            permute(&values, width: classCount)
            targetValues = values
        }
        labels = order.map { labels[$0] }
    }

    /// The positions ``holdOut(_:stratified:)`` keeps for training and holds out for validation.
    public func holdOutPositions(_ record: ValidationRecord, stratified: Bool) throws -> (train: [Int], held: [Int]) {
        guard count >= 2 else {
            throw DataError.invalidOption("--validation-split needs at least 2 training samples, got \(count)")
        }
        let rule = SplitRecord(fileHash: "", rows: count, seed: record.seed ^ 0x0A11_DA7E,
                               testFraction: record.fraction, stratified: stratified, allocation: record.allocation)
        guard record.fraction > 0, record.fraction < 1,
              let (train, held) = try? rule.split(strata: stratified ? labels : nil) else {
            throw DataError.invalidOption("--validation-split \(record.fraction) of \(count) training samples leaves an empty split (use a larger fraction, or 0 for none)")
        }
        return (train, held)
    }
}
