import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import BackpropCore
@testable import BackpropCPU

/// 200 rows of 4 random features and a random 0/1 label: nothing to learn, so a network that
/// memorizes the training rows makes its validation loss rise.
private func noiseCSV(in dir: URL) throws -> String {
    var rng = SeededGenerator(seed: 77)
    var lines = ["a,b,c,d,label"]
    for _ in 0..<200 { lines.append((0..<4).map { _ in "\(Float(rng.nextNormal()))" }.joined(separator: ",") + ",\(rng.next() % 2)") }
    let path = dir.appendingPathComponent("noise.csv").path
    try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

private func objects(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}

private func temporaries(in dir: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
}

@Suite("train: validation, early stopping, checkpoints, signals, curves")
struct TrainingCommandTests {
    @Test("--save keeps the best epoch by validation loss, and early stopping stops after --patience epochs")
    func bestEpochKept() throws {
        let dir = try temporaryDirectory()
        let data = try noiseCSV(in: dir)
        let run = try backprop(["train", "--data", data, "--hidden", "64", "--lr", "0.01", "--epochs", "200", "--early-stopping",
                                "--patience", "5", "--json", "--save", "best.safetensors", "--save-last", "last.safetensors"], in: dir)
        try #require(run.status == 0, "\(run.stderr)")
        let lines = objects(run.stdout)
        let summary = try #require(lines.last)
        let epochs = lines.dropLast().map { ($0["epoch"] as! Int, $0["validation_loss"] as! Double) }
        let best = epochs.min { $0.1 < $1.1 }!
        #expect(summary["best_epoch"] as? Int == best.0 && summary["stopped_early"] as? Bool == true)
        #expect(summary["train_accuracy"] is Double && summary["validation_accuracy"] is Double, "\(summary)")
        #expect(epochs.count == best.0 + 5 && epochs.count < 200, "stops 5 epochs after the best")
        // The saved weights are the best epoch's: their loss on the recorded validation rows is that epoch's.
        let model = try ModelFile.load(dir.appendingPathComponent("best.safetensors").path)
        let last = try ModelFile.load(dir.appendingPathComponent("last.safetensors").path)
        #expect(model.training?.epochs == best.0 && last.training?.epochs == epochs.count)
        let record = try #require(model.training?.validationSplit)
        // Loaded as train loaded it: statistics fitted without the validation rows.
        let loaded = try DataSource.loadTable(data, options: { var o = TableOptions(); o.seed = 1; o.validation = record; return o }())
        let validation = try loaded.train.holdOut(record, stratified: true).validation
        var rescaled = validation
        rescaled.classCount = 2
        let loss = try Evaluation(network: try Network(backend: CPUBackend(), model: model), data: rescaled).metrics.loss
        #expect(abs(loss - best.1) < 1e-5 * best.1, "validation loss of the saved weights \(loss), best epoch's \(best.1)")
        #expect(model.parameters != last.parameters)
    }

    @Test("5 + 5 epochs resumed from --checkpoint equal 10 epochs bit for bit; epoch numbers continue")
    func resumeExactly() throws {
        let dir = try temporaryDirectory()
        let data = try blobsCSV(in: dir)
        let common = ["train", "--data", data, "--hidden", "8", "--schedule", "constant", "--optimizer", "adam"]
        #expect(try backprop(common + ["--epochs", "5", "--checkpoint", "a.ckpt"], in: dir).status == 0)
        let second = try backprop(common + ["--epochs", "5", "--resume", "a.ckpt", "--checkpoint", "b.ckpt", "--json"], in: dir)
        try #require(second.status == 0, "\(second.stderr)")
        #expect(objects(second.stdout).first?["epoch"] as? Int == 6)
        #expect(try backprop(common + ["--epochs", "10", "--checkpoint", "c.ckpt"], in: dir).status == 0)
        let resumed = try Safetensors.parse(Array(try Data(contentsOf: dir.appendingPathComponent("b.ckpt"))), file: "b")
        let whole = try Safetensors.parse(Array(try Data(contentsOf: dir.appendingPathComponent("c.ckpt"))), file: "c")
        let moments = (0..<4).flatMap { ["optimizer.first.\($0)", "optimizer.second.\($0)"] }
        #expect(resumed.tensors.map(\.name) == whole.tensors.map(\.name) && Set(whole.tensors.map(\.name)).isSuperset(of: moments))
        for (a, b) in zip(resumed.tensors, whole.tensors) { #expect(a.tensor == b.tensor, "\(a.name)") }
    }

    @Test("resuming a saved model says which given options it ignores, and chooses the weight decay as a new run does")
    func resumeSaysWhatItIgnores() throws {
        let dir = try temporaryDirectory()
        let data = try blobsCSV(in: dir)
        let first = try backprop(["train", "--data", data, "--hidden", "8", "--epochs", "1", "--save", "m.safetensors"], in: dir)
        try #require(first.status == 0, "\(first.stderr)")
        let again = try backprop(["train", "--data", data, "--hidden", "4", "--activation", "tanh", "--loss", "mse", "--epochs", "1",
                                  "--resume", "m.safetensors", "--checkpoint", "m.safetensors"], in: dir)
        try #require(again.status == 0, "\(again.stderr)")
        let output = again.stdout + again.stderr
        #expect(output.contains("--hidden, --activation, --loss are ignored: the network is the model's, 4 → 8 relu → 3 softmax · cross-entropy"), "\(output)")
        // Continued in place: --checkpoint may name the model --resume reads.
        #expect(try ModelFile.load(dir.appendingPathComponent("m.safetensors").path).checkpoint != nil)
        let decay = { (text: String) in text.split(separator: "\n").first { $0.hasPrefix("training") }.map(String.init) ?? "" }
        #expect(decay(again.stdout).contains("weight decay 0.01") && decay(first.stdout).contains("weight decay 0.01"),
                "\(decay(first.stdout)) / \(decay(again.stdout))")

        // A weight decay given to the first run is the model's: resuming it keeps it, checkpoint or not.
        let none = try backprop(["train", "--data", data, "--hidden", "8", "--epochs", "1", "--weight-decay", "0", "--save", "n.safetensors"], in: dir)
        try #require(none.status == 0, "\(none.stderr)")
        #expect(try ModelFile.load(dir.appendingPathComponent("n.safetensors").path).training?.weightDecay == 0)
        let kept = try backprop(["train", "--data", data, "--epochs", "1", "--resume", "n.safetensors"], in: dir)
        try #require(kept.status == 0, "\(kept.stderr)")
        // The settings chosen from the data, before "for N training samples (rule: …)".
        let auto = kept.stdout.split(separator: "\n").first { $0.hasPrefix("auto") }.map { String($0.prefix { $0 != "(" }) } ?? ""
        #expect(decay(kept.stdout).contains("weight decay 0.0,") && !auto.contains("weight decay"), "\(kept.stdout)")
    }

    @Test("a checkpoint fine-tuned on other rows keeps the best of the new epochs, not the old best judged on other validation rows")
    func fineTuningForgetsTheOldBest() throws {
        let dir = try temporaryDirectory()
        let data = try blobsCSV(in: dir)
        let first = try backprop(["train", "--data", data, "--hidden", "8", "--epochs", "20", "--lr", "0.01", "--checkpoint", "a.ckpt"], in: dir)
        try #require(first.status == 0, "\(first.stderr)")
        // The same inputs with the classes renamed: the old weights score badly on its validation rows.
        let lines = try String(contentsOfFile: data, encoding: .utf8).split(separator: "\n").map(String.init)
        let moved = [lines[0]] + lines.dropFirst().map { line in
            let cells = line.split(separator: ",").map(String.init)
            return (cells.dropLast() + ["\((Int(cells.last!)! + 1) % 3)"]).joined(separator: ",")
        }
        let other = dir.appendingPathComponent("other.csv").path
        try moved.joined(separator: "\n").write(toFile: other, atomically: true, encoding: .utf8)
        let tuned = try backprop(["train", "--data", other, "--resume", "a.ckpt", "--epochs", "2", "--save", "t.safetensors",
                                  "--features", "x0", "--seed", "9"], in: dir)
        try #require(tuned.status == 0, "\(tuned.stderr)")
        #expect(tuned.stdout.contains("the validation rows are not those of a.ckpt (other data): its best epoch 20 is forgotten"), "\(tuned.stdout)")
        #expect(tuned.stdout.contains("--features is ignored: the inputs are the model's (4 inputs"), "\(tuned.stdout)")
        #expect(tuned.stdout.contains("--seed 9 does not change the shuffling"), "\(tuned.stdout)")
        let saved = try ModelFile.load(dir.appendingPathComponent("t.safetensors").path)
        let old = try ModelFile.load(dir.appendingPathComponent("a.ckpt").path)
        #expect([21, 22].contains(saved.training?.epochs ?? 0) && saved.parameters != old.parameters)
        #expect(tuned.stdout.contains("weights of best epoch 21") || tuned.stdout.contains("weights of best epoch 22"), "\(tuned.stdout)")

        // Another --validation-split on the same file: other rows too.
        let split = try backprop(["train", "--data", data, "--resume", "a.ckpt", "--epochs", "1", "--validation-split", "0.3"], in: dir)
        #expect(split.stdout.contains("(another --validation-split): its best epoch 20 is forgotten"), "\(split.stdout)")
        // The same rows: the checkpoint's best stands, and its seed is the banner's.
        let same = try backprop(["train", "--data", data, "--resume", "a.ckpt", "--epochs", "1"], in: dir)
        #expect(!same.stdout.contains("forgotten") && same.stdout.contains("seed 1,"), "\(same.stdout)")
    }

    @Test("a finished checkpoint continues: with --epochs, and without (a new schedule from the old peak, not the last rate of 0)")
    func finishedCheckpointContinues() throws {
        let dir = try temporaryDirectory()
        let data = try blobsCSV(in: dir)
        // One step per epoch: the last epoch is the schedule's last update.
        let first = try backprop(["train", "--data", data, "--hidden", "8", "--epochs", "3", "--batch-size", "100000",
                                  "--checkpoint", "ck.safetensors", "--json"], in: dir)
        try #require(first.status == 0, "\(first.stderr)")
        let rates = first.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["learning_rate"] as? Double
        }
        #expect(rates.count == 3 && rates.allSatisfy { $0 > 0 }, "every update moves the weights: \(rates)")
        for extra in [["--epochs", "1"], []] {
            let again = try backprop(["train", "--data", data, "--resume", "ck.safetensors", "--json"] + extra, in: dir)
            #expect(again.status == 0, "\(extra): \(again.stderr)")
        }
        // Its plan done (3 of 3, --epochs given: no early stopping), a run without --epochs is a
        // new plan of automatic length, with early stopping as a new run has.
        let banner = try backprop(["train", "--data", data, "--resume", "ck.safetensors", "--patience", "1",
                                   "--save", "ck.safetensors"], in: dir)
        try #require(banner.status == 0, "\(banner.stderr)")
        #expect(banner.stdout.contains("early stopping on the validation loss, patience 1"), "\(banner.stdout)")
        // --save over the checkpoint it resumes drops the optimizer state: said.
        #expect(banner.stdout.contains("--save ck.safetensors replaces the checkpoint with a model without its optimizer state"), "\(banner.stdout)")
    }

    @Test("a warmup as long as the run is pointed out: the learning rate would never reach its peak")
    func warmupLongerThanTheRun() throws {
        let dir = try temporaryDirectory()
        let data = try blobsCSV(in: dir)
        let long = try backprop(["train", "--data", data, "--hidden", "8", "--epochs", "1", "--warmup-steps", "100000000000"], in: dir)
        #expect(long.status == 0 && long.stdout.contains("--warmup-steps 100000000000 is not below the run's") && long.stdout.contains("never reaches its peak"),
                "\(long.stdout)\(long.stderr)")
        let short = try backprop(["train", "--data", data, "--hidden", "8", "--epochs", "2", "--warmup-steps", "2"], in: dir)
        #expect(short.status == 0 && !short.stdout.contains("never reaches"), "\(short.stdout)")
    }

    @Test("SIGINT finishes the step, says which epoch the file holds, exits 130 and leaves no temporary file")
    func interrupt() throws {
        let dir = try temporaryDirectory()
        let data = try blobsCSV(in: dir)
        let out = dir.appendingPathComponent("out.txt"), err = dir.appendingPathComponent("err.txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = try backpropExecutable()
        process.arguments = ["train", "--data", data, "--hidden", "8", "--epochs", "1000000", "--save", "m.safetensors",
                             "--checkpoint", "c.ckpt"]
        process.currentDirectoryURL = dir
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !(String(decoding: (try? Data(contentsOf: out)) ?? Data(), as: UTF8.self).contains("3/1000000 ")) {
            usleep(20_000)
        }
        process.interrupt()
        process.waitUntilExit()
        let message = String(decoding: try Data(contentsOf: err), as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == 130, "\(message)")
        #expect(message.contains("interrupted at epoch") && message.contains("m.safetensors holds the model of epoch"), "\(message)")
        let checkpoint = try ModelFile.load(dir.appendingPathComponent("c.ckpt").path)
        #expect(message.contains("c.ckpt holds the checkpoint of epoch \(checkpoint.checkpoint?.state.epochs ?? -1)"), "\(message)")
        #expect(try ModelFile.load(dir.appendingPathComponent("m.safetensors").path).firstNonFiniteParameter == nil)
        #expect(try temporaries(in: dir).isEmpty)
    }

    @Test("output paths are checked before the first step; a stale temporary file is removed by the next save")
    func outputPaths() throws {
        let dir = try temporaryDirectory()
        let data = try blobsCSV(in: dir)
        let missing = try backprop(["train", "--data", data, "--epochs", "1", "--save", "no/such/folder/m.safetensors"], in: dir)
        #expect(missing.status == 1 && missing.stderr.contains("--save no/such/folder/m.safetensors"), "\(missing.stderr)")
        #expect(!missing.stdout.contains("epoch"), "nothing trained")
        let stale = dir.appendingPathComponent(".m.safetensors.tmp-AbC123")
        try Data(count: 1000).write(to: stale)
        #expect(try backprop(["train", "--data", data, "--epochs", "1", "--save", "m.safetensors"], in: dir).status == 0)
        #expect(try temporaries(in: dir).isEmpty)
    }

    @Test("a loss that grows a thousandfold stops the run with status 1; the last good model stays")
    func divergence() throws {
        let dir = try temporaryDirectory()
        let data = try blobsCSV(in: dir)
        let run = try backprop(["train", "--data", data, "--hidden", "8", "--optimizer", "sgd", "--lr", "10", "--epochs", "50",
                                "--validation-split", "0", "--save", "m.safetensors"], in: dir)
        #expect(run.status == 1 && run.stderr.contains("training diverged"), "\(run.stdout)\(run.stderr)")
        #expect(!run.stdout.contains("done"))
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.safetensors").path) {
            #expect(try ModelFile.load(dir.appendingPathComponent("m.safetensors").path).firstNonFiniteParameter == nil)
        }
    }

    @Test("--plot writes well-formed SVG with both curves and the best epoch marked")
    func plot() throws {
        let dir = try temporaryDirectory()
        let data = try blobsCSV(in: dir)
        // Cross-entropy keeps falling on these blobs: the best epoch is the last, at the right edge.
        #expect(try backprop(["train", "--data", data, "--hidden", "8", "--epochs", "6", "--plot", "curves.svg"], in: dir).status == 0)
        let svg = try Data(contentsOf: dir.appendingPathComponent("curves.svg"))
        let parser = XMLParser(data: svg)
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        let text = String(decoding: svg, as: UTF8.self)
        #expect(text.contains("<svg") && text.contains("best epoch") && text.contains("validation") && text.contains(">epoch<"))
        #expect(text.components(separatedBy: "<polyline").count - 1 == 4, "train and validation, loss and accuracy")
        // Each best-epoch label (about 70 px wide) stays inside the 990 px picture, leftwards of
        // its line near the right edge.
        let labels = text.split(separator: "\n").filter { $0.contains(">best epoch") }
        #expect(labels.count == 2, "\(labels)")
        for label in labels {
            let x = Double(label.split(separator: "x=\"")[1].prefix { $0 != "\"" }) ?? .infinity
            #expect(label.contains("text-anchor=\"end\"") ? x - 70 >= 0 : x + 70 <= 990, "\(label)")
        }

        // Without validation: no validation legend and no best epoch (the last is kept).
        #expect(try backprop(["train", "--data", data, "--hidden", "8", "--epochs", "3", "--validation-split", "0",
                              "--plot", "plain.svg"], in: dir).status == 0)
        let plain = try String(contentsOf: dir.appendingPathComponent("plain.svg"), encoding: .utf8)
        #expect(!plain.contains("validation") && !plain.contains("best epoch") && plain.contains(">train<"), "\(plain)")
    }

    @Test("--help offers only hidden activations; --version; the banner names every setting")
    func smallThings() throws {
        let dir = try temporaryDirectory()
        let help = try backprop(["train", "--help"], in: dir)
        #expect(help.stdout.contains("relu") && !help.stdout.contains("softmax"), "\(help.stdout)")
        #expect(try backprop(["train", "--activation", "softmax"], in: dir).status != 0)
        let version = try backprop(["--version"], in: dir)
        #expect(version.status == 0 && version.stdout.hasPrefix("backprop "))
        let data = try blobsCSV(in: dir)
        let run = try backprop(["train", "--data", data, "--epochs", "2"], in: dir)
        for word in ["adam", "cosine", "weight decay", "batch 32", "2 epochs", "seed 1", "validation", "stopping", "auto      hidden 64"] {
            #expect(run.stdout.contains(word), "\(word) in \(run.stdout)")
        }
    }
}
