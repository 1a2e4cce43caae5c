import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU

/// Writes `text` to `name` in `dir`; returns the path.
private func write(_ text: String, _ name: String, in dir: URL) throws -> String {
    let path = dir.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Three flowers told apart by two measurements, with string labels and a string column.
private func flowersCSV(rows: Int = 60) -> String {
    var rng = SeededGenerator(seed: 5)
    let species = ["setosa", "versicolor", "virginica"]
    return "length,width,soil,species\n" + (0..<rows).map { j in
        let k = j % 3
        return "\(Double(k) + 0.2 * rng.nextNormal()),\(Double(2 - k) + 0.2 * rng.nextNormal()),\(["clay", "sand"][j % 2]),\(species[k])"
    }.joined(separator: "\n") + "\n"
}

private func jsonLines(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
}

@Suite("The commands on tables: class names, regression, dialects, one-hot inputs, honest splits")
struct TableCommandTests {
    @Test("resuming a model on another number of label columns is an error (it trapped), and its centers come back in predict")
    func resumeWithOtherLabels() throws {
        let dir = try temporaryDirectory()
        let rows = (0..<80).map { "\(Double($0) / 10),\(20_000_000.25 + Double($0 % 9)),\(Double($0 % 5))" }.joined(separator: "\n")
        let data = try write("x,y,z\n" + rows + "\n", "two.csv", in: dir)
        let trained = try backprop(["train", "--data", data, "--label", "y,z", "--hidden", "4", "--epochs", "2", "--save", "m.safetensors"], in: dir)
        try #require(trained.status == 0, "\(trained.stderr)")
        for labels in ["y", "y,z,x"] {
            let again = try backprop(["train", "--data", data, "--label", labels, "--resume", "m.safetensors", "--epochs", "1"], in: dir)
            #expect(again.status == 1 && again.stderr.contains("but m.safetensors was trained on 2 (y, z)"), "\(labels): \(again.stderr)")
        }
        let model = try ModelFile.load(dir.appendingPathComponent("m.safetensors").path)
        #expect(model.table?.targetCenters?.count == 2 && (model.table?.targetCenters?[0] ?? 0) > 20_000_000)

        // Each target's own figures beside their mean; the means are of those.
        let evaluated = try backprop(["evaluate", "--model", "m.safetensors", "--data", data, "--json"], in: dir)
        let json = try #require(try jsonLines(evaluated.stdout).first, "\(evaluated.stderr)")
        let each = try #require(json["per_target"] as? [[String: Any]])
        #expect(each.map { $0["target"] as? String } == ["y", "z"])
        let mses = each.compactMap { $0["mse"] as? Double }, r2s = each.compactMap { $0["r2"] as? Double }
        #expect(mses.count == 2 && abs((json["mse"] as? Double ?? 0) - (mses[0] + mses[1]) / 2) <= 1e-9 * max(1, mses[0] + mses[1]))
        #expect(r2s.count == 2 && abs((json["r2"] as? Double ?? 0) - (r2s[0] + r2s[1]) / 2) <= 1e-12)
        let text = try backprop(["evaluate", "--model", "m.safetensors", "--data", data], in: dir)
        #expect(text.stdout.contains("target    y: mse ") && text.stdout.contains("target    z: mse "), "\(text.stdout)")

        // predict --json: one object per row, the CSV's column names as keys, values as numbers.
        let csv = try backprop(["predict", "--model", "m.safetensors", "--input", data, "--keep", "x"], in: dir)
        let lines = try backprop(["predict", "--model", "m.safetensors", "--input", data, "--keep", "x", "--json"], in: dir)
        let objects = try jsonLines(lines.stdout)
        let printed = csv.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(objects.count == 80 && printed.count == 80, "\(lines.stderr)")
        for (object, row) in zip(objects, printed) {
            // Foundation's JSON parser may read a number back one ulp off.
            let close = { (a: Any?, b: String) in abs((a as? Double ?? .nan) - (Double(b) ?? .nan)) <= 1e-15 * abs(Double(b) ?? 1) }
            #expect(object["x"] as? String == row[0] && close(object["y"], row[1]) && close(object["z"], row[2]), "\(object) vs \(row)")
        }
    }

    @Test("with --json the notes go to standard error, and standard output holds only JSON lines")
    func notesWithJSON() throws {
        let dir = try temporaryDirectory()
        let rows = (0..<60).map { "person \($0),\(Double($0 % 5) / 2),\($0 % 2)" }.joined(separator: "\n")
        let data = try write("name,x,label\n" + rows + "\n", "people.csv", in: dir)
        let run = try backprop(["train", "--data", data, "--hidden", "4", "--epochs", "1", "--json"], in: dir)
        try #require(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("note      column \"name\" holds") && run.stderr.contains("an id? --ignore name drops it"), "\(run.stderr)")
        #expect(try jsonLines(run.stdout).count >= 2)
    }

    @Test("predict: a header without rows gives the header alone; a kept column named as an output keeps its name and the prediction is prefixed; --output - is standard output")
    func predictEdges() throws {
        let dir = try temporaryDirectory()
        let text = flowersCSV().replacingOccurrences(of: ",species\n", with: ",class\n")
        let data = try write(text, "flowers.csv", in: dir)
        let trained = try backprop(["train", "--data", data, "--label", "class", "--hidden", "8", "--epochs", "2", "--save", "m.safetensors"], in: dir)
        try #require(trained.status == 0, "\(trained.stderr)")
        let header = try write("length,width,soil,class\n", "header.csv", in: dir)
        let empty = try backprop(["predict", "--model", "m.safetensors", "--input", header], in: dir)
        #expect(empty.status == 0 && empty.stdout == "class,p_setosa,p_versicolor,p_virginica\n", "\(empty.stdout)\(empty.stderr)")
        #expect(empty.stderr.contains("has no rows"))
        let kept = try backprop(["predict", "--model", "m.safetensors", "--input", data, "--keep", "class", "--output", "-"], in: dir)
        try #require(kept.status == 0, "\(kept.stderr)")
        #expect(kept.stdout.hasPrefix("class,predicted_class,p_setosa,p_versicolor,p_virginica\nsetosa,"), "\(kept.stdout.prefix(200))")
        #expect(kept.stderr.contains("the predictions are in predicted_class"), "\(kept.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("-").path))
    }

    @Test("string labels: predict prints class names and a p_<class> column each; evaluate scores the held-out rows by default")
    func classNames() throws {
        let dir = try temporaryDirectory()
        let data = try write(flowersCSV(), "flowers.csv", in: dir)
        let trained = try backprop(["train", "--data", data, "--label", "species", "--hidden", "8", "--epochs", "3",
                                    "--lr", "0.05", "--save", "m.safetensors"], in: dir)
        try #require(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("3 classes (setosa, versicolor, virginica)"), "\(trained.stdout)")
        let model = try ModelFile.load(dir.appendingPathComponent("m.safetensors").path)
        #expect(model.classNames == ["setosa", "versicolor", "virginica"])
        #expect(model.table?.labels == ["species"] && model.table?.columns[2].categories == ["clay", "sand"])

        let predicted = try backprop(["predict", "--model", "m.safetensors", "--input", data], in: dir)
        try #require(predicted.status == 0, "\(predicted.stderr)")
        let lines = predicted.stdout.split(separator: "\n")
        #expect(lines.first == "class,p_setosa,p_versicolor,p_virginica")
        #expect(lines.count == 61)
        #expect(lines.dropFirst().allSatisfy { ["setosa", "versicolor", "virginica"].contains(String($0.split(separator: ",")[0])) })

        let held = try backprop(["evaluate", "--model", "m.safetensors", "--data", data], in: dir)
        #expect(held.stdout.contains("the 12 test rows of the split recorded in m.safetensors"), "\(held.stdout)")
        let all = try backprop(["evaluate", "--model", "m.safetensors", "--data", data, "--rows", "all"], in: dir)
        #expect(all.stdout.contains("all 60 rows, training rows included"), "\(all.stdout)")
        // An edited copy (CRLF line ends) is another file: every row, and a word that it may hold training rows.
        let edited = try write(try String(contentsOfFile: data, encoding: .utf8).replacingOccurrences(of: "\n", with: "\r\n"), "edited.csv", in: dir)
        let editedRun = try backprop(["evaluate", "--model", "m.safetensors", "--data", edited], in: dir)
        #expect(editedRun.stdout.contains("all 60 rows of a file m.safetensors was not trained on (if it holds rows the model trained on, their scores flatter it)"),
                "\(editedRun.stdout)\(editedRun.stderr)")
        // --rows train and --rows validation split the 48 training rows as training did: the
        // validation rows are the recorded ones (their loss is the one the model file records).
        let train = try backprop(["evaluate", "--model", "m.safetensors", "--data", data, "--rows", "train", "--json"], in: dir)
        let validation = try backprop(["evaluate", "--model", "m.safetensors", "--data", data, "--rows", "validation", "--json"], in: dir)
        let recorded = try #require(model.training?.validationSplit)
        let validationSummary = try #require(try jsonLines(validation.stdout).first, "\(validation.stderr)")
        #expect(validationSummary["samples"] as? Int == recorded.count && recorded.count > 0)
        #expect(try jsonLines(train.stdout).first?["samples"] as? Int == 48 - recorded.count)
        let recordedLoss = try #require(model.training?.validation?.loss)
        let validationLoss = try #require(validationSummary["loss"] as? Double)
        #expect(abs(validationLoss - recordedLoss) <= 1e-5 * max(1, abs(recordedLoss)), "\(validationLoss) vs \(recordedLoss)")
        let test = try backprop(["evaluate", "--model", "m.safetensors", "--data", data, "--json"], in: dir)
        let trainRows = try jsonLines(train.stdout).first?["rows"] as? [Int] ?? []
        let validationRows = validationSummary["rows"] as? [Int] ?? []
        let testRows = try jsonLines(test.stdout).first?["rows"] as? [Int] ?? []
        #expect(testRows.count == 12 && Set(trainRows).isDisjoint(with: testRows) && Set(validationRows).isDisjoint(with: trainRows + testRows))
        #expect(Set(trainRows + validationRows + testRows) == Set(0..<60))
        let other = try write(flowersCSV(rows: 30), "other.csv", in: dir)
        let elsewhere = try backprop(["evaluate", "--model", "m.safetensors", "--data", other, "--json"], in: dir)
        let json = try #require(try jsonLines(elsewhere.stdout).first)
        #expect(json["samples"] as? Int == 30 && (json["data"] as? String)?.contains("all 30 rows") == true, "\(elsewhere.stdout)")
    }

    @Test("regression: --json reports validation_r2, and test_mse, test_mae and test_r2 with --eval-test; predict and evaluate work in the target's units")
    func regression() throws {
        let dir = try temporaryDirectory()
        let data = try write(linearCSV(rows: 200), "linear.csv", in: dir)
        let trained = try backprop(["train", "--data", data, "--label", "y", "--hidden", "8", "--epochs", "4", "--lr", "0.01",
                                    "--json", "--eval-test", "--save", "m.safetensors"], in: dir)
        try #require(trained.status == 0, "\(trained.stderr)")
        for object in try jsonLines(trained.stdout) {
            #expect(object["test_mse"] is Double && object["test_mae"] is Double && object["test_r2"] is Double, "\(object)")
            // Epoch lines and the summary (the best epoch's) under the same names.
            #expect(object["validation_r2"] is Double && object["validation_mse"] is Double && object["validation_mae"] is Double, "\(object)")
            #expect(object["test_accuracy"] == nil && object["train_accuracy"] == nil && object["validation_accuracy"] == nil)
        }
        let model = try ModelFile.load(dir.appendingPathComponent("m.safetensors").path)
        #expect(model.task == .regression && model.architecture.outputActivation == .identity)
        let targets = try #require(model.table?.targets)

        let predicted = try backprop(["predict", "--model", "m.safetensors", "--input", data], in: dir)
        try #require(predicted.status == 0, "\(predicted.stderr)")
        let lines = predicted.stdout.split(separator: "\n")
        #expect(lines.first == "y")
        let rows = try DataSource.loadTableForPrediction(data, model: model, modelFile: "m")
        let expected = try Network(backend: CPUBackend(), model: model).regress(inputs: rows.data.inputs, count: 200, targets: targets)
        // The network's outputs are about the target's center, which predict adds back in Double,
        // printed to the digits the float32 output carries.
        let center = try #require(model.table?.targetCenters?.first)
        let printed = lines.dropFirst().compactMap { Double(String($0)) }
        #expect(printed.count == expected.count)
        for (p, e) in zip(printed, expected) { #expect(abs(p - (Double(e) + center)) <= Double(e.ulp), "\(p) vs \(Double(e) + center)") }

        let evaluated = try backprop(["evaluate", "--model", "m.safetensors", "--data", data, "--json"], in: dir)
        let json = try #require(try jsonLines(evaluated.stdout).first)
        let scored = try DataSource.loadTableForEvaluation(data, model: model, modelFile: "m")
        var actual = try #require(scored.data.targetValues)
        targets.invert(columns: &actual)
        let metrics = RegressionMetrics(
            predicted: try Network(backend: CPUBackend(), model: model).regress(inputs: scored.data.inputs, count: scored.data.count, targets: targets),
            actual: actual, outputs: 1)
        #expect(json["samples"] as? Int == 40)
        #expect(abs((json["r2"] as? Double ?? .nan) - metrics.r2) < 1e-12 && abs((json["mse"] as? Double ?? .nan) - metrics.mse) < 1e-12)
    }

    @Test("a semicolon file with a BOM, CRLF, quotes and a blank line trains; --keep copies a quoted column into predictions")
    func dialectFile() throws {
        let dir = try temporaryDirectory()
        var text = "\u{FEFF}\"name\";\"size\";\"ok\"\r\n"
        for j in 0..<40 { text += "\"Smith, \"\"J\"\" \(j)\";\(j % 2 == 0 ? j : j + 50);\(j % 2 == 0 ? "no" : "yes")\r\n" + (j == 5 ? "\r\n" : "") }
        let data = try write(text, "semi.csv", in: dir)
        let trained = try backprop(["train", "--data", data, "--label", "ok", "--ignore", "name", "--hidden", "4", "--epochs", "2",
                                    "--save", "m.safetensors"], in: dir)
        try #require(trained.status == 0, "\(trained.stderr)")
        let model = try ModelFile.load(dir.appendingPathComponent("m.safetensors").path)
        #expect(model.featureNames == ["size"] && model.classNames == ["no", "yes"])
        let predicted = try backprop(["predict", "--model", "m.safetensors", "--input", data, "--keep", "name"], in: dir)
        try #require(predicted.status == 0, "\(predicted.stderr)")
        let lines = predicted.stdout.split(separator: "\n")
        #expect(lines.first == "name,class,p_no,p_yes")
        #expect(lines.dropFirst().first?.hasPrefix("\"Smith, \"\"J\"\" 0\",") == true, "\(lines.dropFirst().first ?? "")")
        #expect(lines.count == 41)
    }

    @Test("one-hot columns round-trip through save, load and predict; an unseen category warns once and predicts")
    func unseenCategory() throws {
        let dir = try temporaryDirectory()
        let data = try write(flowersCSV(), "flowers.csv", in: dir)
        let trained = try backprop(["train", "--data", data, "--label", "species", "--hidden", "4", "--epochs", "1", "--save", "m.safetensors"], in: dir)
        try #require(trained.status == 0, "\(trained.stderr)")
        let input = try write("soil,width,length\nclay,1,1\npeat,2,0\npeat,0,2\n", "new.csv", in: dir)
        let predicted = try backprop(["predict", "--model", "m.safetensors", "--input", input], in: dir)
        try #require(predicted.status == 0, "\(predicted.stderr)")
        let warnings = predicted.stderr.split(separator: "\n")
        #expect(warnings.count == 1 && warnings[0].contains("column \"soil\": \"peat\" (line 3 and 1 more rows)"), "\(predicted.stderr)")
        // The same numbers as the library's network on inputs encoded by hand: clay = (1, 0), peat = (0, 0).
        let model = try ModelFile.load(dir.appendingPathComponent("m.safetensors").path)
        // Numeric columns lose their training mean (the center) in Double first, as predict does.
        let centers = try #require(model.table?.inputCenters)
        let raw: [Double] = [1, 1, 1, 0, 0, 2, 0, 0, 2, 0, 0, 0]
        var x = raw.indices.map { Float(raw[$0] - centers[$0 % centers.count]) }
        model.standardization?.apply(toColumns: &x)
        let p = try Network(backend: CPUBackend(), model: model).predict(inputs: x, count: 3)
        let cells = predicted.stdout.split(separator: "\n").dropFirst().flatMap { $0.split(separator: ",").dropFirst().map { Float(String($0)) } }
        #expect(cells == p.map { Optional($0) })
    }

    @Test("--resume on the training file keeps its split whatever --seed says; on another file it warns")
    func resume() throws {
        let dir = try temporaryDirectory()
        let data = try write(flowersCSV(), "flowers.csv", in: dir)
        let first = try backprop(["train", "--data", data, "--label", "species", "--hidden", "4", "--epochs", "1", "--save", "m.safetensors"], in: dir)
        try #require(first.status == 0, "\(first.stderr)")
        let again = try backprop(["train", "--data", data, "--resume", "m.safetensors", "--seed", "7", "--epochs", "1"], in: dir)
        try #require(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("split     the split recorded in m.safetensors: seed 1, 20 % test"), "\(again.stdout)")
        #expect(again.stderr.isEmpty)
        let other = try write(flowersCSV(rows: 45), "other.csv", in: dir)
        let elsewhere = try backprop(["train", "--data", other, "--resume", "m.safetensors", "--epochs", "1"], in: dir)
        try #require(elsewhere.status == 0, "\(elsewhere.stderr)")
        #expect(elsewhere.stderr.contains("warning: \(other) is not the file m.safetensors was trained on"), "\(elsewhere.stderr)")
    }
}

@Suite("Scores in proportion: imbalanced classes, inputs out of scale")
struct ScoresInProportionTests {
    /// 200 rows of noise with 10 of class `rare`: a model can score 95 % by never predicting it.
    private func imbalanced() -> String {
        var rng = SeededGenerator(seed: 12)
        return "a,b,label\n" + (0..<200).map { j in "\(rng.nextNormal()),\(rng.nextNormal()),\(j % 20 == 0 ? "rare" : "common")" }
            .joined(separator: "\n") + "\n"
    }

    @Test("a rare class is pointed out at training; evaluate gives per-class precision, recall, F1, balanced and majority accuracy")
    func imbalance() throws {
        let dir = try temporaryDirectory()
        let data = try write(imbalanced(), "imbalanced.csv", in: dir)
        let trained = try backprop(["train", "--data", data, "--hidden", "4", "--epochs", "2", "--save", "m.safetensors"], in: dir)
        try #require(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("classes   imbalanced: class rare is 5.0 % of the training rows; always predicting common scores 95.0 %"),
                "\(trained.stdout)")
        let evaluated = try backprop(["evaluate", "--model", "m.safetensors", "--data", data, "--rows", "all", "--json"], in: dir)
        let json = try #require(try jsonLines(evaluated.stdout).first, "\(evaluated.stderr)")
        let confusion = try #require(json["confusion"] as? [[Int]])
        let perClass = try #require(json["per_class"] as? [[String: Any]])
        #expect(perClass.map { $0["class"] as? String } == ["common", "rare"])
        let supports = confusion.map { $0.reduce(0, +) }
        #expect(perClass.map { $0["support"] as? Int } == supports && supports == [190, 10])
        var recalls = [Double]()
        for k in 0..<2 {
            let recall = Double(confusion[k][k]) / Double(supports[k])
            recalls.append(recall)
            #expect(abs((perClass[k]["recall"] as? Double ?? -1) - recall) < 1e-12)
            let predicted = confusion[0][k] + confusion[1][k]
            if predicted > 0 { #expect(abs((perClass[k]["precision"] as? Double ?? -1) - Double(confusion[k][k]) / Double(predicted)) < 1e-12) }
            else { #expect(perClass[k]["precision"] is NSNull) }
        }
        #expect(abs((json["balanced_accuracy"] as? Double ?? -1) - recalls.reduce(0, +) / 2) < 1e-12)
        #expect(abs((json["majority_accuracy"] as? Double ?? -1) - 0.95) < 1e-12)
        let text = try backprop(["evaluate", "--model", "m.safetensors", "--data", data, "--rows", "all"], in: dir)
        #expect(text.stdout.contains("always predicting common: 95.00 %") && text.stdout.contains("per class  precision"), "\(text.stdout)")
        // Evenly split classes: no note.
        let balanced = try loadCSV("a,label\n" + (0..<40).map { "\($0),\($0 % 2)" }.joined(separator: "\n") + "\n")
        #expect(!balanced.notes.contains { $0.contains("imbalanced") })
    }

    @Test("--balance draws the classes evenly: the rare class gets predicted; recorded in the model, kept on resume; refused for regression")
    func balance() throws {
        let dir = try temporaryDirectory()
        let data = try write(imbalanced(), "imbalanced.csv", in: dir)
        func rareRecall(_ model: String) throws -> Double {
            let run = try backprop(["evaluate", "--model", model, "--data", data, "--rows", "all", "--json"], in: dir)
            let json = try #require(try jsonLines(run.stdout).first, "\(run.stderr)")
            return try #require((json["per_class"] as? [[String: Any]])?.last?["recall"] as? Double)
        }
        let common = ["train", "--data", data, "--hidden", "8", "--epochs", "80", "--validation-split", "0"]
        let plain = try backprop(common + ["--save", "plain.safetensors"], in: dir)
        let balanced = try backprop(common + ["--balance", "--save", "balanced.safetensors"], in: dir)
        try #require(plain.status == 0 && balanced.status == 0, "\(plain.stderr)\(balanced.stderr)")
        #expect(balanced.stdout.contains("batch 32 (classes drawn in equal shares)"), "\(balanced.stdout)")
        // Noise: unweighted, the rare class is never the likelier; drawn evenly, it often is.
        #expect(try rareRecall("plain.safetensors") == 0 && rareRecall("balanced.safetensors") > 0.15)
        let model = try ModelFile.load(dir.appendingPathComponent("balanced.safetensors").path)
        #expect(model.training?.balancedClasses == true)
        let resumed = try backprop(["train", "--data", data, "--epochs", "1", "--resume", "balanced.safetensors"], in: dir)
        #expect(resumed.stdout.contains("(classes drawn in equal shares)"), "\(resumed.stdout)")
        let off = try backprop(["train", "--data", data, "--epochs", "1", "--resume", "balanced.safetensors", "--no-balance"], in: dir)
        #expect(off.status == 0 && !off.stdout.contains("equal shares"), "\(off.stdout)")
        let numbers = try write("x,y\n" + (0..<40).map { "\($0),\(Double($0) * 0.5 + 0.25)" }.joined(separator: "\n") + "\n", "r.csv", in: dir)
        let regression = try backprop(["train", "--data", numbers, "--label", "y", "--balance", "--epochs", "1"], in: dir)
        #expect(regression.status == 1 && regression.stderr.contains("--balance draws the classes in equal shares: a regression has none"), "\(regression.stderr)")
    }

    @Test("inputs far outside the training data (other units) warn in evaluate and predict; the training file never does")
    func outOfScale() throws {
        let dir = try temporaryDirectory()
        var rng = SeededGenerator(seed: 3)
        let rows = (0..<100).map { j in (Double(rng.nextNormal()), j % 2) }
        let data = try write("x,label\n" + rows.map { "\($0.0 + Double($0.1)),\($0.1)" }.joined(separator: "\n") + "\n", "d.csv", in: dir)
        let grams = try write("x,label\n" + rows.map { "\(1000 * ($0.0 + Double($0.1))),\($0.1)" }.joined(separator: "\n") + "\n", "grams.csv", in: dir)
        #expect(try backprop(["train", "--data", data, "--hidden", "4", "--epochs", "1", "--save", "m.safetensors"], in: dir).status == 0)
        for command in [["evaluate", "--model", "m.safetensors", "--data"], ["predict", "--model", "m.safetensors", "--input"]] {
            let same = try backprop(command + [data], in: dir), other = try backprop(command + [grams], in: dir)
            #expect(same.status == 0 && !same.stderr.contains("far outside"), "\(same.stderr)")
            #expect(other.status == 0 && other.stderr.contains("grams.csv: the inputs lie far outside the training data's"), "\(other.stderr)")
            #expect(other.stderr.contains("(x: "), "\(other.stderr)")
        }
    }
}
