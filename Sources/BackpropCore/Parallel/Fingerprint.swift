/// A 64-bit fingerprint of values, to check that processes were given the same data and
/// options (not a cryptographic hash: it catches mistakes, not attacks). Word by word
/// (FNV-1a's step over 64-bit words, then a SplitMix finalizer), fast enough for MNIST
/// (47 M floats) at start-up.
public struct Fingerprint: Sendable, Equatable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    public mutating func combine(_ word: UInt64) {
        value = (value ^ word) &* 0x0000_0100_0000_01B3
    }

    /// The bit patterns of `values` (so `-0.0` and `0.0`, or two NaNs, count as different),
    /// and their count.
    public mutating func combine(_ values: [Float]) {
        combine(UInt64(values.count))
        values.withUnsafeBufferPointer { p in
            var i = 0
            while i + 1 < p.count {
                combine(UInt64(p[i].bitPattern) | UInt64(p[i + 1].bitPattern) << 32)
                i += 2
            }
            if i < p.count { combine(UInt64(p[i].bitPattern)) }
        }
    }

    public mutating func combine(_ values: [Int32]) {
        combine(UInt64(values.count))
        for v in values { combine(UInt64(UInt32(bitPattern: v))) }
    }

    public mutating func combine(_ text: String) {
        combine(UInt64(text.utf8.count))
        for byte in text.utf8 { combine(UInt64(byte)) }
    }

    /// The fingerprint, mixed so that every input bit reaches every output bit.
    public var finalized: UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Network {
    /// A fingerprint of every weight and bias, bit for bit: equal on processes whose
    /// parameters are identical.
    public func parameterFingerprint() throws -> UInt64 {
        var f = Fingerprint()
        for p in try parameters() { f.combine(p.weight); f.combine(p.bias) }
        return f.finalized
    }
}

extension Dataset {
    /// A fingerprint of the samples, their order and their labels or regression targets.
    public var fingerprint: UInt64 {
        var f = Fingerprint()
        f.combine(UInt64(featureCount)); f.combine(UInt64(classCount))
        f.combine(inputs); f.combine(labels); f.combine(targetValues ?? [])
        return f.finalized
    }
}
