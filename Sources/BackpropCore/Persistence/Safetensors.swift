import Foundation

/// The safetensors container (https://github.com/huggingface/safetensors), as PyTorch, NumPy,
/// MLX and tinygrad read it:
///
///     [8 bytes: N, little-endian UInt64] [N bytes: JSON header] [data]
///
/// The header maps each tensor name to `{"dtype": "F32", "shape": [out, in],
/// "data_offsets": [begin, end]}` (offsets relative to the start of the data, little-endian,
/// row-major), plus an optional `"__metadata__"` object of string → string. The tensors must
/// tile the data exactly: no gap, no overlap, nothing left over.
public struct Safetensors: Sendable, Equatable {
    /// One tensor: its element type, shape and raw data.
    public struct Tensor: Sendable, Equatable {
        /// The element type as the format names it: `F32`, `F16`, `I64`, … (see ``elementSizes``).
        public var dtype: String
        /// Sizes, outermost first (row-major); `[]` is a scalar.
        public var shape: [Int]
        /// Raw little-endian bytes, `shape.product · size(dtype)` of them.
        public var bytes: [UInt8]

        /// A tensor as given: ``Safetensors/serialized()`` writes it unchecked, and
        /// ``Safetensors/parse(_:file:)`` refuses bytes that do not match the shape and dtype.
        public init(dtype: String, shape: [Int], bytes: [UInt8]) {
            self.dtype = dtype; self.shape = shape; self.bytes = bytes
        }

        /// An F32 tensor from row-major values.
        public init(shape: [Int], floats: [Float]) {
            var bytes = [UInt8]()
            bytes.reserveCapacity(floats.count * 4)
            for f in floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes += $0 } }
            self.init(dtype: "F32", shape: shape, bytes: bytes)
        }

        /// The values of an F32 tensor, row-major; nil for any other dtype.
        public var floats: [Float]? {
            guard dtype == "F32" else { return nil }
            return stride(from: 0, to: bytes.count - 3, by: 4).map { o in
                Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8
                                  | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
            }
        }
    }

    /// Tensors in file order (the order of their data).
    public var tensors: [(name: String, tensor: Tensor)]
    /// The `__metadata__` object: free-form string pairs.
    public var metadata: [String: String]

    /// A container; the names should be unique, as the header is a JSON object keyed by them.
    public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) {
        self.tensors = tensors; self.metadata = metadata
    }

    /// The tensor called `name`, or nil.
    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

    /// Same metadata, and the same tensors in the same order.
    public static func == (a: Safetensors, b: Safetensors) -> Bool {
        a.metadata == b.metadata && a.tensors.map(\.name) == b.tensors.map(\.name)
            && a.tensors.map(\.tensor) == b.tensors.map(\.tensor)
    }

    /// Bytes per element of every dtype the format defines.
    public static let elementSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
        "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
    ]

    /// The reference implementation refuses headers above 100 MB; so do we, before allocating.
    public static let maximumHeaderSize = 100_000_000

    // MARK: Writing

    /// The file's bytes. The header is padded with spaces to a multiple of 8 bytes so the
    /// data starts aligned, as the reference writer does.
    public func serialized() throws -> [UInt8] {
        var entries = [String: HeaderEntry]()
        var offset = 0
        for (name, t) in tensors {
            entries[name] = HeaderEntry(dtype: t.dtype, shape: t.shape,
                                        dataOffsets: [offset, offset + t.bytes.count])
            offset += t.bytes.count
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var header = Array(try encoder.encode(Header(metadata: metadata, entries: entries)))
        while header.count % 8 != 0 { header.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out += $0 }
        out += header
        for (_, t) in tensors { out += t.bytes }
        return out
    }

    // MARK: Reading

    /// Parses a whole file's bytes. Every error names `file`, the tensor or field, and what
    /// was expected; nothing is allocated beyond the size of `bytes`.
    public static func parse(_ bytes: [UInt8], file: String) throws -> Safetensors {
        func fail(_ detail: String) -> ModelFileError { .malformed(file: file, detail: detail) }
        guard bytes.count >= 8 else {
            throw fail("too short for a safetensors file (\(bytes.count) bytes; expected an 8-byte header length, a JSON header and the data)")
        }
        let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard length <= UInt64(maximumHeaderSize) else {
            // Most often another kind of file given where a model was expected: say which if it shows.
            let kind = bytes.first == UInt8(ascii: "{") || bytes.first == UInt8(ascii: "[") ? "it starts like JSON: not a safetensors file"
                : bytes.starts(with: [0x1f, 0x8b]) ? "it is gzip-compressed: not a safetensors file"
                : bytes.prefix(64).allSatisfy({ $0 == 9 || $0 == 10 || $0 == 13 || (32..<127).contains($0) }) ? "it starts like text (a CSV?): not a safetensors file"
                : "not a safetensors file?"
            throw fail("header length \(length) is absurd (the limit is \(maximumHeaderSize) bytes): \(kind)")
        }
        let headerEnd = 8 + Int(length)
        guard headerEnd <= bytes.count else {
            throw fail("header length \(length) runs past the end of the file (\(bytes.count - 8) bytes after the length field)")
        }
        guard length >= 2, bytes[8] == UInt8(ascii: "{") else {
            throw fail("the header does not start with '{': expected a JSON object")
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[8..<headerEnd]))
        } catch let problem as HeaderProblem {
            throw fail("header: \(problem.message)")
        } catch let DecodingError.dataCorrupted(context) {
            let reason = (context.underlyingError as NSError?)?.localizedDescription ?? context.debugDescription
            throw fail("header is not valid JSON: \(reason)")
        } catch {
            throw fail("header is not a JSON object of tensors")
        }

        let dataSize = bytes.count - headerEnd
        var placed = [(name: String, entry: HeaderEntry)]()
        for (name, entry) in header.entries.sorted(by: { $0.key < $1.key }) {   // a stable first error
            let what = "tensor \"\(name)\""
            guard let size = elementSizes[entry.dtype] else {
                throw fail("\(what): unknown dtype \"\(entry.dtype)\" (expected one of \(elementSizes.keys.sorted().joined(separator: ", ")))")
            }
            var count = 1
            for d in entry.shape {
                guard d >= 0 else { throw fail("\(what): negative dimension \(d) in shape \(entry.shape)") }
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, product <= dataSize else {
                    throw fail("\(what): shape \(entry.shape) needs more bytes than the file's \(dataSize) bytes of data")
                }
                count = product
            }
            let begin = entry.dataOffsets[0], end = entry.dataOffsets[1]
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw fail("\(what): data_offsets [\(begin), \(end)] out of range: expected 0 ≤ begin ≤ end ≤ \(dataSize) (the data size)")
            }
            guard end - begin == count * size else {
                throw fail("\(what): data_offsets [\(begin), \(end)] hold \(end - begin) bytes but shape \(entry.shape) of \(entry.dtype) needs \(count * size)")
            }
            placed.append((name, entry))
        }
        placed.sort { ($0.entry.dataOffsets[0], $0.entry.dataOffsets[1], $0.name) < ($1.entry.dataOffsets[0], $1.entry.dataOffsets[1], $1.name) }
        var next = 0
        for (name, entry) in placed {
            let begin = entry.dataOffsets[0]
            if begin < next {
                throw fail("tensor \"\(name)\": data_offsets [\(begin), \(entry.dataOffsets[1])] overlap the previous tensor, which ends at \(next)")
            }
            if begin > next {
                throw fail("tensor \"\(name)\": data_offsets start at \(begin), leaving bytes \(next)..<\(begin) unused: expected the tensors to cover the data without gaps")
            }
            next = entry.dataOffsets[1]
        }
        guard next == dataSize else {
            throw fail("\(dataSize - next) bytes of data after the last tensor: expected the tensors to cover the data exactly")
        }
        return Safetensors(
            tensors: placed.map { (name, e) in
                (name, Tensor(dtype: e.dtype, shape: e.shape,
                              bytes: Array(bytes[(headerEnd + e.dataOffsets[0])..<(headerEnd + e.dataOffsets[1])])))
            },
            metadata: header.metadata)
    }
}

// MARK: The JSON header

private struct HeaderEntry: Codable {
    var dtype: String
    var shape: [Int]
    var dataOffsets: [Int]

    init(dtype: String, shape: [Int], dataOffsets: [Int]) {
        self.dtype = dtype; self.shape = shape; self.dataOffsets = dataOffsets
    }

    enum CodingKeys: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }

    /// Field by field, so a bad header says which field of which tensor is wrong.
    init(from decoder: Decoder) throws {
        let name = decoder.codingPath.last?.stringValue ?? "?"
        func problem(_ m: String) -> HeaderProblem { HeaderProblem(message: "tensor \"\(name)\": \(m)") }
        guard let c = try? decoder.container(keyedBy: CodingKeys.self) else {
            throw problem("expected an object with dtype, shape and data_offsets")
        }
        guard let dtype = try? c.decode(String.self, forKey: .dtype) else {
            throw problem("field \"dtype\" is missing or not a string (expected e.g. \"F32\")")
        }
        guard let shape = try? c.decode([Int].self, forKey: .shape) else {
            throw problem("field \"shape\" is missing or not a list of integers")
        }
        guard let offsets = try? c.decode([Int].self, forKey: .dataOffsets), offsets.count == 2 else {
            throw problem("field \"data_offsets\" is missing or not a pair of integers [begin, end]")
        }
        self.init(dtype: dtype, shape: shape, dataOffsets: offsets)
    }
}

private struct Header: Codable {
    var metadata: [String: String]
    var entries: [String: HeaderEntry]

    init(metadata: [String: String], entries: [String: HeaderEntry]) {
        self.metadata = metadata; self.entries = entries
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    static let metadataKey = "__metadata__"

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        var metadata = [String: String](), entries = [String: HeaderEntry]()
        for key in c.allKeys {
            if key.stringValue == Self.metadataKey {
                guard let m = try? c.decode([String: String].self, forKey: key) else {
                    throw HeaderProblem(message: "\"__metadata__\" must be an object mapping strings to strings")
                }
                metadata = m
            } else {
                entries[key.stringValue] = try c.decode(HeaderEntry.self, forKey: key)
            }
        }
        self.init(metadata: metadata, entries: entries)
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        if !metadata.isEmpty { try c.encode(metadata, forKey: Key(stringValue: Self.metadataKey)) }
        for (name, entry) in entries { try c.encode(entry, forKey: Key(stringValue: name)) }
    }
}

private struct HeaderProblem: Error { var message: String }

/// A model file that cannot be read or written.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    /// The content is not what the format requires; names the file, the tensor or field, and
    /// what was expected.
    case malformed(file: String, detail: String)
    /// The file could not be opened or read (missing, a folder, not permitted).
    case unreadable(file: String, reason: String)
    /// The file could not be written; the previous file, if any, is intact.
    case unwritable(file: String, reason: String)

    /// The message, naming the file.
    public var description: String {
        switch self {
        case let .malformed(file, detail): "\(file): \(detail)"
        case let .unreadable(file, reason): "cannot read \(file): \(reason)"
        case let .unwritable(file, reason): "cannot write \(file): \(reason)"
        }
    }
}
