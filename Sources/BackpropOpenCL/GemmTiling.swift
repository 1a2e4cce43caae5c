import BackpropCore

/// Tile sizes for `Kernels/gemm.cl`, defined before each copy of it the program holds (see the
/// kernel's header comment for what each one blocks).
public struct GemmTiling: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Work-group tile of C: `tm × tn`, walking k in steps of `tk`.
    var tm: Int, tn: Int, tk: Int
    /// Work-item block of C held in registers: `wm × wn`, as vectors of `vw` rows.
    var wm: Int, wn: Int, vw: Int
    /// A work-item's row vectors spread across the tile (GPUs: no local-memory bank conflicts,
    /// coalesced stores) rather than contiguous (PoCL: one work-item's rows in one cache line).
    var strided = false

    /// CPU devices (PoCL): a 16 × 6 register block is the AVX2 micro-kernel shape (12 of the 16
    /// vector registers accumulate); few work-items per group, because PoCL runs a group's
    /// work-items in loops on one thread; and tiles of 28 KiB, which stay in a core's L1. Tuned on
    /// PoCL 3.1 with 2 AVX2 cores: 1024³ SGEMM at ~98 GFLOP/s, where 128×48×128 tiles (88 KiB)
    /// reach ~50 because they stop scaling past one core.
    static let cpu = GemmTiling(tm: 64, tn: 48, tk: 64, wm: 16, wn: 6, vw: 8)
    /// The same register block in a quarter of the tile, for products too small to give every
    /// core two groups of 64 × 48.
    static let cpuSmall = GemmTiling(tm: 32, tn: 24, tk: 64, wm: 16, wn: 6, vw: 8)
    /// GPUs (NVIDIA and alike): 256 work-items each computing 8 × 8 outputs from a 128 × 128
    /// tile, 16 KiB of local memory per k-step: the usual shape for large products. Not yet
    /// tuned on a GPU (none was at hand); its correctness is tested on PoCL and Oclgrind.
    static let gpu = GemmTiling(tm: 128, tn: 128, tk: 16, wm: 8, wn: 8, vw: 4, strided: true)
    /// 256 work-items on 64 × 64 and 128 on 32 × 32: four and sixteen times the work-groups of
    /// `gpu`, for the products of an MLP step at batch 128 (512 × 128 gives 4 groups of 128²).
    static let gpuMedium = GemmTiling(tm: 64, tn: 64, tk: 16, wm: 4, wn: 4, vw: 4, strided: true)
    static let gpuSmall = GemmTiling(tm: 32, tn: 32, tk: 16, wm: 2, wn: 4, vw: 2, strided: true)
    /// Devices that allow fewer than 128 work-items per group.
    static let small = GemmTiling(tm: 32, tn: 32, tk: 16, wm: 4, wn: 4, vw: 4)

    var groupSize: [Int] { [tm / wm, tn / wn] }
    var workItems: Int { (tm / wm) * (tn / wn) }
    /// Both tiles, rows padded by `vw` floats.
    var localMemoryBytes: Int { 4 * tk * (tm + tn + 2 * vw) }

    /// Work-groups for an `m × n` product.
    func groups(m: Int, n: Int) -> Int { ((m + tm - 1) / tm) * ((n + tn - 1) / tn) }

    /// The `#define`s that precede one copy of `gemm.cl`; its names end in `_t<index>`.
    func defines(index: Int) -> String {
        [("TM", tm), ("TN", tn), ("TK", tk), ("WM", wm), ("WN", wn), ("VW", vw), ("STRIDED", strided ? 1 : 0)]
            .map { "#define GEMM_\($0) \($1)\n" }.joined() + "#define GEMM_SUFFIX t\(index)\n"
    }

    public var description: String {
        "\(tm)×\(tn)×\(tk) tiles, \(wm)×\(wn) per work-item, vectors of \(vw)\(strided ? ", strided" : "")"
    }

    /// The tilings a device gets, largest first: by type, keeping those it can run (at least
    /// `small`).
    static func family(isGPU: Bool, maxWorkGroupSize: Int, localMemoryBytes: Int) -> [GemmTiling] {
        let preferred = isGPU ? [gpu, gpuMedium, gpuSmall] : [cpu, cpuSmall]
        let fitting = preferred.filter { $0.workItems <= maxWorkGroupSize && $0.localMemoryBytes <= localMemoryBytes }
        return fitting.isEmpty ? [small] : fitting
    }

    /// Why `gemm.cl` cannot run this tiling correctly, or nil. The kernel assumes that the
    /// register blocks cover the tile (`wm | tm`, `wn | tn`), that vectors divide the register
    /// block and every vector-loaded extent (`vw | wm`, `vw | tm`, `vw | tn`, `vw | tk`), and a
    /// vector width OpenCL has.
    var problem: String? {
        if [tm, tn, tk, wm, wn, vw].contains(where: { $0 < 1 }) { return "a size below 1" }
        if ![1, 2, 4, 8, 16].contains(vw) { return "vector width \(vw) is not 1, 2, 4, 8 or 16" }
        if tm % wm != 0 || tn % wn != 0 { return "the \(wm)×\(wn) register blocks do not cover the \(tm)×\(tn) tile" }
        if wm % vw != 0 || tm % vw != 0 || tn % vw != 0 || tk % vw != 0 {
            return "vectors of \(vw) do not divide \(wm) rows per work-item and the \(tm)×\(tn)×\(tk) tile"
        }
        return nil
    }

    /// Why a device with these limits cannot run this tiling, or nil.
    func problem(maxWorkGroupSize: Int, localMemoryBytes: Int) -> String? {
        if let problem { return problem }
        if workItems > maxWorkGroupSize { return "\(workItems) work-items per group, the device allows \(maxWorkGroupSize)" }
        if self.localMemoryBytes > localMemoryBytes {
            return "\(self.localMemoryBytes) bytes of local memory, the device has \(localMemoryBytes)"
        }
        return nil
    }

    /// What `backprop tune` tries on a device of this type: the defaults, then variations of
    /// tile and register block around them, every one that the device's limits allow.
    static func candidates(isGPU: Bool, maxWorkGroupSize: Int, localMemoryBytes: Int) -> [GemmTiling] {
        let tried: [GemmTiling]
        if isGPU {
            // Strided layouts, 64–256 work-items, 2–8 × 2–8 outputs each.
            tried = [gpu, gpuMedium, gpuSmall] + [
                (128, 64, 16, 8, 4, 4), (64, 128, 16, 4, 8, 4), (128, 128, 8, 8, 8, 4), (64, 64, 32, 4, 4, 4),
                (64, 64, 16, 8, 4, 4), (128, 64, 16, 8, 8, 4), (64, 32, 16, 4, 4, 4), (32, 64, 16, 4, 4, 4),
                (32, 32, 16, 4, 4, 4), (64, 64, 8, 4, 4, 4), (128, 128, 16, 8, 4, 4), (64, 64, 16, 4, 4, 2),
            ].map { GemmTiling(tm: $0.0, tn: $0.1, tk: $0.2, wm: $0.3, wn: $0.4, vw: $0.5, strided: true) }
        } else {
            // PoCL-style: the AVX2 16 × 6 block (and 8 × 8, 16 × 4) in tiles of 8–56 KiB.
            tried = [cpu, cpuSmall] + [
                (32, 48, 64, 16, 6, 8), (64, 24, 64, 16, 6, 8), (64, 48, 32, 16, 6, 8), (64, 48, 128, 16, 6, 8),
                (128, 48, 32, 16, 6, 8), (64, 96, 32, 16, 6, 8), (32, 24, 128, 16, 6, 8),
                (64, 64, 64, 8, 8, 8), (32, 32, 64, 8, 8, 8), (64, 32, 64, 16, 4, 8),
            ].map { GemmTiling(tm: $0.0, tn: $0.1, tk: $0.2, wm: $0.3, wn: $0.4, vw: $0.5) }
        }
        var seen = Set<GemmTiling>()
        let fitting = tried.filter {
            $0.problem(maxWorkGroupSize: maxWorkGroupSize, localMemoryBytes: localMemoryBytes) == nil && seen.insert($0).inserted
        }
        return fitting.isEmpty ? [small] : fitting
    }

    /// The tiling for an `m × n` product on `computeUnits`: the largest that gives every compute
    /// unit at least two work-groups (one to run while the other waits on memory), else the one
    /// that gives the most.
    static func choose(_ family: [GemmTiling], m: Int, n: Int, computeUnits: Int) -> Int {
        if let enough = family.firstIndex(where: { $0.groups(m: m, n: n) >= 2 * computeUnits }) { return enough }
        let most = family.map { $0.groups(m: m, n: n) }.max() ?? 0
        return family.firstIndex { $0.groups(m: m, n: n) == most } ?? 0
    }
}
