import CZlib
import Foundation

/// Reads a whole file into memory through zlib, which reads `.gz` and plain files alike.
/// `limit` bounds the size so a hostile `.gz` cannot make us allocate without end.
func readPossiblyCompressedFile(_ path: String, limit: Int = 1 << 31) throws -> [UInt8] {
    var bytes = [UInt8]()
    try forEachChunk(of: path) { chunk in
        bytes += chunk
        if bytes.count > limit {
            throw DataError.malformed(file: path, detail: "larger than \(limit) bytes")
        }
    }
    return bytes
}

/// Streams a file (`.gz` or plain) through `body` one chunk at a time, so a reader can keep
/// only what it parses, never the whole text.
func forEachChunk(of path: String, chunkSize: Int = 1 << 20,
                  _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw DataError.unreadable(file: path, reason: "no such file")
    }
    guard !isDirectory.boolValue else { throw DataError.unreadable(file: path, reason: "it is a directory") }
    guard let file = gzopen(path, "rb") else {
        throw DataError.unreadable(file: path, reason: String(cString: strerror(errno)))
    }
    defer { gzclose(file) }
    var chunk = [UInt8](repeating: 0, count: chunkSize)
    while true {
        let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
        if n < 0 {
            var code: Int32 = 0
            let message = gzerror(file, &code).map { String(cString: $0) } ?? "read error"
            throw DataError.malformed(file: path, detail: "corrupt or truncated data (\(message))")
        }
        if n == 0 { break }
        try chunk.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<Int(n)])) }
    }
}
