import BackpropCore
import Foundation

/// One GEMM `C(m×n) ← op(A)·op(B)` with `op(A)` `m × k`, as the backend is called with it.
public struct GemmShape: Sendable, Hashable, Codable, CustomStringConvertible {
    public var transposeA: Bool, transposeB: Bool
    public var m: Int, n: Int, k: Int

    public init(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false) {
        (self.m, self.n, self.k, self.transposeA, self.transposeB) = (m, n, k, transposeA, transposeB)
    }

    /// `NN 128×128×784`.
    public var description: String { "\(transposeA ? "T" : "N")\(transposeB ? "T" : "N") \(m)×\(n)×\(k)" }

    /// Floating-point operations: `2mnk`.
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    /// The class the tuned tiling is stored under.
    public var shapeClass: GemmShapeClass { GemmShapeClass(self) }

    /// The products of one training step of an MLP with layer `sizes` (inputs first) at
    /// `batch` columns, in the order `Network` runs them: every layer's forward `W·X`
    /// (out × batch × in), its weight gradient `δ·Xᵀ` (out × in × batch) and, below the top of
    /// the first layer, the error `Wᵀ·δ` (in × batch × out).
    public static func trainingStep(sizes: [Int], batch: Int) -> [GemmShape] {
        guard sizes.count >= 2, batch > 0 else { return [] }
        var shapes: [GemmShape] = []
        for l in 1..<sizes.count { shapes.append(GemmShape(m: sizes[l], n: batch, k: sizes[l - 1])) }
        for l in stride(from: sizes.count - 1, through: 1, by: -1) {
            shapes.append(GemmShape(m: sizes[l], n: sizes[l - 1], k: batch, transposeB: true))
            if l > 1 { shapes.append(GemmShape(m: sizes[l - 1], n: batch, k: sizes[l], transposeA: true)) }
        }
        return shapes
    }

    /// What `backprop tune` tunes without a network: the steps of 784-128-10 and 784-512-256-10
    /// at batch 128, `bench`'s three MLP products and its 1024³ square.
    public static let defaultSet: [GemmShape] = {
        var shapes = trainingStep(sizes: [784, 128, 10], batch: 128) + trainingStep(sizes: [784, 512, 256, 10], batch: 128)
        shapes += [GemmShape(m: 784, n: 128, k: 128, transposeA: true), GemmShape(m: 1024, n: 1024, k: 1024)]
        return shapes
    }()
}

/// Shapes that share a tuned tiling: the same transposes, and `m`, `n`, `k` each within a
/// factor √2 of the same power of two (784 and 1024 share a class; 128 and 256 do not).
public struct GemmShapeClass: Sendable, Hashable, CustomStringConvertible {
    public var transposeA: Bool, transposeB: Bool
    /// `round(log₂ x)` of `m`, `n`, `k`.
    public var m: Int, n: Int, k: Int

    public init(_ shape: GemmShape) {
        func bucket(_ x: Int) -> Int { Int(log2(Double(max(1, x))).rounded()) }
        (transposeA, transposeB) = (shape.transposeA, shape.transposeB)
        (m, n, k) = (bucket(shape.m), bucket(shape.n), bucket(shape.k))
    }

    /// `NN/m7/n7/k10`: the key in the tuning file.
    public var description: String { "\(transposeA ? "T" : "N")\(transposeB ? "T" : "N")/m\(m)/n\(n)/k\(k)" }

    /// The inverse of `description`; nil for anything else.
    init?(key: String) {
        let parts = key.split(separator: "/").map(String.init)
        guard parts.count == 4, parts[0].count == 2, parts[0].allSatisfy({ $0 == "N" || $0 == "T" }),
              let m = Self.number(parts[1], "m"), let n = Self.number(parts[2], "n"), let k = Self.number(parts[3], "k")
        else { return nil }
        (transposeA, transposeB) = (parts[0].first == "T", parts[0].last == "T")
        (self.m, self.n, self.k) = (m, n, k)
    }

    private static func number(_ s: String, _ prefix: Character) -> Int? {
        guard s.first == prefix, let v = Int(s.dropFirst()), (0...40).contains(v) else { return nil }
        return v
    }
}

/// The tuned tilings of one device, as `backprop tune` writes them: a JSON file beside the
/// compiled programs (`BACKPROP_CACHE_DIR`), valid for one device name, driver version and
/// `gemm.cl`. A file for another driver or another `gemm.cl` is ignored (its tilings were timed
/// and verified on other code).
public struct GemmTuningFile: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        /// `GemmShapeClass.description`, e.g. `NN/m7/n7/k10`.
        public var shapeClass: String
        /// The product it was timed on.
        public var shape: GemmShape
        public var tiling: GemmTiling
        /// Median GFLOP/s of the winner, and of the tiling the backend picks without tuning.
        public var gflops: Double
        public var defaultTiling: GemmTiling
        public var defaultGflops: Double
    }

    /// Bumped when the layout changes; another format is ignored.
    public var format = GemmTuningFile.currentFormat
    public var device: String
    public var driver: String
    /// FNV-1a 64 of `Kernels/gemm.cl`, hexadecimal.
    public var kernelHash: String
    /// When it was written (ISO 8601), for people.
    public var created: String
    public var entries: [Entry]

    public static let currentFormat = 1

    /// The hash of the `gemm.cl` this binary carries.
    static var currentKernelHash: String { String(fnv1a64(KernelSources.files["gemm.cl"] ?? ""), radix: 16) }
}

extension ProgramCache {
    /// `tuning-<device>-<hash of device and driver>.json` in the cache directory.
    func tuningFile(device: String, driver: String) -> URL? {
        let key = fnv1a64([device, driver].joined(separator: "\u{0}"))
        let safeName = String(device.map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(40))
        return directory?.appending(path: "tuning-\(safeName)-\(String(key, radix: 16)).json")
    }

    /// What reading the tuning file for a device found.
    enum TuningLookup: Equatable {
        case missing
        case loaded(GemmTuningFile)
        /// A file is there but is not used; the reason says why (a warning for people).
        case ignored(String)
    }

    /// The tuning file of this device, driver and `gemm.cl` (`kernelHash`), checked: unreadable
    /// or undecodable JSON, another format, device, driver or kernel are `.ignored` with the
    /// reason; so is an entry whose tiling `gemm.cl` cannot run or whose class does not parse.
    func loadTuning(device: String, driver: String, kernelHash: String = GemmTuningFile.currentKernelHash) -> TuningLookup {
        guard let url = tuningFile(device: device, driver: driver),
              FileManager.default.fileExists(atPath: url.path) else { return .missing }
        let file: GemmTuningFile
        do {
            file = try JSONDecoder().decode(GemmTuningFile.self, from: Data(contentsOf: url))
        } catch {
            return .ignored("\(url.path) is not a tuning file (\(Self.shortReason(error))); run `backprop tune` again")
        }
        if file.format != GemmTuningFile.currentFormat {
            return .ignored("\(url.path) has format \(file.format), this build reads \(GemmTuningFile.currentFormat); run `backprop tune` again")
        }
        if file.device != device || file.driver != driver {
            return .ignored("\(url.path) was tuned for \(file.device), driver \(file.driver); run `backprop tune` again")
        }
        if file.kernelHash != kernelHash {
            return .ignored("\(url.path) was tuned for another Kernels/gemm.cl (hash \(file.kernelHash), this build's is \(kernelHash)); run `backprop tune` again")
        }
        for entry in file.entries {
            if GemmShapeClass(key: entry.shapeClass) == nil {
                return .ignored("\(url.path): shape class \"\(entry.shapeClass)\" is not of the form NN/m7/n7/k10; run `backprop tune` again")
            }
            if let problem = entry.tiling.problem {
                return .ignored("\(url.path): tiling \(entry.tiling) for \(entry.shapeClass): \(problem); run `backprop tune` again")
            }
        }
        return .loaded(file)
    }

    /// Writes atomically; throws where the directory cannot be made or written.
    func storeTuning(_ file: GemmTuningFile) throws -> URL {
        guard let url = tuningFile(device: file.device, driver: file.driver) else {
            throw BackendError.device("no cache directory: set BACKPROP_CACHE_DIR or HOME to keep the tuning")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(file).write(to: url, options: .atomic)
        return url
    }

    private static func shortReason(_ error: Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted: return "not valid JSON"
            case let .keyNotFound(key, _): return "no \"\(key.stringValue)\""
            case let .typeMismatch(_, context), let .valueNotFound(_, context):
                return "unexpected value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
            @unknown default: return "undecodable"
            }
        }
        return "unreadable"
    }
}

/// How the backend picks GEMM tilings: `BACKPROP_OPENCL_TILING`.
/// - `auto` (default): the tuning file of the device when there is one, else `default`;
/// - `default`: the tilings of the device's type by shape, ignoring any tuning file;
/// - `gpu`, `cpu`: the GPU or CPU family whatever the device's type (e.g. the CPU tiling on
///   Oclgrind, which reports itself as a GPU), ignoring any tuning file.
enum TilingMode: String, CaseIterable, Sendable {
    case auto, `default`, gpu, cpu

    static let variable = "BACKPROP_OPENCL_TILING"

    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TilingMode {
        guard let raw = environment[variable]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return .auto }
        guard let mode = TilingMode(rawValue: raw.lowercased()) else {
            throw BackendError.invalidChoice(variable: variable, value: raw, valid: allCases.map(\.rawValue).joined(separator: ", "))
        }
        return mode
    }

    /// The family to use on a device of this type.
    func isGPU(device isGPU: Bool) -> Bool {
        switch self {
        case .auto, .default: isGPU
        case .gpu: true
        case .cpu: false
        }
    }

    var readsTuningFile: Bool { self == .auto }
}
