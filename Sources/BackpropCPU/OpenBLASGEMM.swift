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
    }

    func run(_ call: GEMMCall, threads: Int) throws {
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
