import Foundation

/// zlib's gzip reader, opened at run time: `BackpropCore` links no system library, and
/// `libz.so.1` is on every Linux system (Essential in Debian), so the first `.gz` file loads it.
/// Threading: the symbols are resolved once (a `static let`, initialized thread-safely) and
/// never change; each call opens its own `gzFile`, so concurrent reads are safe.
enum Zlib {
    private typealias Open = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>) -> OpaquePointer?
    private typealias Read = @convention(c) (OpaquePointer, UnsafeMutableRawPointer?, UInt32) -> Int32
    private typealias Close = @convention(c) (OpaquePointer) -> Int32
    private typealias ErrorText = @convention(c) (OpaquePointer, UnsafeMutablePointer<Int32>) -> UnsafePointer<CChar>?

    private struct Symbols: @unchecked Sendable {  // immutable C function pointers
        let open: Open, read: Read, close: Close, error: ErrorText
    }

    private static let symbols: Result<Symbols, DataError> = {
        guard let library = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL) ?? dlopen("libz.so", RTLD_NOW | RTLD_LOCAL) else {
            return .failure(.unreadable(file: "libz.so.1", reason: "zlib is needed for .gz files (apt-get install zlib1g)"))
        }
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            dlsym(library, name).map { unsafeBitCast($0, to: type) }
        }
        guard let open = symbol("gzopen", as: Open.self), let read = symbol("gzread", as: Read.self),
              let close = symbol("gzclose", as: Close.self), let error = symbol("gzerror", as: ErrorText.self) else {
            return .failure(.unreadable(file: "libz.so.1", reason: "it lacks gzopen/gzread/gzclose/gzerror"))
        }
        return .success(Symbols(open: open, read: read, close: close, error: error))
    }()

    /// Inflates the gzip file at `path` through `body`, one chunk at a time.
    static func forEachChunk(of path: String, chunkSize: Int = 1 << 20,
                             _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let z = try symbols.get()
        guard let file = z.open(path, "rb") else {
            throw DataError.unreadable(file: path, reason: String(cString: strerror(errno)))
        }
        var open = true
        defer { if open { _ = z.close(file) } }
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let n = chunk.withUnsafeMutableBytes { z.read(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 {
                var code: Int32 = 0
                let message = z.error(file, &code).map { String(cString: $0) } ?? "read error"
                throw DataError.malformed(file: path, detail: "corrupt or truncated data (\(message))")
            }
            if n == 0 { break }
            try chunk.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<Int(n)])) }
        }
        // gzread ends a cut stream quietly, as at its end; gzclose tells the two apart (its
        // trailer, with the length and CRC-32 it checks, never came).
        open = false
        if z.close(file) == zBufferError {
            throw DataError.malformed(file: path, detail: "the compressed data ends early: the file is truncated (an interrupted download or copy?)")
        }
    }

    /// `Z_BUF_ERROR`: what `gzclose` returns when the last read ended inside a gzip stream.
    private static let zBufferError: Int32 = -5
}
