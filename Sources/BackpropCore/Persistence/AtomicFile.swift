import Foundation

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one.
public func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    try AtomicFile.write(bytes, to: path)
}

/// Throws unless `path` can be written by ``writeFileAtomically(_:to:)``: its folder exists and
/// takes a new file, and `path` is not a folder (or it is a stream that can be written). Checked
/// before a long run rather than after its first epoch; removes stale temporary files of `path`
/// (a killed run's) on the way.
public func checkOutputPath(_ path: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw ModelFileError.unwritable(file: path, reason: "it is a folder")
    }
    // `new/` names a folder to be, which a file cannot replace (the rename fails after the run).
    if path.hasSuffix("/") {
        throw ModelFileError.unwritable(file: path, reason: "it ends with /, so it names a folder; name a file in it")
    }
    if AtomicFile.isStream(path) {
        guard AtomicFile.standardDescriptor(path) != nil || access(path, W_OK) == 0 else {
            throw ModelFileError.unwritable(file: path, reason: String(cString: strerror(errno)))
        }
        return
    }
    let target = try AtomicFile.target(of: path)
    AtomicFile.removeStaleTemporaries(of: target)
    let probe = AtomicFile.temporaryName(for: target, suffix: "check")
    do { try AtomicFile.write([], to: probe, sync: false) } catch let ModelFileError.unwritable(_, reason) {
        // The user named `path`, not the probe beside it (nor where its links lead).
        throw ModelFileError.unwritable(file: path, reason: reason)
    }
    unlink(probe)
}

/// Writes `bytes` to standard output, reporting what `print` would drop (a full disk; a closed
/// pipe ends the process by SIGPIPE, as it does any Unix tool).
public func writeStandardOutput(_ bytes: [UInt8]) throws {
    try AtomicFile.writeAll(bytes, to: STDOUT_FILENO) { what, code in
        ModelFileError.unwritable(file: "standard output", reason: "\(what): \(String(cString: strerror(code)))")
    }
}

/// Whether `a` and `b` name the same file: the same inode when both exist (through links,
/// `..` or another spelling), else the same path once symbolic links are resolved. Two names of
/// one stream (a terminal, `/dev/null`) are not one file: nothing of it can be replaced.
public func sameFile(_ a: String, _ b: String) -> Bool {
    var x = stat(), y = stat()
    if stat(a, &x) == 0, stat(b, &y) == 0 {
        return x.st_dev == y.st_dev && x.st_ino == y.st_ino && x.st_mode & S_IFMT == S_IFREG
    }
    func resolved(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path }
    return resolved(a) == resolved(b)
}

/// Writes that cannot tear: the bytes go to a temporary file in the target's folder, which is
/// flushed to disk (`fsync`) and then renamed over the target; the folder is synced last so the
/// rename itself survives a crash. A reader sees the old file or the new one, never a mix, and
/// a failure at any step leaves the old file untouched and no temporary file behind.
///
/// A symbolic link is written through: the file it points to is replaced, the link kept. A
/// stream (`/dev/stdout`, a named pipe, a device) cannot be replaced: it is written in place.
enum AtomicFile {
    /// `beforeRename` runs after the data is on disk and before the rename (tests inject a
    /// failure there to show that the previous file survives).
    static func write(_ bytes: [UInt8], to path: String, sync: Bool = true,
                      beforeRename: () throws -> Void = {}) throws {
        if isStream(path) { return try writeInPlace(bytes, to: path) }
        let named = path
        let path = try target(of: path)
        removeStaleTemporaries(of: path)
        func fail(_ what: String, _ code: Int32 = errno) -> ModelFileError {
            .unwritable(file: named, reason: "\(what): \(String(cString: strerror(code)))")
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
            try writeAll(bytes, to: fd, fail: fail)
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

    /// Every byte to `fd`, retrying short writes; `fail` names what went wrong.
    static func writeAll(_ bytes: [UInt8], to fd: Int32, fail: (String, Int32) -> Error) throws {
        var written = 0
        try bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = Foundation.write(fd, raw.baseAddress.map { $0 + written }, raw.count - written)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw fail("write failed after \(written) of \(raw.count) bytes", errno) }
                written += n
            }
        }
    }

    /// The descriptor a name of this process's standard output or error stands for (`/dev/stdout`,
    /// `/dev/fd/1`, `/proc/self/fd/1`, and 2 likewise). Written through the descriptor, a
    /// redirection keeps its offset and `>>` its appending; opened anew it would start at 0.
    static func standardDescriptor(_ path: String) -> Int32? {
        switch URL(fileURLWithPath: path).standardizedFileURL.path {
        case "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1": STDOUT_FILENO
        case "/dev/stderr", "/dev/fd/2", "/proc/self/fd/2": STDERR_FILENO
        default: nil
        }
    }

    /// Whether `path` is written in place rather than replaced: standard output or error, or
    /// (after links) something other than a file or a folder — a pipe, a device, a socket.
    static func isStream(_ path: String) -> Bool {
        if standardDescriptor(path) != nil { return true }
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let kind = info.st_mode & S_IFMT
        return kind != S_IFREG && kind != S_IFDIR
    }

    /// The file `path` leads to: itself, or where its chain of symbolic links ends (a link to
    /// a file not yet written included), so that a write replaces that file and keeps the links.
    /// A chain longer than the kernel's 40 is an error (a loop), not a link to replace.
    static func target(of path: String) throws -> String {
        var current = path
        for _ in 0...40 {
            guard let next = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else { return current }
            current = next.hasPrefix("/") ? next
                : URL(fileURLWithPath: current).deletingLastPathComponent().appendingPathComponent(next).path
        }
        throw ModelFileError.unwritable(file: path, reason: "too many levels of symbolic links (a loop?)")
    }

    /// A stream is written as it is: through its descriptor, or opened, written and closed;
    /// every error reported.
    private static func writeInPlace(_ bytes: [UInt8], to path: String) throws {
        func fail(_ what: String, _ code: Int32) -> ModelFileError {
            .unwritable(file: path, reason: "\(what): \(String(cString: strerror(code)))")
        }
        if let descriptor = standardDescriptor(path) { return try writeAll(bytes, to: descriptor, fail: fail) }
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw fail("cannot open it", errno) }
        defer { close(fd) }
        try writeAll(bytes, to: fd, fail: fail)
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
