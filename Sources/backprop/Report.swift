import Backprop
import Foundation

/// One epoch's figures as reported.
struct EpochFigures {
    var epoch: Int
    var train: Metrics
    var validation: Metrics?
    var validationRegression: RegressionMetrics?
    var test: Metrics?
    var testRegression: RegressionMetrics?
    var learningRate: Float
    var seconds: Double
    var samplesPerSecond: Double
}

/// Prints training progress: a live progress bar on a terminal, one plain line per epoch
/// otherwise, or JSON objects with `--json`.
final class Report {
    let json: Bool
    let plan: TrainingPlan
    let interactive: Bool
    /// Regression runs report errors in the targets' units instead of accuracy.
    let regression: Bool
    /// Every process but rank 0 of a data-parallel job keeps quiet.
    let silent: Bool
    private var lastDraw = Date.distantPast
    private var started = Date()
    /// Training samples processed so far, for the summary's overall samples per second.
    private var trainingSamples = 0.0

    /// `live: false` for a process under mpirun, whose output is a pseudo-terminal even when
    /// mpirun's own is a file: plain lines, no progress bar.
    init(json: Bool, plan: TrainingPlan, regression: Bool = false, silent: Bool = false, live: Bool = true) {
        self.json = json
        self.plan = plan
        self.regression = regression
        self.silent = silent
        interactive = !json && !silent && live && isatty(STDOUT_FILENO) == 1
    }

    /// The banner: data, network, and every effective setting.
    func start(data: LoadedData, validation: Int, architecture: Architecture, backend: String, seed: UInt64,
               processes: Int = 1, sharded: Bool = false) {
        started = Date()
        // With --json, standard output is for machines; the notes (an id column, a split that
        // could not be drawn, a resumed run's choices) still reach the person, on standard error.
        if json, !silent {
            for note in data.notes + plan.notes { FileHandle.standardError.write(Data((note + "\n").utf8)) }
        }
        guard !json, !silent else { return }
        let batch = processes > 1
            ? "global batch \(plan.batchSize) (about \(plan.batchSize / processes) on each of \(processes) processes"
                + (sharded ? ", each updating 1/\(processes) of the parameters)" : ")")
            : "batch \(plan.batchSize)"
        let drawn = plan.balanced ? " (classes drawn in equal shares)" : ""
        let target = regression
            ? "regression on \(listed(data.encoding?.labels ?? []))"
            : "\(data.train.classCount) classes" + (data.encoding?.classes.map { " (\(abbreviated($0)))" } ?? "")
        print("data      \(data.name): \(data.train.count) training, \(validation) validation, \(data.test.count) test samples, \(data.train.featureCount) input\(data.train.featureCount == 1 ? "" : "s"), \(target)")
        for note in data.notes { print(note) }
        print("network   \(architecture) (\(architecture.parameterCount) parameters)")
        let o = plan.optimizer, epochs = plan.plannedEpochs - plan.startEpoch
        print("training  \(o.kind.rawValue), \(plan.schedule.summary), weight decay \(o.weightDecay), \(batch)\(drawn), \(plan.stopping.patience == nil ? "" : "up to ")\(epochs) epoch\(epochs == 1 ? "" : "s") (\(plan.startEpoch + 1 == plan.plannedEpochs ? "epoch \(plan.plannedEpochs)" : "\(plan.startEpoch + 1)–\(plan.plannedEpochs)")), seed \(seed), on \(backend)")
        if let patience = plan.stopping.patience {
            print("stopping  early stopping on the validation loss, patience \(patience) epochs; the best epoch's weights are kept")
        } else {
            print("stopping  none" + (validation > 0 ? " (the best epoch by validation loss is kept; --early-stopping stops at it)" : " (no validation split: the last epoch is kept)"))
        }
        if !plan.automatic.isEmpty { print("auto      \(plan.automatic.joined(separator: ", ")) for \(data.train.count) training samples (rule: \(AutomaticSettings.rule))") }
        for note in plan.notes { print(note) }
    }

    func progress(_ p: BatchProgress) throws {
        guard interactive, p.batch == p.batches || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let width = 24
        let filled = width * p.batch / max(p.batches, 1)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let loss = try p.runningLoss()
        let rate = Double(p.samples) / max(p.elapsed, 1e-9)
        let done = (p.epoch - plan.startEpoch - 1) * p.batches + p.batch
        let left = (plan.plannedEpochs - p.epoch) * p.batches + p.batches - p.batch
        let perStep = Date().timeIntervalSince(started) / Double(max(done, 1))
        let eta = "\(clock(p.elapsed))<\(clock(perStep * Double(p.batches - p.batch))), run \(plan.stopping.patience == nil ? "" : "≤")\(clock(perStep * Double(left)))"
        print("\r\u{1B}[2Kepoch \(pad(p.epoch, plan.plannedEpochs)) \(bar) \(p.batch)/\(p.batches)  loss \(fmt(loss, 4))  \(Int(rate)) samples/s  \(eta)",
              terminator: "")
        fflush(nil)
    }

    func epoch(_ e: EpochFigures) {
        trainingSamples += e.samplesPerSecond * e.seconds
        guard !silent else { return }
        if json {
            var object: [String: Any] = ["epoch": e.epoch, "train_loss": e.train.loss, "learning_rate": Double(e.learningRate),
                                         "seconds": e.seconds, "samples_per_second": e.samplesPerSecond]
            if !regression { object["train_accuracy"] = e.train.accuracy }
            add("validation", e.validation, e.validationRegression, to: &object)
            add("test", e.test, e.testRegression, to: &object)
            emit(object)
            return
        }
        if interactive { print("\r\u{1B}[2K", terminator: "") }
        var line = "epoch \(pad(e.epoch, plan.plannedEpochs))  train loss \(fmt(e.train.loss, 4))"
        if !regression { line += " acc \(pct(e.train.accuracy))" }
        line += words("val", e.validation, e.validationRegression) + words("test", e.test, e.testRegression)
        line += "  \(fmt(e.seconds, 1)) s  \(Int(e.samplesPerSecond)) samples/s"
        print(line)
        fflush(nil)
    }

    /// The summary: the kept (best) epoch, its validation and test figures.
    /// `checksum`: the parameters' fingerprint, the same on every process of a data-parallel job.
    func finish(best: EpochPoint, last: Int, stoppedEarly: Bool, test: Metrics, testRegression: RegressionMetrics?,
                seconds: Double, checksum: UInt64? = nil) {
        guard !silent else { return }
        let parameters = checksum.map { "0x" + String($0, radix: 16) }
        if json {
            var object: [String: Any] = ["summary": true, "epoch": last, "best_epoch": best.epoch, "stopped_early": stoppedEarly,
                                         "seconds": seconds, "samples_per_second": trainingSamples / max(seconds, 1e-9),
                                         "train_loss": best.train.loss]
            // The best epoch's figures under the epoch lines' names.
            add("train", best.train, nil, to: &object)
            add("validation", best.validation, nil, to: &object)
            if let r2 = best.validationR2 { object["validation_r2"] = r2 }
            if let mse = best.validationMSE { object["validation_mse"] = mse }
            if let mae = best.validationMAE { object["validation_mae"] = mae }
            add("test", test, testRegression, to: &object)
            if let parameters { object["parameter_checksum"] = parameters }
            emit(object)
            return
        }
        if let parameters { print("parallel  parameters identical on every process (checksum \(parameters))") }
        let why = stoppedEarly ? ", stopped early after epoch \(last) (no better validation loss for \(plan.stopping.patience ?? 0) epochs)" : ""
        let kept = best.validation == nil ? "epoch \(best.epoch)" : "best epoch \(best.epoch) by validation loss (\(fmt(best.validation!.loss, 4)))"
        let score = testRegression.map { "test mse \(short($0.mse)), mae \(short($0.mae)), r2 \(fmt($0.r2, 4))" }
            ?? "test accuracy \(pct(test.accuracy).trimmingCharacters(in: .whitespaces))"
        print("done      \(score) with the weights of \(kept)\(why), in \(fmt(seconds, 1)) s")
    }

    /// A split's metrics in an epoch line.
    private func words(_ name: String, _ m: Metrics?, _ r: RegressionMetrics?) -> String {
        if let r { return "  \(name) mse \(short(r.mse)) mae \(short(r.mae)) r2 \(fmt(r.r2, 4))" }
        guard let m else { return "" }
        return "  \(name) loss \(fmt(m.loss, 4))" + (regression ? "" : " acc \(pct(m.accuracy))")
    }

    /// A split's metrics in JSON: loss and accuracy, or for regression loss, MSE, MAE and R².
    private func add(_ name: String, _ m: Metrics?, _ r: RegressionMetrics?, to object: inout [String: Any]) {
        if let m {
            object["\(name)_loss"] = m.loss
            if !regression { object["\(name)_accuracy"] = m.accuracy }
        }
        if let r { object["\(name)_mse"] = r.mse; object["\(name)_mae"] = r.mae; object["\(name)_r2"] = r.r2 }
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
func abbreviated(_ names: [String], limit: Int = 8) -> String { listed(names, limit: limit) }
func pct(_ x: Double) -> String { String(format: "%6.2f %%", 100 * x) }
func pad(_ i: Int, _ total: Int) -> String {
    let w = String(total).count
    return String(repeating: " ", count: max(0, w - String(i).count)) + "\(i)/\(total)"
}
/// `1:05` or `1:02:05`.
func clock(_ seconds: Double) -> String {
    let s = Int(seconds.isFinite ? max(seconds, 0) : 0)
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}
