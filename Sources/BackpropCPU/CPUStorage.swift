import BackpropCore
import Foundation

/// Host memory for the CPU backend: 64-byte aligned floats (or Int32 indices), zero-filled,
/// freed on deinit. Not thread-safe; like the backend, it is used from one thread at a time.
public final class CPUStorage: DeviceStorage {
    /// Elements allocated (floats, or indices for an index buffer).
    public let capacity: Int
    let raw: UnsafeMutableRawPointer

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
        parent = nil
    }

    /// `count` floats of `parent` from `offset` (in range: the caller checks), sharing its
    /// memory and keeping it alive.
    init(viewOf parent: CPUStorage, offset: Int, count: Int) {
        capacity = count
        raw = parent.raw + offset * MemoryLayout<Float>.stride
        self.parent = parent
    }

    /// The storage a view shares memory with; nil for storage that owns its memory.
    private let parent: CPUStorage?

    deinit { if parent == nil { free(raw) } }

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
