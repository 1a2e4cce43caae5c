import Foundation

/// Where Backprop keeps what it learns about a machine: compiled OpenCL programs, tuned GEMM
/// tilings, the `auto` backend choice. `BACKPROP_CACHE_DIR`, else `~/.cache/backprop`; nil when
/// neither is set (then nothing is cached).
public enum CacheDirectory {
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let dir = environment["BACKPROP_CACHE_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir, isDirectory: true) }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return URL(fileURLWithPath: home, isDirectory: true).appending(path: ".cache/backprop", directoryHint: .isDirectory)
    }
}
