import Foundation

/// Reads a whole file into memory; a gzip file (magic bytes 1f 8b) is inflated on the way.
/// `limit` bounds the size so a hostile `.gz` cannot make us allocate without end.
func readPossiblyCompressedFile(_ path: String, limit: Int = 1 << 31) throws -> [UInt8] {
    var bytes = [UInt8]()
    try forEachChunk(of: path) { chunk in
        bytes += chunk
        if bytes.count > limit { throw DataError.malformed(file: path, detail: "larger than \(limit) bytes") }
    }
    return bytes
}

/// Streams a file (gzip or plain) through `body` one chunk at a time, so a reader can keep
/// only what it parses, never the whole text.
func forEachChunk(of path: String, chunkSize: Int = 1 << 20,
                  _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw DataError.unreadable(file: path, reason: "no such file")
    }
    guard !isDirectory.boolValue else { throw DataError.unreadable(file: path, reason: "it is a directory") }
    guard let handle = FileHandle(forReadingAtPath: path) else {
        throw DataError.unreadable(file: path, reason: String(cString: strerror(errno)))
    }
    defer { try? handle.close() }
    let magic = (try? handle.read(upToCount: 2)).map { [UInt8]($0) } ?? []
    if magic == [0x1f, 0x8b] {
        // zlib reopens the file: a pipe (`--input /dev/stdin`, `<(…)`) has no second start.
        guard (try? handle.seek(toOffset: 0)) != nil else {
            throw DataError.unreadable(file: path, reason: "gzip data from a pipe is not read; decompress it first (gunzip -c)")
        }
        return try Zlib.forEachChunk(of: path, chunkSize: chunkSize, body)
    }
    do {
        // The bytes read to tell gzip apart come first: a pipe cannot seek back to them.
        try magic.withUnsafeBufferPointer { if !$0.isEmpty { try body($0) } }
        while let data = try handle.read(upToCount: chunkSize), !data.isEmpty {
            try data.withUnsafeBytes { try body($0.bindMemory(to: UInt8.self)) }
        }
    } catch let error as DataError {
        throw error
    } catch {
        throw DataError.unreadable(file: path, reason: error.localizedDescription)
    }
}
