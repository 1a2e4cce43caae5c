import Foundation
import Testing

/// The `backprop` executable of this build: beside the test bundle (`swift test` builds every
/// product of the package before it runs the tests), else in the package's `.build/debug`.
func backpropExecutable(sourceFile: String = #filePath) throws -> URL {
    let besideTests = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
    // Tests/BackpropTests/<file>.swift → package root is three levels up.
    let root = URL(fileURLWithPath: sourceFile).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let candidates = [besideTests.appendingPathComponent("backprop"),
                      root.appendingPathComponent(".build/debug/backprop")]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw ExecutableNotFound(searched: candidates.map(\.path))
    }
    return found
}

struct ExecutableNotFound: Error, CustomStringConvertible {
    var searched: [String]
    var description: String { "the backprop executable was not built (looked at \(searched.joined(separator: ", "))); run swift build" }
}

/// What a finished process left behind.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `executable` with `arguments` in `directory`, output captured through files (no pipe
/// can fill up and stall the child).
func runProcess(_ executable: URL, _ arguments: [String], in directory: URL,
                environment: [String: String] = [:]) throws -> ProcessResult {
    let out = directory.appendingPathComponent(".stdout-\(UUID().uuidString)")
    let err = directory.appendingPathComponent(".stderr-\(UUID().uuidString)")
    guard FileManager.default.createFile(atPath: out.path, contents: nil),
          FileManager.default.createFile(atPath: err.path, contents: nil) else {
        throw CocoaError(.fileWriteUnknown)
    }
    defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = directory
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: try text(of: out), stderr: try text(of: err))
}

/// A file's text. Through `FileHandle`: `String(contentsOf:)` leaks its buffer on an empty file
/// in this toolchain's Foundation, which LeakSanitizer (`swift test --sanitize=address`) reports.
private func text(of url: URL) throws -> String {
    let handle = try FileHandle(forReadingFrom: url)
    defer { try? handle.close() }
    return String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
}

/// Runs the `backprop` command.
func backprop(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> ProcessResult {
    try runProcess(try backpropExecutable(), arguments, in: directory, environment: environment)
}
