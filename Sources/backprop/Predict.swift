import ArgumentParser
import Backprop
import Foundation

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify the rows of a CSV file with a saved model; writes class and probabilities as CSV.")

    @OptionGroup var backendOptions: BackendOptions
    @Option(help: "A model file written by train --save.")
    var model: String
    @Option(help: "A CSV file with a header row and the model's feature columns (a label column is ignored).")
    var input: String
    @Option(help: "Write the predictions here (atomically) instead of to standard output.")
    var output: String?
    @Option(help: "Name of the label column to ignore if the input has one.")
    var label = "label"

    func run() throws {
        let saved = try ModelFile.load(model)
        let table = try CSVTable.read(input, labelColumn: label, requireLabel: false)
        try saved.checkInputs(featureCount: table.featureNames.count, featureNames: table.featureNames,
                              data: input, modelFile: model)
        var inputs = table.features
        saved.standardization?.apply(toColumns: &inputs)
        let network = try Network(backend: try backendOptions.makeBackend(), model: saved)
        let probabilities = try network.predict(inputs: inputs, count: table.rowCount)
        let sizes = saved.architecture.sizes, outputs = sizes[sizes.count - 1]
        // A single sigmoid output predicts class 1 when p ≥ 0.5: it needs two names.
        let names = saved.classNames.flatMap { $0.count >= max(outputs, 2) ? $0 : nil }
            ?? (0..<max(outputs, 2)).map(String.init)
        let probabilityColumns = outputs == 1 ? ["p_\(names[names.count - 1])"] : names.map { "p_\($0)" }
        var text = (["class"] + probabilityColumns).joined(separator: ",") + "\n"
        for j in 0..<table.rowCount {
            let column = probabilities[(j * outputs)..<((j + 1) * outputs)]
            // A NaN output predicts no class: the cell stays empty rather than naming a guess.
            let predicted = Prediction.predictedClass(column).map { names[$0] } ?? ""
            text += ([predicted] + column.map { "\($0)" }).joined(separator: ",") + "\n"
        }
        if let output {
            try writeFileAtomically(Array(text.utf8), to: output)
        } else {
            print(text, terminator: "")
        }
    }
}
