import BackpropCore
import CPUKernels
import Foundation

/// One column-major single-precision product `C ← α·op(A)·op(B) + β·C`, `op(A)` m×k, `op(B)` k×n.
/// The pointers cross into worker threads: each worker writes a disjoint part of C and only
/// reads A and B, and the caller waits for every worker before it returns.
struct GEMMCall: @unchecked Sendable {
    var transposeA: Bool, transposeB: Bool
    var m: Int, n: Int, k: Int
    var alpha: Float
    var a: UnsafePointer<Float>, lda: Int
    var b: UnsafePointer<Float>, ldb: Int
    var beta: Float
    var c: UnsafeMutablePointer<Float>, ldc: Int

    var flops: Int { 2 * m * n * k }
}

/// A library that runs SGEMM on this machine's CPU. Two today: oneDNN (kernels generated for the
/// instruction set it finds) and OpenBLAS (kernels picked by CPU model, or by `OPENBLAS_CORETYPE`).
protocol GEMMProvider: AnyObject, Sendable {
    /// Library, version and the instruction set its kernels use, for `backprop devices` and `bench`.
    var info: GEMMProviderInfo { get }
    /// Whether `run(_:threads:)` can use more than one thread itself (else only panels are parallel).
    var threadsItself: Bool { get }
    /// One call that uses at most `threads` threads, the calling one included; safe to call
    /// from several threads at once with `threads: 1`. Throws only what the library reports.
    func run(_ call: GEMMCall, threads: Int) throws
}

/// What `devices` and `bench` print about a provider.
public struct GEMMProviderInfo: Sendable, Equatable {
    public var library: String
    public var version: String
    /// The instruction set its kernels use: oneDNN's effective ISA, or OpenBLAS's core name.
    public var isa: String
    /// A line for the user when the library runs below what this CPU can do.
    public var warning: String?

    public var summary: String { "\(library) \(version), \(isa)" }
}

/// Which provider the CPU backend uses: `BACKPROP_GEMM=onednn|openblas` forces one; by default
/// oneDNN where its kernels use AVX2 or better (every x86-64 since 2013), else OpenBLAS, unless
/// OpenBLAS's kernels cannot run on this CPU at all.
public enum GEMMChoice: String, CaseIterable, Sendable {
    case onednn, openblas

    public static let variable = "BACKPROP_GEMM"

    /// The choice named in `environment`, or nil when the variable is unset or empty (automatic).
    /// A value that names no provider throws the valid choices.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> GEMMChoice? { try environmentChoice(variable, environment) }

    /// The automatic choice: oneDNN's kernels at AVX2 or better beat or match OpenBLAS's at every
    /// step shape measured (Zen 4, Zen 5); below AVX2 OpenBLAS covers more old CPUs, where it can
    /// run them (oneDNN's reference kernels are slow but run everywhere).
    static var automatic: GEMMChoice {
        OneDNNGEMM.shared.hasAVX2Kernels || OpenBLASGEMM.shared.unusable != nil ? .onednn : .openblas
    }

    /// Why this provider cannot run on this CPU, or nil.
    var unusable: String? { self == .openblas ? OpenBLASGEMM.shared.unusable : nil }

    /// The provider's library, version and ISA, without its warning going to stderr.
    var info: GEMMProviderInfo {
        switch self {
        case .onednn: OneDNNGEMM.shared.info
        case .openblas: OpenBLASGEMM.shared.info
        }
    }

    func makeProvider() -> any GEMMProvider {
        switch self {
        case .onednn: OneDNNGEMM.shared
        case .openblas: OpenBLASGEMM.warnedOnce
        }
    }
}

/// How a library that runs its own threads (oneDNN) uses several: `BACKPROP_GEMM_THREADING=library`
/// (default: its OpenMP team, fastest on a quiet machine) or `panels` (our panel threads, one
/// library call each: slower on small products, but no thread spins waiting, which holds up
/// better on a machine shared with other busy processes).
public enum GEMMThreading: String, CaseIterable, Sendable {
    case library, panels

    public static let variable = "BACKPROP_GEMM_THREADING"

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> GEMMThreading? { try environmentChoice(variable, environment) }
}

/// The case of `T` that `variable` names (case-insensitive), nil when unset or empty; any other
/// value throws the valid choices.
func environmentChoice<T: RawRepresentable & CaseIterable>(_ variable: String, _ environment: [String: String])
    throws -> T? where T.RawValue == String {
    guard let text = environment[variable]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
    guard let choice = T(rawValue: text.lowercased()) else {
        throw BackendError.invalidChoice(variable: variable, value: text,
                                         valid: T.allCases.map(\.rawValue).joined(separator: ", "))
    }
    return choice
}
