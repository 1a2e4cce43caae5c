import Foundation

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one.
public func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    try AtomicFile.write(bytes, to: path)
}

/// Throws unless `path` can be written by ``writeFileAtomically(_:to:)``: its folder exists and
/// takes a new file, and `path` is not a folder. Checked before a long run rather than after
/// its first epoch; removes stale temporary files of `path` on the way.
public func checkOutputPath(_ path: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw ModelFileError.unwritable(file: path, reason: "it is a folder")
    }
    let probe = AtomicFile.temporaryName(for: path, suffix: "check")
    do { try AtomicFile.write([], to: probe, sync: false) } catch let ModelFileError.unwritable(_, reason) {
        // The user named `path`, not the probe beside it.
        throw ModelFileError.unwritable(file: path, reason: reason)
    }
    unlink(probe)
}

/// Writes that cannot tear: the bytes go to a temporary file in the target's folder, which is
/// flushed to disk (`fsync`) and then renamed over the target; the folder is synced last so the
/// rename itself survives a crash. A reader sees the old file or the new one, never a mix, and
/// a failure at any step leaves the old file untouched and no temporary file behind.
enum AtomicFile {
    /// `beforeRename` runs after the data is on disk and before the rename (tests inject a
    /// failure there to show that the previous file survives).
    static func write(_ bytes: [UInt8], to path: String, sync: Bool = true,
                      beforeRename: () throws -> Void = {}) throws {
        removeStaleTemporaries(of: path)
        func fail(_ what: String, _ code: Int32 = errno) -> ModelFileError {
            .unwritable(file: path, reason: "\(what): \(String(cString: strerror(code)))")
        }
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var template = Array(url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-XXXXXX").path.utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw fail("cannot create a temporary file in \(folder)") }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(fd) }
            var written = 0
            try bytes.withUnsafeBytes { raw in
                while written < raw.count {
                    let n = Foundation.write(fd, raw.baseAddress.map { $0 + written }, raw.count - written)
                    if n < 0, errno == EINTR { continue }
                    guard n > 0 else { throw fail("write failed after \(written) of \(raw.count) bytes") }
                    written += n
                }
            }
            guard fchmod(fd, 0o644) == 0 else { throw fail("cannot set permissions") }
            guard !sync || fsync(fd) == 0 else { throw fail("fsync failed") }
        }
        try beforeRename()
        guard rename(temporary, path) == 0 else { throw fail("cannot rename the temporary file over it") }
        renamed = true
        guard sync else { return }
        let directory = open(folder, O_RDONLY | O_DIRECTORY)
        if directory >= 0 {
            // Best effort: some file systems refuse fsync on a folder; the data is already safe.
            _ = fsync(directory)
            close(directory)
        }
    }

    /// `.NAME.tmp-SUFFIX` beside `path`: where ``write(_:to:sync:beforeRename:)`` stages its bytes.
    static func temporaryName(for path: String, suffix: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(suffix)").path
    }

    /// Removes `.NAME.tmp-XXXXXX` files that a killed writer of `path` left behind (a process
    /// that was SIGKILLed between `mkstemp` and `rename` cannot clean up after itself).
    static func removeStaleTemporaries(of path: String) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path, prefix = ".\(url.lastPathComponent).tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) && name.count == prefix.count + 6 {
            unlink((folder as NSString).appendingPathComponent(name))
        }
    }
}
