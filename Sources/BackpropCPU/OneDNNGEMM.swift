import BackpropCore
import CDNNL

/// oneDNN's `dnnl_sgemm`: JIT kernels generated for the instruction set the CPU reports
/// (AVX-512, AVX2, …), whatever its model name or `OPENBLAS_CORETYPE` says. Measured on 2 vCPUs
/// at the products of an MLP step: the fastest library on Zen 5 (79 % of FMA peak) and on Zen 4
/// (see Benchmarks/RESULTS.md).
///
/// It is row-major; our matrices are column-major. A column-major m×n C with leading dimension
/// ldc is, read row-major, Cᵀ (n×m), and Cᵀ = op(B)ᵀ·op(A)ᵀ: so the call swaps A and B, m and n,
/// and keeps each operand's own transpose flag and leading dimension.
final class OneDNNGEMM: GEMMProvider {
    static let shared = OneDNNGEMM()

    let info: GEMMProviderInfo
    let hasAVX2Kernels: Bool
    var threadsItself: Bool { true }

    private init() {
        let v = dnnl_version().pointee
        let isa = dnnl_get_effective_cpu_isa().rawValue
        // The ISA values are bit sets, each including the ones below it (oneDNN 2.x and 3.x alike).
        hasAVX2Kernels = isa & 0x7 == 0x7
        info = GEMMProviderInfo(library: "oneDNN", version: "\(v.major).\(v.minor).\(v.patch)",
                                isa: Self.isaName(isa), warning: nil)
    }

    func run(_ call: GEMMCall, threads: Int) throws {
        // OpenMP's thread count belongs to the calling thread, so set it on every call: a panel
        // worker runs one thread, the backend's own thread may run several.
        omp_set_num_threads(Int32(threads))
        let status = dnnl_sgemm(
            CChar(UInt8(ascii: call.transposeB ? "T" : "N")), CChar(UInt8(ascii: call.transposeA ? "T" : "N")),
            Int64(call.n), Int64(call.m), Int64(call.k), call.alpha,
            call.b, Int64(call.ldb), call.a, Int64(call.lda), call.beta, call.c, Int64(call.ldc))
        // The checked entry points rule out invalid arguments; what is left is running out of memory.
        if status != dnnl_success { throw BackendError.device("dnnl_sgemm failed with status \(status.rawValue)") }
    }

    /// oneDNN's own names (`ONEDNN_VERBOSE` prints the same), from 2.6's values.
    static func isaName(_ raw: UInt32) -> String {
        switch raw {
        // Below SSE4.1 oneDNN generates no kernels and runs its portable C++ ones.
        case 0x0: "no JIT (reference kernels)"
        case 0x1: "sse41"
        case 0x3: "avx"
        case 0x7: "avx2"
        case 0x407, 0x17: "avx2_vnni"
        case 0x27: "avx512_core"
        case 0x67: "avx512_core_vnni"
        case 0xe7: "avx512_core_bf16"
        case 0x3e7: "avx512_core_amx"
        default: raw & 0x27 == 0x27 ? "avx512 (0x\(String(raw, radix: 16)))" : "0x\(String(raw, radix: 16))"
        }
    }
}
