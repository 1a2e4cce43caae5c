import BackpropCore
/// Tile sizes for `Kernels/gemm.cl`, passed as `-D` build options (see the kernel's header
/// comment for what each one blocks).
struct GemmTiling: Sendable, Equatable, CustomStringConvertible {
    /// Work-group tile of C: `tm × tn`, walking k in steps of `tk`.
    var tm: Int, tn: Int, tk: Int
    /// Work-item block of C held in registers: `wm × wn`, as vectors of `vw` rows.
    var wm: Int, wn: Int, vw: Int

    /// CPU devices (PoCL): a 16 × 6 register block is the AVX2 micro-kernel shape (12 of the 16
    /// vector registers accumulate); few work-items per group, because PoCL runs a group's
    /// work-items in loops on one thread; and tiles of 28 KiB, which stay in a core's L1. Tuned on
    /// PoCL 3.1 with 2 AVX2 cores: 1024³ SGEMM at ~98 GFLOP/s, where 128×48×128 tiles (88 KiB)
    /// reach ~50 because they stop scaling past one core.
    static let cpu = GemmTiling(tm: 64, tn: 48, tk: 64, wm: 16, wn: 6, vw: 8)
    /// GPUs (NVIDIA and alike): 256 work-items each computing 8 × 8 outputs from a 128 × 128
    /// tile, 16 KiB of local memory per k-step. The usual shape for such GPUs, not yet tuned on
    /// one (no GPU was at hand); its correctness is tested on PoCL.
    static let gpu = GemmTiling(tm: 128, tn: 128, tk: 16, wm: 8, wn: 8, vw: 4)
    /// Devices that allow fewer than 256 work-items per group.
    static let small = GemmTiling(tm: 32, tn: 32, tk: 16, wm: 4, wn: 4, vw: 4)

    var groupSize: [Int] { [tm / wm, tn / wn] }
    var workItems: Int { (tm / wm) * (tn / wn) }
    var localMemoryBytes: Int { 4 * tk * (tm + tn) }

    var buildOptions: String {
        "-DGEMM_TM=\(tm) -DGEMM_TN=\(tn) -DGEMM_TK=\(tk) -DGEMM_WM=\(wm) -DGEMM_WN=\(wn) -DGEMM_VW=\(vw)"
    }

    var description: String { "\(tm)×\(tn)×\(tk) tiles, \(wm)×\(wn) per work-item, vectors of \(vw)" }

    /// The tiling for a device: by type, then shrunk if the device cannot run it.
    static func forDevice(isGPU: Bool, maxWorkGroupSize: Int, localMemoryBytes: Int) -> GemmTiling {
        let preferred = isGPU ? gpu : cpu
        if preferred.workItems <= maxWorkGroupSize && preferred.localMemoryBytes <= localMemoryBytes {
            return preferred
        }
        return small
    }
}
