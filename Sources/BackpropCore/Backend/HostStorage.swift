/// Storage that is plain host memory (the CPU backend's), which code outside the backend may
/// read and write directly. The data-parallel gradient exchange sums such gradients where they
/// lie instead of copying them out and back.
public protocol HostStorage: DeviceStorage {
    /// The first of `capacity` contiguous floats, valid as long as the storage lives.
    var hostFloats: UnsafeMutablePointer<Float> { get }
}
