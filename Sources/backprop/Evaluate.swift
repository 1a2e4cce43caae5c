import ArgumentParser
import Backprop
import Foundation

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss, accuracy and confusion matrix of a saved model on labelled data.")

    @OptionGroup var backendOptions: BackendOptions
    @Option(help: "A model file written by train --save.")
    var model: String
    @Option(help: "mnist or an IDX folder (their test split), or a CSV file with a label column (every row).")
    var data = "mnist"
    @Option(help: "Name of the CSV column holding integer class labels.")
    var label = "label"
    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let saved = try ModelFile.load(model)
        let (name, dataset) = try DataSource.loadForEvaluation(data, labelColumn: label, model: saved, modelFile: model)
        let network = try Network(backend: try backendOptions.makeBackend(), model: saved)
        let result = try Evaluation(network: network, data: dataset)
        let names = saved.classNames ?? (0..<dataset.classCount).map(String.init)
        if json {
            let object: [String: Any] = ["model": model, "data": name, "samples": dataset.count,
                                         "loss": result.metrics.loss, "accuracy": result.metrics.accuracy,
                                         "classes": names, "confusion": result.confusion]
            let text = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: text, as: UTF8.self))
            return
        }
        print("model     \(model): \(saved.architecture)")
        print("data      \(name): \(dataset.count) samples")
        print("loss      \(fmt(result.metrics.loss, 4))")
        print("accuracy  \(pct(result.metrics.accuracy))")
        print("confusion (rows: true class, columns: predicted)")
        let width = max(names.map(\.count).max() ?? 1, String(result.confusion.flatMap { $0 }.max() ?? 0).count) + 1
        func cell(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        print(cell("") + names.map(cell).joined())
        for (k, row) in result.confusion.enumerated() {
            print(cell(names[k]) + row.map { cell(String($0)) }.joined())
        }
    }
}
