import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore

/// True when `python3` can import NumPy and onnxruntime.
let onnxruntimeReady: Bool = {
    guard let dir = try? temporaryDirectory(),
          let result = try? runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                                       ["python3", "-c", "import numpy, onnxruntime"], in: dir) else { return false }
    return result.status == 0
}()

@Suite("onnxruntime runs our exported models")
struct ONNXRoundTripTests {
    /// Two tables trained by the CLI: three classes from two numbers and a categorical column
    /// (one-hot, standardized inputs, softmax), and a regression target (standardized targets).
    static let tables: [(csv: String, label: String, task: String)] = {
        var rng = SeededGenerator(seed: 11)
        let species = ["setosa", "versicolor", "virginica"]
        let flowers = "length,width,soil,species\n" + (0..<60).map { j in
            let k = j % 3
            return "\(Double(k) + 0.3 * rng.nextNormal()),\(Double(2 - k) + 0.3 * rng.nextNormal()),\(["clay", "sand", "loam"][j % 3 == 0 ? j % 2 : 2]),\(species[k])"
        }.joined(separator: "\n") + "\n"
        let regression = "a,b,y\n" + (0..<60).map { _ in
            let a = 5 + 2 * rng.nextNormal(), b = -3 + rng.nextNormal()
            return "\(a),\(b),\(0.5 * a - b + 0.1 * rng.nextNormal())"
        }.joined(separator: "\n") + "\n"
        // A Unix time with milliseconds and a target in cents on 20 million: float32 cannot carry
        // either beside its value, so the graph takes the centers off (adds them back) in float64.
        let offset = "t,x,y\n" + (0..<60).map { j in
            let s = Double(j) * 0.731, x = rng.nextNormal()
            return "\(1_700_000_000 + s),\(x),\(String(format: "%.2f", 20_000_000 + 3 * s + x + 0.1 * rng.nextNormal()))"
        }.joined(separator: "\n") + "\n"
        return [(flowers, "species", "classification"), (regression, "y", "regression"), (offset, "y", "regression")]
    }()

    /// `backprop export` writes a graph that `Tests/Python/onnx_forward.py` runs in onnxruntime
    /// (float32) on the encoded, unstandardized rows; its outputs match `backprop predict`'s
    /// columns (probabilities, or regression values in the target's units) to 1e-5 absolute:
    /// both are float32 through two small layers, differing only in summation order.
    @Test("onnxruntime on the exported graph reproduces predict",
          .enabled(if: onnxruntimeReady || runningInCI,
                   "python3 with numpy and onnxruntime is not installed (pip install onnxruntime numpy)"),
          arguments: [0, 1, 2])
    func matchesPredict(table: Int) throws {
        #expect(onnxruntimeReady, "python3 cannot import numpy and onnxruntime: pip install onnxruntime numpy")
        let (csv, label, task) = Self.tables[table]
        let dir = try temporaryDirectory()
        let data = dir.appendingPathComponent("data.csv").path
        try csv.write(toFile: data, atomically: true, encoding: .utf8)
        let trained = try backprop(["train", "--data", data, "--label", label, "--task", task, "--hidden", "8",
                                    "--epochs", "20", "--save", "m.safetensors"], in: dir)
        try #require(trained.status == 0, "\(trained.stderr)")
        let exported = try backprop(["export", "--model", "m.safetensors", "--onnx", "m.onnx"], in: dir)
        try #require(exported.status == 0, "\(exported.stderr)")
        let predicted = try backprop(["predict", "--model", "m.safetensors", "--input", data], in: dir)
        try #require(predicted.status == 0, "\(predicted.stderr)")
        // predict prints the class first for classification; the numbers follow.
        let skip = task == "classification" ? 1 : 0
        let ours = predicted.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").dropFirst(skip).compactMap { Double($0) } }

        // The graph's input: the rows encoded as predict encodes them, before standardization and
        // before the numeric columns' centers are taken off (the graph takes them off itself).
        let model = try ModelFile.load(dir.appendingPathComponent("m.safetensors").path)
        let encoding = try model.tableEncoding(header: [], data: data, modelFile: "m.safetensors")
        let raw = try RawTable.read(data) { _ in encoding.columns.map(\.name) }
        let inputs = try encoding.encode(raw, labelled: false).data
        #expect(model.standardization != nil && (task == "regression") == (model.table?.targets != nil))
        if task == "classification" { #expect(inputs.featureCount == 5) }      // 2 numbers + 3 one-hot soil columns
        let f = inputs.featureCount
        let centers = encoding.inputCenters
        let rows = (0..<inputs.count).map { j in (0..<f).map { "\(Double(inputs.inputs[j * f + $0]) + centers[$0])" }.joined(separator: ",") }
        try rows.joined(separator: "\n").write(to: dir.appendingPathComponent("inputs.csv"), atomically: true, encoding: .utf8)

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Python/onnx_forward.py").path
        let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script, "m.onnx", "inputs.csv"], in: dir)
        try #require(result.status == 0, "onnx_forward.py failed: \(result.stderr)")
        let theirs = result.stdout.split(separator: "\n").map { $0.split(separator: ",").compactMap { Double($0) } }
        let outputs = model.architecture.sizes.last ?? 0
        try #require(theirs.count == 60 && ours.count == 60, "\(result.stdout)\n\(predicted.stdout)")
        try #require(theirs.allSatisfy { $0.count == outputs } && ours.allSatisfy { $0.count == outputs })
        var worst = 0.0
        for j in 0..<60 { for k in 0..<outputs { worst = max(worst, abs(theirs[j][k] - ours[j][k])) } }
        #expect(worst <= 1e-5, "largest difference \(worst)")
        #expect(ONNXGraph.precision(model) == (table == 2 ? (true, true) : (false, false)), "float64 only where float32 cannot carry the data")
    }
}
