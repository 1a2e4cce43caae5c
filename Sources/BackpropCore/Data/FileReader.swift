import Foundation

/// Reads a whole file into memory; a gzip file (magic bytes 1f 8b) is inflated on the way.
/// `limit` bounds the size so a hostile `.gz` cannot make us allocate without end.
func readPossiblyCompressedFile(_ path: String, limit: Int = 1 << 31) throws -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw DataError.unreadable(file: path, reason: "no such file")
    }
    guard !isDirectory.boolValue else { throw DataError.unreadable(file: path, reason: "it is a directory") }
    guard let handle = FileHandle(forReadingAtPath: path) else {
        throw DataError.unreadable(file: path, reason: String(cString: strerror(errno)))
    }
    let magic = (try? handle.read(upToCount: 2)).map { [UInt8]($0) } ?? []
    try? handle.close()
    if magic == [0x1f, 0x8b] { return try Zlib.inflateFile(path, limit: limit) }
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
        throw DataError.unreadable(file: path, reason: error.localizedDescription)
    }
    guard data.count <= limit else { throw DataError.malformed(file: path, detail: "larger than \(limit) bytes") }
    return [UInt8](data)
}
