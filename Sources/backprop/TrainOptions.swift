import ArgumentParser
import Backprop
import Foundation

/// How the learning rate moves and when training stops.
struct ScheduleOptions: ParsableArguments {
    @Option(help: "Learning-rate schedule over the run's optimizer steps: \(ScheduleKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: cosine; constant with --lr-decay).")
    var schedule: ScheduleKind?
    @Option(parsing: .unconditional, help: "Steps over which the learning rate rises linearly to --lr first (default 0).")
    var warmupSteps: Int?
    @Option(parsing: .unconditional, help: "Legacy: multiply the learning rate by this factor after each epoch, on top of --schedule if given (else the schedule is constant).")
    var lrDecay: Float?
    @Option(parsing: .unconditional, help: "Fraction of the training split held out to validate each epoch (default 0.1; 0 for none).")
    var validationSplit: Double?
    @Flag(inversion: .prefixedNo, help: "Stop when the validation loss has not improved for --patience epochs (default: on when --epochs is not given).")
    var earlyStopping: Bool?
    @Option(parsing: .unconditional, help: "Epochs without a better validation loss before early stopping (default \(AutomaticSettings.patience)).")
    var patience: Int?
    @Flag(help: "Evaluate on the test split after every epoch, not only at the end.")
    var evalTest = false

    func validate() throws {
        if let warmupSteps, warmupSteps < 0 { throw CommandError("--warmup-steps must be zero or more, got \(warmupSteps)") }
        if let lrDecay, !(lrDecay > 0 && lrDecay <= 1) { throw CommandError("--lr-decay must be in (0, 1], got \(lrDecay)") }
        if let validationSplit, !(validationSplit >= 0 && validationSplit < 1) {
            throw CommandError("--validation-split must be at least 0 and below 1, got \(validationSplit)")
        }
        if let patience, patience < 1 { throw CommandError("--patience must be at least 1, got \(patience)") }
        if earlyStopping == true, validationSplit == 0 {
            throw CommandError("--early-stopping watches the validation loss: it needs --validation-split above 0")
        }
    }
}

/// Where a run writes: models, checkpoint, curves.
struct OutputOptions: ParsableArguments {
    @Option(help: "Save the best model so far (by validation loss; the last without validation) after each epoch, atomically.")
    var save: String?
    @Option(help: "Save the last epoch's model after each epoch, atomically.")
    var saveLast: String?
    @Option(help: "Save the last epoch's model with the optimizer state, shuffler and schedule after each epoch: --resume FILE continues exactly.")
    var checkpoint: String?
    @Option(help: "Write the loss and accuracy (or R²) curves per epoch to this SVG file, after each epoch.")
    var plot: String?

    /// The files a run writes, by option.
    var files: [(option: String, path: String)] {
        [("--save", save), ("--save-last", saveLast), ("--checkpoint", checkpoint), ("--plot", plot)]
            .compactMap { option, path in path.map { (option, $0) } }
    }

    /// Checks before the first step that every output can be written: its folder exists and
    /// takes a new file, and the path is not a folder. Stale temporary files of a killed run
    /// are removed on the way.
    ///
    /// No output may replace what the run reads: the data, or the resumed model — except by a
    /// model or checkpoint (`--checkpoint c --resume c` continues a run in place), so only
    /// `--plot` is checked against `--resume`.
    func checkWritable(data: String?, resume: String?) throws {
        let paths = files.map(\.path)
        if let twice = paths.first(where: { p in paths.filter { sameFile($0, p) }.count > 1 }) {
            throw CommandError("\(files.filter { sameFile($0.path, twice) }.map(\.option).joined(separator: " and ")) name the same file \(twice); give each its own")
        }
        for (option, path) in files {
            try refuseOverwriting(option, path, inputs: [("--data", data), ("--resume", option == "--plot" ? resume : nil)])
            do { try checkOutputPath(path) } catch { throw CommandError("\(option) \(path): \(error)") }
        }
    }
}

extension ScheduleKind: ExpressibleByArgument {}
