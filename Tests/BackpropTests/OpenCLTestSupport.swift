@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL
import Foundation
import Testing

/// The OpenCL device of the tests. A backend is used from one thread at a time, so each test
/// makes its own; the compiled program comes from the on-disk cache after the first build.
enum OpenCLTestDevice {
    struct SetupFailure: Error, Sendable { let message: String }

    /// Whether a backend can be made here, tried once.
    static let availability: Result<Void, SetupFailure> = {
        do { _ = try OpenCLBackend(); return .success(()) } catch { return .failure(SetupFailure(message: "\(error)")) }
    }()

    /// In CI an OpenCL test runs even without a device, and fails; elsewhere it is skipped.
    static let inCI = ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true"
    static var enabled: Bool { inCI || (try? availability.get()) != nil }

    /// A new backend on the default device, or a recorded failure (CI without a device).
    static func backend(sourceLocation: SourceLocation = #_sourceLocation) throws -> OpenCLBackend {
        do {
            try availability.get()
            return try OpenCLBackend()
        } catch {
            Issue.record("no OpenCL device: \(error)", sourceLocation: sourceLocation)
            throw error
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
