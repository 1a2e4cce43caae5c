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
        unusable = Self.unusableReason(core: core, has3DNow: bp_cpu_has_3dnow() != 0, level: Int(bp_cpu_x86_64_level()))
    }

    /// OpenBLAS's K8 cores (`Opteron`, `Opteron_SSE3`) end their SGEMM kernels and packing with
    /// 3DNow!'s `femms` (found by disassembling Debian's 0.3.21: no other core uses a 3DNow!
    /// instruction). It picks them for any CPU that reports an AMD family-15 model, virtual ones
    /// too (QEMU's default `qemu64`, also under KVM; OpenBLAS fixed that after 0.3.30), and a CPU
    /// without 3DNow! stops the process at the first product with an illegal instruction. The way
    /// out is a core the CPU runs, named before the library loads.
    static func unusableReason(core: String, has3DNow: Bool, level: Int) -> String? {
        guard ["opteron", "opteron_sse3"].contains(core.lowercased()), !has3DNow else { return nil }
        let fitting = level >= 3 ? "Haswell" : level == 2 ? "Nehalem" : "Prescott"
        return "OpenBLAS picked its \(core) kernels, which use 3DNow! instructions this CPU does not run "
            + "(a virtual CPU that reports an AMD K8, such as QEMU's qemu64); they would stop the program "
            + "with an illegal instruction. Start it with OPENBLAS_CORETYPE=\(fitting) set, or use BACKPROP_GEMM=onednn"
    }

    func run(_ call: GEMMCall, threads: Int) throws {
        if let unusable { throw BackendError.device(unusable) }
        cblas_sgemm(CblasColMajor, call.transposeA ? CblasTrans : CblasNoTrans,
                    call.transposeB ? CblasTrans : CblasNoTrans, Int32(call.m), Int32(call.n), Int32(call.k),
                    call.alpha, call.a, Int32(call.lda), call.b, Int32(call.ldb), call.beta, call.c, Int32(call.ldc))
    }

    /// The instruction set of an OpenBLAS 0.3 x86-64 core (names as `openblas_get_corename` gives them).
    static func instructionSet(core: String) -> String {
        switch core.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": "AVX-512"
        case "haswell", "zen", "excavator": "AVX2"
        case "sandybridge", "bulldozer", "piledriver", "steamroller": "AVX"
        default: "SSE"
        }
    }
}
