import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU

/// y = 3·x1 − 2·x2 + ε (ε ~ N(0, 0.1²)) over `rows` rows, with x uniform in [−2, 2].
func linearCSV(rows: Int = 400, seed: UInt64 = 11) -> String {
    var rng = SeededGenerator(seed: seed)
    var lines = ["x1,x2,y"]
    for _ in 0..<rows {
        let x1 = 4 * rng.nextUniform() - 2, x2 = 4 * rng.nextUniform() - 2
        lines.append("\(x1),\(x2),\(3 * x1 - 2 * x2 + 0.1 * rng.nextNormal())")
    }
    return lines.joined(separator: "\n") + "\n"
}

@Suite("Tables in training: regression, and splits that survive --resume")
struct TableTrainingTests {
    @Test("regression on a noisy linear target recovers R² ≥ 0.95 in the target's units")
    func linearRegression() throws {
        let loaded = try loadCSV(linearCSV(), labels: ["y"])
        #expect(loaded.task == .regression)
        let targets = try #require(loaded.encoding?.targets)
        let backend = CPUBackend()
        let architecture = try Architecture(sizes: [2, 16, 1], activations: [.tanh, .identity], loss: .squaredError)
        let network = try Network(backend: backend, architecture: architecture, seed: 3)
        let optimizer = try Optimizer(OptimizerConfiguration(kind: .adam, learningRate: 0.01), for: network)
        let trainer = try Trainer(network: network, optimizer: optimizer, batchSize: 32, seed: 3)
        try trainer.fit(train: try DeviceDataset(loaded.train, on: backend), test: nil, epochs: 40)

        // The stored statistics map the network's outputs back to y's units.
        var actual = try #require(loaded.test.targetValues)
        targets.invert(columns: &actual)
        let predicted = try network.regress(inputs: loaded.test.inputs, count: loaded.test.count, targets: targets)
        let metrics = RegressionMetrics(predicted: predicted, actual: actual, outputs: 1)
        #expect(metrics.r2 >= 0.95, "R² \(metrics.r2)")
        // The noise alone has variance 0.01: a good fit's MSE is of that order, in y's units.
        #expect(metrics.mse < 0.3, "MSE \(metrics.mse)")
    }

    @Test("R², MSE and MAE match their definitions")
    func regressionMetrics() {
        let m = RegressionMetrics(predicted: [1, 2, 3, 5], actual: [1, 2, 3, 4], outputs: 1)
        #expect(m.mse == 0.25 && m.mae == 0.25)
        #expect(abs(m.r2 - (1 - 1 / 5)) < 1e-12, "Σ(y − ȳ)² = 5")
        #expect(RegressionMetrics(predicted: [2, 2], actual: [2, 2], outputs: 1).r2 == 1)
    }

    @Test("resuming on the same file reuses the recorded split, whatever --seed says; another file is split anew with a warning")
    func resumeKeepsSplit() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("blobs.csv").path
        try (try String(contentsOfFile: try blobsCSV(in: dir), encoding: .utf8)).write(toFile: path, atomically: true, encoding: .utf8)
        var options = TableOptions()
        options.seed = 1
        let first = try DataSource.loadTable(path, options: options)
        let network = try Network(backend: CPUBackend(), architecture: try Architecture(inputs: 4, hidden: [4], outputs: 3), seed: 1)
        var model = try ModelFile(network: network, standardization: first.standardization,
                                  classNames: first.train.classNames, featureNames: first.featureNames)
        model.table = first.encoding
        model.split = first.split
        let saved = try ModelFile.parse(try model.serialized(), file: "m")
        #expect(saved.split == first.split && saved.table == first.encoding)

        options.seed = 99
        let resumed = try DataSource.loadTable(path, options: options, resumed: (saved, "m"))
        #expect(resumed.testRows == first.testRows)
        #expect(Set(resumed.trainRows).isDisjoint(with: first.testRows), "no test row is ever trained on")
        #expect(resumed.notes.contains { $0.contains("the split recorded in m") })
        #expect(resumed.warnings.isEmpty)
        #expect(resumed.standardization == first.standardization)

        options.testFraction = 0.5
        let changed = errorText { _ = try DataSource.loadTable(path, options: options, resumed: (saved, "m")) }
        #expect(changed?.contains("--test-split 0.5 differs from the split recorded in m (0.2)") == true, "got \(changed ?? "no error")")

        options.testFraction = nil
        let other = dir.appendingPathComponent("other.csv").path
        try (try String(contentsOfFile: path, encoding: .utf8) + "\n0,0,0,0,1\n").write(toFile: other, atomically: true, encoding: .utf8)
        let elsewhere = try DataSource.loadTable(other, options: options, resumed: (saved, "m"))
        #expect(elsewhere.warnings.first?.contains("is not the file m was trained on") == true)
        #expect(elsewhere.split?.seed == 99)
    }
}
