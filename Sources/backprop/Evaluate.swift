import ArgumentParser
import Backprop
import Foundation

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss, accuracy and confusion matrix (or MSE, MAE and R²) of a saved model on labelled data.")

    @OptionGroup var backendOptions: BackendOptions
    @Option(help: "A model file written by train --save.")
    var model: String
    @Option(help: "mnist or an IDX folder (their test split), or a CSV file with the model's label column.")
    var data = "mnist"
    @Option(help: "CSV rows to score: test, train or validation (of the split recorded in the model; only on the file it was trained on), or all (default: test on that file, all on any other).")
    var rows: RowChoice?
    @Option(help: "The label column of a model that does not record it (written before format version 2).")
    var label: String?
    @OptionGroup var dialect: DialectOptions
    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let saved = try ModelFile.load(model)
        let name: String
        var dataset: Dataset
        var scoredRows: [Int]?
        if data == "mnist" || isDirectory(data) {
            if rows != nil || label != nil || dialect.isSet { throw CommandError("--rows, --label, --delimiter, --comment and --decimal apply to CSV data, not to \(data)") }
            (name, dataset) = try DataSource.loadForEvaluation(data, model: saved, modelFile: model)
        } else {
            let scored = try DataSource.loadTableForEvaluation(data, model: saved, modelFile: model, labels: label.map { [$0] },
                                                               rows: rows, dialect: try dialect.dialect())
            for warning in scored.warnings { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
            (name, dataset) = ("\(data): \(scored.description)", scored.data)
            scoredRows = scored.rows
        }
        let network = try Network(backend: try backendOptions.makeBackend(
            workload: CalibrationWorkload(architecture: saved.architecture, batchSize: 128)), model: saved)
        if saved.task == .regression { return try regression(saved, network, name, dataset, scoredRows) }
        // Uploaded, the samples are no longer held on the host (dataset keeps its labels).
        let result = try Evaluation(network: network, taking: &dataset)
        let names = saved.outputNames, scores = result.perClass
        if json {
            let perClass: [[String: Any]] = zip(names, scores).map { name, s in
                ["class": name, "precision": s.precision ?? NSNull(), "recall": s.recall ?? NSNull(),
                 "f1": s.f1 ?? NSNull(), "support": s.support]
            }
            return try emit(["model": model, "data": name, "samples": dataset.count,
                             "loss": result.metrics.loss, "accuracy": result.metrics.accuracy,
                             "balanced_accuracy": result.balancedAccuracy, "majority_accuracy": result.majorityAccuracy,
                             "classes": names, "confusion": result.confusion, "per_class": perClass], rows: scoredRows)
        }
        print("model     \(model): \(saved.architecture)")
        print("data      \(name): \(dataset.count) samples")
        print("loss      \(fmt(result.metrics.loss, 4))")
        print("accuracy  \(pct(result.metrics.accuracy))")
        // Accuracy alone flatters a model that ignores a rare class: the mean recall and the
        // score of always answering the most common class put it in proportion.
        let common = result.confusion.indices.max { result.confusion[$0].reduce(0, +) < result.confusion[$1].reduce(0, +) } ?? 0
        print("balanced  \(pct(result.balancedAccuracy)) (the mean of the recalls); always predicting \(listed([names[common]])): \(pct(result.majorityAccuracy).trimmingCharacters(in: .whitespaces))")
        // Names as the terminal shows them: control characters escaped, long ones cut.
        let shown = names.map { shortened($0, limit: 24) }
        print("confusion (rows: true class, columns: predicted)")
        let width = max(shown.map(\.count).max() ?? 1, String(result.confusion.flatMap { $0 }.max() ?? 0).count) + 1
        func cell(_ s: String, _ w: Int = width) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        print(cell("") + shown.map { cell($0) }.joined())
        for (k, row) in result.confusion.enumerated() {
            print(cell(shown[k]) + row.map { cell(String($0)) }.joined())
        }
        let label = max(width, 10), figure = { (v: Double?) in cell(v.map { fmt($0, 4) } ?? "—", 10) }
        print("per class" + cell("precision", label + 1) + cell("recall", 10) + cell("f1", 10) + cell("support", 10))
        for (k, s) in scores.enumerated() {
            print(cell(shown[k], label) + figure(s.precision) + figure(s.recall) + figure(s.f1) + cell(String(s.support), 10))
        }
    }

    /// MSE, MAE and R² in the targets' units.
    private func regression(_ saved: ModelFile, _ network: Network, _ name: String, _ dataset: Dataset, _ rows: [Int]?) throws {
        let targets = saved.table?.targets
        var actual = dataset.targetValues ?? []
        targets?.invert(columns: &actual)
        let predicted = try network.regress(inputs: dataset.inputs, count: dataset.count, targets: targets)
        let outputs = dataset.classCount, names = saved.outputNames
        let metrics = RegressionMetrics(predicted: predicted, actual: actual, outputs: outputs)
        // Several targets: the averages above, and each target's own (one can hide another).
        let each = outputs < 2 ? [] : (0..<outputs).map { k in
            RegressionMetrics(predicted: stride(from: k, to: predicted.count, by: outputs).map { predicted[$0] },
                              actual: stride(from: k, to: actual.count, by: outputs).map { actual[$0] }, outputs: 1)
        }
        if json {
            var object: [String: Any] = ["model": model, "data": name, "samples": dataset.count, "targets": names,
                                         "mse": metrics.mse, "mae": metrics.mae, "r2": metrics.r2]
            if !each.isEmpty {
                object["per_target"] = zip(names, each).map { ["target": $0, "mse": $1.mse, "mae": $1.mae, "r2": $1.r2] as [String: Any] }
            }
            return try emit(object, rows: rows)
        }
        print("model     \(model): \(saved.architecture)")
        print("data      \(name): \(dataset.count) samples")
        print("targets   \(listed(names))")
        print("mse       \(short(metrics.mse))\(each.isEmpty ? "" : " (the mean over the targets)")")
        print("mae       \(short(metrics.mae))")
        print("r2        \(fmt(metrics.r2, 4))")
        for (target, m) in zip(names, each) {
            print("target    \(listed([target])): mse \(short(m.mse)), mae \(short(m.mae)), r2 \(fmt(m.r2, 4))")
        }
    }

    /// Prints `object` as JSON; for a CSV, `rows` lists the data rows scored (0-based, header
    /// excluded), so another tool can score the same ones.
    private func emit(_ object: [String: Any], rows: [Int]?) throws {
        var object = object
        if let rows { object["rows"] = rows }
        let text = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: text, as: UTF8.self))
    }
}
