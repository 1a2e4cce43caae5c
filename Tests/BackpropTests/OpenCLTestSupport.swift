@testable import Backprop
import Foundation
import Testing

/// The OpenCL device the tests share: one backend, so the program is built once per test run
/// (PoCL takes about a second per build). `OpenCLBackend` is safe to share across the parallel
/// tests: each test uses its own matrices, and kernel launches are serialized by the backend.
enum OpenCLTestDevice {
    struct SetupFailure: Error, Sendable { let message: String }

    static let result: Result<OpenCLBackend, SetupFailure> = {
        do { return .success(try OpenCLBackend()) } catch { return .failure(SetupFailure(message: "\(error)")) }
    }()

    /// In CI an OpenCL test runs even without a device, and fails; elsewhere it is skipped.
    static let inCI = ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true"
    static var enabled: Bool { inCI || (try? result.get()) != nil }

    /// The shared backend, or a recorded failure (CI without a device).
    static func backend(sourceLocation: SourceLocation = #_sourceLocation) throws -> OpenCLBackend {
        switch result {
        case let .success(backend): return backend
        case let .failure(failure):
            Issue.record("no OpenCL device: \(failure.message)", sourceLocation: sourceLocation)
            throw failure
        }
    }
}

/// Records every failed check, each with its measured difference and bound.
func expectAllPass(_ checks: [EquivalenceCheck], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!checks.isEmpty, sourceLocation: sourceLocation)
    for check in checks where !check.passed {
        Issue.record("\(check)", sourceLocation: sourceLocation)
    }
}
