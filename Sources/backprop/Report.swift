import Backprop
import Foundation

/// Prints training progress: a live progress bar on a terminal, one plain line per epoch
/// otherwise, or JSON objects with `--json`.
final class Report {
    let json: Bool
    let epochs: Int
    let interactive: Bool
    /// Regression runs report errors in the targets' units instead of accuracy.
    let regression: Bool
    private var lastDraw = Date.distantPast
    /// Training samples processed so far, for the summary's overall samples per second.
    private var trainingSamples = 0.0

    init(json: Bool, epochs: Int, regression: Bool = false) {
        self.json = json
        self.epochs = epochs
        self.regression = regression
        interactive = !json && isatty(STDOUT_FILENO) == 1
    }

    func start(data: LoadedData, architecture: Architecture, backend: String,
               optimizer: OptimizerConfiguration, batchSize: Int) {
        guard !json else { return }
        let target = regression
            ? "regression on \(data.encoding?.labels.joined(separator: ", ") ?? "")"
            : "\(data.train.classCount) classes" + (data.encoding?.classes.map { " (\(abbreviated($0)))" } ?? "")
        print("data      \(data.name): \(data.train.count) training, \(data.test.count) test samples, \(data.train.featureCount) inputs, \(target)")
        for note in data.notes { print(note) }
        print("network   \(architecture) (\(architecture.parameterCount) parameters)")
        print("training  \(optimizer.kind.rawValue) lr \(optimizer.learningRate), batch \(batchSize), \(epochs) epochs on \(backend)")
    }

    func progress(_ p: BatchProgress) throws {
        guard interactive, p.batch == p.batches || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let width = 30
        let filled = width * p.batch / max(p.batches, 1)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let loss = try p.runningLoss()
        let rate = Double(p.samples) / max(p.elapsed, 1e-9)
        print("\r\u{1B}[2Kepoch \(pad(p.epoch, epochs)) \(bar) \(p.batch)/\(p.batches)  loss \(fmt(loss, 4))  \(Int(rate)) samples/s",
              terminator: "")
        fflush(nil)
    }

    func epoch(_ e: EpochReport) {
        trainingSamples += e.samplesPerSecond * e.seconds
        if json {
            var object: [String: Any] = [
                "epoch": e.epoch, "train_loss": e.train.loss,
                "seconds": e.seconds, "samples_per_second": e.samplesPerSecond,
            ]
            if !regression { object["train_accuracy"] = e.train.accuracy }
            add(e, to: &object)
            emit(object)
            return
        }
        if interactive { print("\r\u{1B}[2K", terminator: "") }
        var line = "epoch \(pad(e.epoch, epochs))  train loss \(fmt(e.train.loss, 4))"
        if let r = e.regression {
            line += "  test mse \(short(r.mse))  mae \(short(r.mae))  r2 \(fmt(r.r2, 4))"
        } else {
            line += "  acc \(pct(e.train.accuracy))"
            if let t = e.test { line += "  test loss \(fmt(t.loss, 4))  acc \(pct(t.accuracy))" }
        }
        line += "  \(fmt(e.seconds, 1)) s  \(Int(e.samplesPerSecond)) samples/s"
        print(line)
        fflush(nil)
    }

    func finish(last: EpochReport?, seconds: Double) {
        if json {
            var object: [String: Any] = ["summary": true, "epoch": last?.epoch ?? 0, "seconds": seconds,
                                         "samples_per_second": trainingSamples / max(seconds, 1e-9)]
            if let l = last { object["train_loss"] = l.train.loss; add(l, to: &object) }
            emit(object)
            return
        }
        if let r = last?.regression {
            print("done      test mse \(short(r.mse)), mae \(short(r.mae)), r2 \(fmt(r.r2, 4)) after \(last?.epoch ?? 0) epochs in \(fmt(seconds, 1)) s")
        } else if let t = last?.test {
            print("done      test accuracy \(pct(t.accuracy)) after \(last?.epoch ?? 0) epochs in \(fmt(seconds, 1)) s")
        }
    }

    /// The test metrics of an epoch: loss and accuracy, or for regression loss, MSE, MAE and R².
    private func add(_ e: EpochReport, to object: inout [String: Any]) {
        if let t = e.test {
            object["test_loss"] = t.loss
            if !regression { object["test_accuracy"] = t.accuracy }
        }
        if let r = e.regression { object["test_mse"] = r.mse; object["test_mae"] = r.mae; object["test_r2"] = r.r2 }
    }

    private func emit(_ object: [String: Any]) {
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
           let text = String(data: data, encoding: .utf8) {
            print(text)
            fflush(nil)
        }
    }
}

func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
/// Four significant digits, whatever the scale of the targets.
func short(_ x: Double) -> String { String(format: "%.4g", x) }
/// The first names of a long list.
func abbreviated(_ names: [String], limit: Int = 8) -> String {
    names.count <= limit ? names.joined(separator: ", ") : names.prefix(limit).joined(separator: ", ") + ", …"
}
func pct(_ x: Double) -> String { String(format: "%6.2f %%", 100 * x) }
func pad(_ i: Int, _ total: Int) -> String {
    let w = String(total).count
    return String(repeating: " ", count: max(0, w - String(i).count)) + "\(i)/\(total)"
}
