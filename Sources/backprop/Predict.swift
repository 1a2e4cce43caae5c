import ArgumentParser
import Backprop
import Foundation

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict the rows of a CSV file with a saved model; writes the class and its probabilities, or the regression values, as CSV.")

    @OptionGroup var backendOptions: BackendOptions
    @Option(help: "A model file written by train --save.")
    var model: String
    @Option(help: "A CSV file with a header row and the model's feature columns (label columns are ignored).")
    var input: String
    @Option(help: "Write the predictions here (atomically) instead of to standard output ('-' for standard output).")
    var output: String?
    @Option(help: "Copy these columns (e.g. an id) into the output, first, separated by commas.")
    var keep: String?
    @Option(help: "The label column of a model that does not record it (written before format version 2).")
    var label: String?
    @Flag(help: "Write one JSON object per row (JSON Lines) with the CSV output's column names as keys, numbers as numbers.")
    var json = false
    @OptionGroup var dialect: DialectOptions

    func run() throws {
        let output = self.output == "-" ? nil : self.output
        if let output {
            try refuseOverwriting("--output", output, inputs: [("--input", input), ("--model", model)])
            try checkOutputPath(output)
        }
        let saved = try ModelFile.load(model)
        let keptNames = try keep.map { try names($0, "--keep") } ?? []
        let rows = try DataSource.loadTableForPrediction(input, model: saved, modelFile: model, keep: keptNames,
                                                         labels: label.map { [$0] }, dialect: try dialect.dialect())
        for warning in rows.warnings { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
        if rows.data.count == 0 { FileHandle.standardError.write(Data("note: \(input) has no rows: the output is the header alone\n".utf8)) }
        let network = try Network(backend: try backendOptions.makeBackend(
            workload: CalibrationWorkload(architecture: saved.architecture, batchSize: 128)), model: saved)
        let sizes = saved.architecture.sizes, outputs = sizes[sizes.count - 1]
        var header: [String], cells: (Int) -> [String]
        if saved.task == .regression {
            let values = rows.data.count == 0 ? [] : try network.regress(inputs: rows.data.inputs, count: rows.data.count, targets: saved.table?.targets)
            header = saved.outputNames
            // The targets' centers come back in Double (float32 would round 25000006.12 to
            // 25000006), printed to the digits the float32 output carries, not Double's noise.
            let centers = saved.table?.targetCenters ?? []
            cells = { j in
                (0..<outputs).map { k in
                    let v = values[j * outputs + k]
                    guard k < centers.count, v.isFinite else { return "\(v)" }
                    let digits = max(0, min(17, Int((-log10(Double(v.ulp))).rounded(.up))))
                    var text = String(format: "%.\(digits)f", Double(v) + centers[k])
                    if text.contains(".") { while text.hasSuffix("0") { text.removeLast() }; if text.hasSuffix(".") { text.removeLast() } }
                    return text
                }
            }
        } else {
            let probabilities = rows.data.count == 0 ? [] : try network.predict(inputs: rows.data.inputs, count: rows.data.count)
            // A single sigmoid output predicts class 1 when p ≥ 0.5: it needs two names.
            let names = saved.outputNames
            header = ["class"] + (outputs == 1 ? ["p_\(names[names.count - 1])"] : names.map { "p_\($0)" })
            cells = { j in
                let column = probabilities[(j * outputs)..<((j + 1) * outputs)]
                // A NaN output predicts no class: the cell stays empty rather than naming a guess.
                return [Prediction.predictedClass(column).map { names[$0] } ?? ""] + column.map { "\($0)" }
            }
        }
        // A kept column named as an output (the true `class` beside the predicted one) would make
        // two columns of one name: the prediction's is prefixed, and the note says so.
        let clashes = header.filter(keptNames.contains)
        if !clashes.isEmpty {
            header = header.map { clashes.contains($0) ? "predicted_\($0)" : $0 }
            FileHandle.standardError.write(Data("note: --keep \(listed(clashes)) is also an output's name: the predictions are in \(listed(clashes.map { "predicted_\($0)" }))\n".utf8))
        }
        var text = ""
        if json {
            // Kept columns as the file wrote them, the class as text (null without one), the rest numbers.
            for j in 0..<rows.data.count {
                var object = [String: Any]()
                for (name, value) in zip(keptNames, rows.kept[j]) { object[name] = value }
                for (k, (name, cell)) in zip(header, cells(j)).enumerated() {
                    if k == 0, saved.task != .regression { object[name] = cell.isEmpty ? NSNull() : cell } else {
                        // JSON has no NaN: a non-finite output (a diverged model) is null.
                        object[name] = Double(cell).flatMap { $0.isFinite ? $0 : nil } ?? NSNull()
                    }
                }
                let line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                text += String(decoding: line, as: UTF8.self) + "\n"
            }
        } else {
            text = (keptNames + header).map(csvField).joined(separator: ",") + "\n"
            for j in 0..<rows.data.count {
                text += (rows.kept[j] + cells(j)).map(csvField).joined(separator: ",") + "\n"
            }
        }
        if let output {
            try writeFileAtomically(Array(text.utf8), to: output)
        } else {
            try writeStandardOutput(Array(text.utf8))
        }
    }
}

/// A CSV field, quoted (RFC 4180) when it holds a comma, a quote or a line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
