import BackpropCore
import Foundation

/// Host memory for the CPU backend: 64-byte aligned floats (or Int32 indices), zero-filled,
/// freed on deinit; or an adopted `[Float]`'s own buffer (16-byte aligned), kept alive by the
/// storage. Not thread-safe; like the backend, it is used from one thread at a time.
public final class CPUStorage: DeviceStorage {
    /// Elements allocated (floats, or indices for an index buffer).
    public let capacity: Int
    let raw: UnsafeMutableRawPointer
    /// The array whose buffer `raw` points into, when the storage adopted one (nil: `raw` is ours
    /// to free). Never mutated, so its buffer never moves or is copied.
    private let adopted: [Float]?

    /// Throws `BackendError.outOfMemory` when the size overflows or the system refuses it,
    /// instead of trapping as `UnsafeMutableRawPointer.allocate` would.
    init(capacity: Int, elementSize: Int = MemoryLayout<Float>.stride) throws {
        let (bytes, overflow) = max(1, capacity).multipliedReportingOverflow(by: elementSize)
        guard capacity >= 0, !overflow else { throw BackendError.outOfMemory(bytes: Int.max) }
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, 64, bytes) == 0, let pointer else {
            throw BackendError.outOfMemory(bytes: bytes)
        }
        memset(pointer, 0, bytes)
        self.capacity = capacity
        raw = pointer
        adopted = nil
        parent = nil
    }

    /// Storage that keeps `values`' own buffer: no copy when the caller handed over the only
    /// reference (otherwise making it mutable copies it first, as copy-on-write requires).
    static func adopting(_ values: consuming [Float]) throws -> CPUStorage {
        var array = consume values
        var base: UnsafeMutablePointer<Float>?
        array.withUnsafeMutableBufferPointer { base = $0.baseAddress }
        guard !array.isEmpty, let base else { return try CPUStorage(capacity: 0) }
        return CPUStorage(adopting: array, base: base)
    }

    private init(adopting array: [Float], base: UnsafeMutablePointer<Float>) {
        capacity = array.count
        raw = UnsafeMutableRawPointer(base)
        adopted = array
        parent = nil
    }

    /// `count` floats of `parent` from `offset` (in range: the caller checks), sharing its
    /// memory and keeping it alive.
    init(viewOf parent: CPUStorage, offset: Int, count: Int) {
        capacity = count
        raw = parent.raw + offset * MemoryLayout<Float>.stride
        adopted = nil
        self.parent = parent
    }

    /// The storage a view shares memory with; nil for storage that owns its memory.
    private let parent: CPUStorage?

    /// Memory is freed here only when it was allocated here (not an adopted array's, not a view's).
    deinit { if adopted == nil && parent == nil { free(raw) } }

    var floats: UnsafeMutablePointer<Float> { raw.assumingMemoryBound(to: Float.self) }
    var int32s: UnsafeMutablePointer<Int32> { raw.assumingMemoryBound(to: Int32.self) }
}

extension Operand<CPUStorage> {
    /// The elements, column-major.
    var floats: UnsafeMutablePointer<Float> { storage.floats }
}

extension CPUStorage: HostStorage {
    public var hostFloats: UnsafeMutablePointer<Float> { floats }
}
