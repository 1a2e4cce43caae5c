import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore

@Suite("Standardization is fitted on the training rows only, never on validation or test rows")
struct StandardizationFitTests {
    /// 200 rows whose feature grows with the row, so every choice of rows has its own mean.
    static let text = "x,y,label\n" + (0..<200).map { "\($0 * $0),\(200 - $0),\($0 % 2 == 0 ? "a" : "b")" }.joined(separator: "\n") + "\n"

    @Test("with a validation record, μ and s are those of the training split less the rows training will hold out")
    func withoutValidationRows() throws {
        let path = try temporaryDirectory().appendingPathComponent("t.csv").path
        try Self.text.write(toFile: path, atomically: true, encoding: .utf8)
        var options = TableOptions()
        let all = try DataSource.loadTable(path, options: options)
        let record = ValidationRecord(fraction: 0.25, seed: 7)
        options.validation = record
        let fitted = try DataSource.loadTable(path, options: options)

        // The raw training split, recovered from the first load's statistics.
        let s = try #require(all.standardization), f = all.train.featureCount
        let raw = all.train.inputs.enumerated().map { $0.element * s.std[$0.offset % f] + s.mean[$0.offset % f] }
        // The rows training keeps after holding out validation: the same draw as `train` makes.
        let kept = try fitted.train.holdOutPositions(record, stratified: true).train
        #expect(kept.count == 120, "160 training rows less a quarter")
        var rawDataset = all.train
        rawDataset.inputs = raw
        let expected = Standardization(fitting: rawDataset.subset(kept))
        let got = try #require(fitted.standardization)
        for i in 0..<f {
            #expect(abs(got.mean[i] - expected.mean[i]) <= 1e-3 * max(1, abs(expected.mean[i])), "mean \(i)")
            #expect(abs(got.std[i] - expected.std[i]) <= 1e-3 * expected.std[i], "std \(i)")
        }
        // And it differs from the statistics of the whole training split (the check can fail).
        #expect(got.mean[0] != s.mean[0])
    }
}
