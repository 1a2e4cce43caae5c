import BackpropCore
import Foundation

/// Compiled program binaries on disk, so a process builds its kernels from source only the first
/// time on a given device and driver. Files live under `BACKPROP_CACHE_DIR` (default
/// `~/.cache/backprop`), named by a hash of device name, driver version, build options and
/// source. Every failure — no directory, unwritable, truncated or foreign file — reads as a
/// miss: the caller compiles from source and nothing is reported.
struct ProgramCache: Sendable {
    let directory: URL?

    init(directory: URL?) { self.directory = directory }

    /// The directory `BACKPROP_CACHE_DIR` names, or `~/.cache/backprop` (``CacheDirectory``).
    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> ProgramCache {
        ProgramCache(directory: CacheDirectory.fromEnvironment(environment))
    }

    /// The file for one (device, driver, options, source).
    func file(device: String, driver: String, options: String, source: String) -> URL? {
        let key = fnv1a64([device, driver, options, source].joined(separator: "\u{0}"))
        let safeName = String(device.map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(40))
        return directory?.appending(path: "\(safeName)-\(String(key, radix: 16)).clbin")
    }

    /// The cached binary, or nil if missing or damaged.
    func load(_ file: URL) -> [UInt8]? {
        guard let data = try? Data(contentsOf: file), data.count > Self.headerSize else { return nil }
        let bytes = [UInt8](data)
        guard bytes.prefix(4).elementsEqual(Self.magic) else { return nil }
        let payload = Array(bytes.dropFirst(Self.headerSize))
        let stored = bytes[4..<12].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        return stored == fnv1a64(payload) ? payload : nil
    }

    /// Writes atomically (temporary file, then rename), ignoring every error.
    func store(_ binary: [UInt8], to file: URL) {
        guard !binary.isEmpty else { return }
        let sum = fnv1a64(binary)
        var bytes = Self.magic
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: sum >> (8 * UInt64($0))) }
        bytes += binary
        let directory = file.deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? Data(bytes).write(to: file, options: .atomic)
    }

    /// "BPCL", then the 64-bit FNV-1a of the payload, little-endian.
    static let magic: [UInt8] = Array("BPCL".utf8)
    static let headerSize = 12
}

/// FNV-1a, 64-bit: a stable hash (Swift's `Hasher` is seeded per process).
func fnv1a64<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    return h
}

func fnv1a64(_ text: String) -> UInt64 { fnv1a64(text.utf8) }
