import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropOpenCL

/// One rule for what a network predicts (``Prediction``), pinned on the host and on every
/// backend's `countCorrect`: ties go to the lowest index, a NaN is never correct, one output
/// unit is class 1 from 0.5 up.
@Suite("Prediction rule")
struct PredictionTests {
    @Test func hostRule() {
        #expect(Prediction.predictedClass([0.2, 0.5, 0.3] as [Float]) == 1)
        #expect(Prediction.predictedClass([0.4, 0.4, 0.2] as [Float]) == 0, "a tie goes to the lowest index")
        #expect(Prediction.predictedClass([0.1, 0.7, 0.7] as [Float]) == 1)
        #expect(Prediction.predictedClass([0.1, .nan, 0.9] as [Float]) == nil)
        #expect(Prediction.predictedClass([0.5] as [Float]) == 1, "0.5 is class 1")
        #expect(Prediction.predictedClass([0.49999997] as [Float]) == 0)
        #expect(Prediction.predictedClass([Float.nan]) == nil)
        #expect(Prediction.predictedClass([Float]()) == nil)
        #expect(!Prediction.isCorrect(output: [Float.nan, 0], target: [1, 0]))
    }

    /// Columns: (outputs, one-hot target, correct by the rule).
    static let cases: [([Float], [Float])] = [
        ([0.2, 0.5, 0.3], [0, 1, 0]),        // plain arg-max: right
        ([0.4, 0.4, 0.2], [1, 0, 0]),        // tie → index 0: right
        ([0.4, 0.4, 0.2], [0, 1, 0]),        // tie → index 0: wrong
        ([0.1, .nan, 0.9], [0, 0, 1]),       // NaN: never right
        ([.infinity, 1, 0], [1, 0, 0]),      // +∞ is a value: right
        ([-1, -1, -1], [1, 0, 0]),           // all tied → 0: right
    ]

    func expectRule(on backend: any Backend) throws {
        let rows = 3, cols = Self.cases.count
        let output = try backend.makeMatrix(rows: rows, cols: cols, values: Self.cases.flatMap(\.0))
        let target = try backend.makeMatrix(rows: rows, cols: cols, values: Self.cases.flatMap(\.1))
        let count = try backend.makeMatrix(rows: 1, cols: 1)
        try backend.countCorrect(output: output, targets: target, into: count)
        let expected = Self.cases.filter { Prediction.isCorrect(output: $0.0, target: $0.1) }.count
        #expect(expected == 4)
        #expect(try backend.scalar(count) == Float(expected), "\(backend.name)")

        // One output unit: ≥ 0.5 is class 1, NaN never right.
        let single: [Float] = [0.5, 0.49999997, 0.9, .nan, 0.1], labels: [Float] = [1, 0, 0, 1, 0]
        try backend.fill(count, with: 0)
        try backend.countCorrect(output: try backend.makeMatrix(rows: 1, cols: 5, values: single),
                                 targets: try backend.makeMatrix(rows: 1, cols: 5, values: labels), into: count)
        let expectedSingle = zip(single, labels).filter { Prediction.isCorrect(output: [$0], target: [$1]) }.count
        #expect(expectedSingle == 3)
        #expect(try backend.scalar(count) == Float(expectedSingle), "\(backend.name)")
    }

    @Test func cpuFollowsTheRule() throws { try expectRule(on: CPUBackend()) }

    @Test(.enabled(if: OpenCLTestDevice.enabled))
    func openCLFollowsTheRule() throws { try expectRule(on: try OpenCLTestDevice.backend()) }
}
