/// Host memory for the CPU backend: 64-byte aligned floats (or Int32 indices), freed on deinit.
/// Not thread-safe; like the backend, it is used from one thread at a time.
final class CPUStorage: DeviceStorage {
    let capacity: Int
    let raw: UnsafeMutableRawPointer

    init(capacity: Int, elementSize: Int = MemoryLayout<Float>.stride) {
        self.capacity = capacity
        raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, capacity) * elementSize,
                                               alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(1, capacity) * elementSize)
    }

    deinit { raw.deallocate() }

    var floats: UnsafeMutablePointer<Float> { raw.assumingMemoryBound(to: Float.self) }
    var int32s: UnsafeMutablePointer<Int32> { raw.assumingMemoryBound(to: Int32.self) }
}

extension Matrix {
    /// The CPU backend's pointer to this matrix's elements.
    func cpu(_ operation: String) throws -> UnsafeMutablePointer<Float> {
        guard let s = storage as? CPUStorage else { throw BackendError.foreignStorage(operation: operation) }
        return s.floats
    }
}
