import BackpropCore
import CBLAS
import CPUKernels
import Foundation

/// OpenBLAS `cblas_sgemm`, the fallback (`BACKPROP_GEMM=openblas`). It picks its kernels by CPU
/// model when the library loads, or by `OPENBLAS_CORETYPE` if that is set, before our `main`
/// runs: Debian's 0.3.21 runs SSE3 kernels on Sapphire Rapids, and `OPENBLAS_CORETYPE=Haswell`
/// halves its speed on an AVX-512 CPU. So it reports its core, and warns when that core leaves
/// AVX-512 unused.
///
/// Its own threads stay at 1: our panels are the parallelism (on MLP step shapes two
/// single-threaded calls on halves of C ran nearly twice one thread's speed; OpenBLAS's
/// threads barely beat one).
final class OpenBLASGEMM: GEMMProvider {
    static let shared = OpenBLASGEMM()
    /// The provider, after its warning (if any) went to stderr, once per process.
    static let warnedOnce: OpenBLASGEMM = {
        if let warning = shared.info.warning { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        return shared
    }()

    let info: GEMMProviderInfo
    /// Why its kernels cannot run on this CPU (see ``unusableReason(core:has3DNow:level:)``), or nil.
    let unusable: String?
    var threadsItself: Bool { false }

    private init() {
        openblas_set_num_threads(1)
        let config = openblas_get_config().map { String(cString: $0) } ?? ""
        let words = config.split(separator: " ")
        let version = words.count > 1 && words[0] == "OpenBLAS" ? String(words[1]) : "?"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        let isa = Self.instructionSet(core: core)
        var warning: String?
        if bp_cpu_has_avx512f() != 0 && !isa.hasPrefix("AVX-512") {
            let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { " (OPENBLAS_CORETYPE=\($0) is set)" } ?? ""
            warning = "OpenBLAS runs its \(core) kernels (\(isa)) on a CPU with AVX-512\(forced): "
                + "GEMM at about half speed or less; unset OPENBLAS_CORETYPE or use BACKPROP_GEMM=onednn"
        }
        info = GEMMProviderInfo(library: "OpenBLAS", version: version, isa: "\(core) (\(isa))", warning: warning)
        let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
            .flatMap { $0.caseInsensitiveCompare(core) == .orderedSame ? $0 : nil }
        unusable = Self.unusableReason(core: core, forced: forced, runs: \.supported)
    }

    /// Why OpenBLAS's `core` cannot run on a CPU that `runs` some extensions, or nil. It picks
    /// its core when it loads, from the CPU's model unless `OPENBLAS_CORETYPE` names one (`forced`),
    /// and checks neither choice against what the CPU runs: a virtual CPU that reports an AMD K8
    /// (QEMU's default `qemu64`, also under KVM) gets the 3DNow! kernels, and
    /// `OPENBLAS_CORETYPE=Haswell` (copied from a newer machine's environment) on a CPU without AVX2 gets AVX2
    /// ones. Either stops the process at the first product with an illegal instruction. The way
    /// out is a core the CPU runs, named before the library loads.
    static func unusableReason(core: String, forced: String?, runs: (CPUExtension) -> Bool) -> String? {
        let lacking = requirements(core: core).filter { !runs($0) }
        guard !lacking.isEmpty else { return nil }
        let fitting = runs(.avx512) ? "SkylakeX" : runs(.avx2) ? "Haswell" : runs(.avx) ? "Sandybridge"
            : runs(.sse41) ? "Nehalem" : runs(.sse3) ? "Prescott" : "Core2"
        let cause = forced.map { "OPENBLAS_CORETYPE=\($0) makes OpenBLAS run its \(core) kernels" }
            ?? "OpenBLAS picked its \(core) kernels (for a virtual CPU that reports another model than it runs on, such as QEMU's qemu64)"
        return "\(cause), which use \(lacking.map(\.rawValue).joined(separator: " and ")) instructions this CPU does not run: "
            + "they would stop the program with an illegal instruction. Set OPENBLAS_CORETYPE=\(fitting) before starting it, "
            + "or use BACKPROP_GEMM=onednn"
    }

    /// The extensions beyond SSE2 that an OpenBLAS 0.3 x86-64 core's SGEMM uses (its kernels,
    /// packing, β scaling and small-matrix paths), found by disassembling them in Debian's 0.3.21:
    /// zmm and mask registers, ymm, FMA3's and FMA4's forms, `femms`, SSE4.1's and SSE3's own
    /// instructions. Core2, Barcelona and Bobcat need none. Names as `openblas_get_corename` gives them.
    static func requirements(core: String) -> [CPUExtension] {
        switch core.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": [.avx512]
        case "haswell", "zen": [.avx2]
        case "bulldozer", "piledriver", "steamroller", "excavator": [.avx, .fma4]
        case "sandybridge": [.avx]
        case "penryn", "dunnington", "nehalem": [.sse41]
        case "prescott", "atom", "nano": [.sse3]
        case "opteron", "opteron_sse3": [.threeDNow]
        default: []
        }
    }

    func run(_ call: GEMMCall, threads: Int) throws {
        if let unusable { throw BackendError.device(unusable) }
        cblas_sgemm(CblasColMajor, call.transposeA ? CblasTrans : CblasNoTrans,
                    call.transposeB ? CblasTrans : CblasNoTrans, Int32(call.m), Int32(call.n), Int32(call.k),
                    call.alpha, call.a, Int32(call.lda), call.b, Int32(call.ldb), call.beta, call.c, Int32(call.ldc))
    }

    /// The widest vectors of an OpenBLAS core's kernels, for `devices` and the AVX-512 warning.
    static func instructionSet(core: String) -> String {
        let needs = requirements(core: core)
        return needs.contains(.avx512) ? "AVX-512" : needs.contains(.avx2) ? "AVX2"
            : needs.contains(.fma4) ? "AVX, FMA4" : needs.contains(.avx) ? "AVX" : "SSE"
    }
}

/// An x86-64 extension beyond SSE2 that a GEMM library's kernels may need.
enum CPUExtension: String, CaseIterable, Sendable {
    case sse3 = "SSE3", sse41 = "SSE4.1", avx = "AVX", avx2 = "AVX2 and FMA", avx512 = "AVX-512", fma4 = "FMA4",
         threeDNow = "3DNow!"

    /// Whether this CPU (and the OS, for AVX) runs it.
    var supported: Bool {
        switch self {
        case .sse3: bp_cpu_has_sse3() != 0
        case .sse41: bp_cpu_has_sse41() != 0
        case .avx: bp_cpu_has_avx() != 0
        case .avx2: bp_cpu_has_avx2_fma() != 0
        case .avx512: bp_cpu_x86_64_level() >= 4
        case .fma4: bp_cpu_has_fma4() != 0
        case .threeDNow: bp_cpu_has_3dnow() != 0
        }
    }
}
