import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// Three Gaussian blobs in 4-D as a CSV file (header `x0,…,x3,label`); returns its path.
func blobsCSV(in dir: URL, name: String = "blobs.csv", label: Bool = true) throws -> String {
    let data = Synthetic.blobs(classes: 3, features: 4, perClass: 30, seed: 6)
    var lines = [((0..<4).map { "x\($0)" } + (label ? ["label"] : [])).joined(separator: ",")]
    for j in 0..<data.count {
        lines.append((data.inputs[(j * 4)..<(j * 4 + 4)].map { "\($0)" } + (label ? ["\(data.labels[j])"] : []))
            .joined(separator: ","))
    }
    let path = dir.appendingPathComponent(name).path
    try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite("The train --save, evaluate and predict commands")
struct CommandTests {
    @Test("a saved model evaluates and predicts as the library does, with or without a label column")
    func saveEvaluatePredict() throws {
        let dir = try temporaryDirectory()
        let data = try blobsCSV(in: dir)
        let trained = try backprop(["train", "--data", data, "--hidden", "8", "--epochs", "3", "--save", "m.safetensors"], in: dir)
        try #require(trained.status == 0, "\(trained.stderr)")
        let model = try ModelFile.load(dir.appendingPathComponent("m.safetensors").path)
        #expect(model.training?.epochs == 3)
        #expect(model.featureNames == ["x0", "x1", "x2", "x3"])
        #expect(model.classNames == ["0", "1", "2"])
        #expect(model.standardization?.mean.count == 4)

        // evaluate --json against the library's evaluation of the same rows: by default the
        // 18 test rows of the recorded split, with --rows all every row.
        for (rowsArguments, samples) in [([String](), 18), (["--rows", "all"], 90)] {
            let evaluated = try backprop(["evaluate", "--model", "m.safetensors", "--data", data, "--json"] + rowsArguments, in: dir)
            try #require(evaluated.status == 0, "\(evaluated.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])
            let rows = try DataSource.loadTableForEvaluation(data, model: model, modelFile: "m",
                                                             rows: rowsArguments.isEmpty ? nil : .all).data
            let expected = try Evaluation(network: try Network(backend: CPUBackend(), model: model), data: rows)
            #expect(json["samples"] as? Int == samples)
            #expect(rows.count == samples)
            // JSON keeps 17 significant digits: equal up to the last bit.
            #expect(abs((json["accuracy"] as? Double ?? -1) - expected.metrics.accuracy) < 1e-15)
            #expect(json["confusion"] as? [[Int]] == expected.confusion)
        }

        // predict: the label column is optional; probabilities are the network's outputs.
        let withLabel = try backprop(["predict", "--model", "m.safetensors", "--input", data], in: dir)
        let unlabelled = try blobsCSV(in: dir, name: "inputs.csv", label: false)
        let withoutLabel = try backprop(["predict", "--model", "m.safetensors", "--input", unlabelled, "--output", "p.csv"], in: dir)
        try #require(withLabel.status == 0 && withoutLabel.status == 0, "\(withLabel.stderr) \(withoutLabel.stderr)")
        let written = try String(contentsOf: dir.appendingPathComponent("p.csv"), encoding: .utf8)
        #expect(written == withLabel.stdout)
        // --output /dev/stdout writes through the shell's redirection, appending after `>>`.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "echo first > appended.csv && \"$0\" predict --model m.safetensors --input inputs.csv --output /dev/stdout >> appended.csv",
                           try backpropExecutable().path]
        shell.currentDirectoryURL = dir
        try shell.run(); shell.waitUntilExit()
        #expect(shell.terminationStatus == 0)
        #expect(try String(contentsOf: dir.appendingPathComponent("appended.csv"), encoding: .utf8) == "first\n" + written)
        let lines = written.split(separator: "\n")
        #expect(lines.first == "class,p_0,p_1,p_2")
        #expect(lines.count == 91)
        let x = try DataSource.loadTableForPrediction(data, model: model, modelFile: "m").data.inputs  // standardized
        let probabilities = try Network(backend: CPUBackend(), model: model).predict(inputs: x, count: 90)
        for (j, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",")
            let p = cells.dropFirst().compactMap { Float($0) }
            #expect(p == Array(probabilities[(j * 3)..<(j * 3 + 3)]), "row \(j)")
            #expect(cells.first.map(String.init) == Prediction.predictedClass(probabilities[(j * 3)..<(j * 3 + 3)]).map(String.init))
        }
    }

    @Test("CSV from a pipe: predict --input /dev/stdin and train --data /dev/stdin read it; gzip from a pipe says to decompress it")
    func readsFromPipes() throws {
        let dir = try temporaryDirectory()
        let data = try blobsCSV(in: dir)
        let bin = try backpropExecutable().path
        let shell = URL(fileURLWithPath: "/bin/sh")
        let trained = try runProcess(shell, ["-c", "cat '\(data)' | '\(bin)' train --data /dev/stdin --hidden 4 --epochs 1 --save m.safetensors"], in: dir)
        #expect(trained.status == 0, "\(trained.stderr)")
        let predicted = try runProcess(shell, ["-c", "cat '\(data)' | '\(bin)' predict --model m.safetensors --input /dev/stdin"], in: dir)
        let rows = try String(contentsOfFile: data, encoding: .utf8).split(separator: "\n").count
        #expect(predicted.status == 0 && predicted.stdout.split(separator: "\n").count == rows, "\(predicted.stderr)")
        let zipped = try runProcess(shell, ["-c", "gzip -c '\(data)' | '\(bin)' predict --model m.safetensors --input /dev/stdin"], in: dir)
        #expect(zipped.status == 1 && zipped.stderr.contains("gzip data from a pipe is not read; decompress it first"), "\(zipped.stderr)")
    }

    @Test("train --resume continues the saved network and counts its epochs")
    func resume() throws {
        let dir = try temporaryDirectory()
        let data = try blobsCSV(in: dir)
        let first = try backprop(["train", "--data", data, "--hidden", "6", "--epochs", "2", "--save", "m.safetensors"], in: dir)
        try #require(first.status == 0, "\(first.stderr)")
        let before = try ModelFile.load(dir.appendingPathComponent("m.safetensors").path)
        let second = try backprop(["train", "--data", data, "--epochs", "1", "--resume", "m.safetensors",
                                   "--save", "m.safetensors", "--hidden", "99"], in: dir)
        try #require(second.status == 0, "\(second.stderr)")
        let after = try ModelFile.load(dir.appendingPathComponent("m.safetensors").path)
        #expect(after.architecture == before.architecture, "the saved architecture wins over --hidden")
        #expect(after.training?.epochs == 3)
        #expect(after.standardization == before.standardization)
        #expect(after.parameters != before.parameters)
    }

    @Test("training that diverges stops with a one-line error and keeps the last good model on disk")
    func divergenceKeepsModel() throws {
        let dir = try temporaryDirectory()
        let data = try blobsCSV(in: dir)
        let path = dir.appendingPathComponent("m.safetensors")
        let good = try backprop(["train", "--data", data, "--hidden", "6", "--epochs", "1", "--save", "m.safetensors"], in: dir)
        try #require(good.status == 0, "\(good.stderr)")
        let bytes = try Data(contentsOf: path)

        let diverged = try backprop(["train", "--data", data, "--epochs", "3", "--optimizer", "sgd", "--lr", "1e30",
                                     "--resume", "m.safetensors", "--save", "m.safetensors"], in: dir)
        #expect(diverged.status == 1)
        let lines = diverged.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(diverged.stderr)")
        #expect(diverged.stderr.contains("training diverged") && diverged.stderr.contains("epoch 2"), "numbering continues after the resumed epoch: \(diverged.stderr)")
        #expect(diverged.stderr.contains("try a smaller learning rate (--lr)"), "\(diverged.stderr)")
        #expect(diverged.stderr.contains("m.safetensors was left as it was"), "\(diverged.stderr)")
        #expect(try Data(contentsOf: path) == bytes)
        #expect(try ModelFile.load(path.path).firstNonFiniteParameter == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }.isEmpty)
    }
}
