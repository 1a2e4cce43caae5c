import Backprop
import Foundation

/// The effective settings of a run, whether given, resumed from a checkpoint, or chosen from
/// the data; the banner prints every one of them.
struct TrainingPlan {
    var batchSize: Int
    /// Epochs done before this run (numbering continues from here).
    var startEpoch: Int
    /// The number of the last epoch this run may train.
    var plannedEpochs: Int
    var optimizer: OptimizerConfiguration
    var schedule: LearningRateSchedule
    /// Early stopping's watch (its patience nil: never stops).
    var stopping: EarlyStopping
    var validation: ValidationRecord?
    /// `--balance`: each epoch draws the classes in equal shares.
    var balanced = false
    /// Restore the optimizer, shuffler and history from it: the run continues exactly.
    var checkpoint: TrainingCheckpoint?
    /// The automatic choices taken, for the banner (empty when every one was given).
    var automatic: [String]
    var notes: [String]
}

extension Train {
    /// Holds out the validation samples from the training split without copying them: they are
    /// moved to the end of `loaded.train` (the training samples first, each part in order), and
    /// the run splits the two after the upload. Those recorded in a resumed model, else
    /// `--validation-split` (default 0.1) of them drawn with `--seed`. Returns the record (its
    /// count: the held-out samples at the end); nil for none.
    func holdOutValidation(_ loaded: inout LoadedData, resumed: ModelFile?) throws -> ValidationRecord? {
        guard let record = validationRecord(resumed: resumed) else { return nil }
        do {
            return try loaded.train.moveHeldOutToEnd(record, stratified: loaded.task == .classification)
        } catch where loop.validationSplit == nil && loop.earlyStopping != true {
            loaded.notes.append("note      no validation split: \(error)")
            return nil
        }
    }

    /// The validation rows to hold out: those recorded in a resumed model, else
    /// `--validation-split` (default 0.1) drawn with `--seed`. Nil for none.
    func validationRecord(resumed: ModelFile?) -> ValidationRecord? {
        let recorded = resumed?.checkpoint?.state.validation ?? resumed?.training?.validationSplit
        let fraction = loop.validationSplit ?? recorded?.fraction ?? 0.1
        guard fraction > 0 else { return nil }
        return recorded.flatMap { $0.fraction == fraction ? $0 : nil } ?? ValidationRecord(fraction: fraction, seed: seed)
    }

    /// The data-driven choices (see ``AutomaticSettings``) for `samples` training samples.
    func automaticSettings(samples: Int, resumed: ModelFile?) -> AutomaticSettings {
        AutomaticSettings(samples: samples, batchSize: batchSize ?? resumed?.checkpoint?.state.batchSize)
    }

    /// A new network (`--hidden`, or the automatic layers) or the resumed one.
    func makeNetwork(resumed: ModelFile?, data loaded: inout LoadedData, automatic: AutomaticSettings,
                     backend: any Backend) throws -> Network {
        if let resumed, let resume { return try resumedNetwork(resumed, file: resume, data: &loaded, backend: backend) }
        let architecture = try newArchitecture(for: loaded, hidden: try hiddenSizes() ?? automatic.hidden)
        return try Network(backend: backend, architecture: architecture, seed: seed)
    }

    /// Batch, epochs, optimizer, schedule and early stopping: given, else the checkpoint's, else
    /// automatic. `split` is the data's test split as loaded (nil for MNIST and IDX folders).
    func makePlan(samples: Int, resumed: ModelFile?, automatic: AutomaticSettings,
                  validation: ValidationRecord?, split: SplitRecord? = nil) throws -> TrainingPlan {
        let saved = resumed?.checkpoint?.state
        let previous = saved?.epochs ?? resumed?.training?.epochs ?? 0
        let batch = batchSize ?? saved?.batchSize ?? automatic.batchSize
        let kind = optimizer ?? saved?.optimizer.kind ?? resumed?.training?.optimizer ?? .adam
        var notes = [String](), auto = [String]()
        var checkpoint = resumed?.checkpoint
        if let saved, saved.optimizer.kind != kind || saved.batchSize != batch {
            notes.append("resume    --optimizer or --batch-size differ from the checkpoint's: its optimizer state is not used")
            checkpoint = nil
        } else if resumed != nil, checkpoint == nil {
            notes.append("resume    \(resume ?? "") holds no optimizer state (saved without --checkpoint): the optimizer starts afresh")
        }
        // A checkpoint's best epoch was judged on its validation rows: on others (another file,
        // another --validation-split) its loss means nothing, and keeping it would keep the old
        // weights however well the run now does.
        if let old = checkpoint, old.state.earlyStopping.bestEpoch > 0,
           old.state.validation != validation || split != resumed?.split {
            checkpoint?.state.earlyStopping = EarlyStopping(patience: old.state.earlyStopping.patience)
            checkpoint?.best = nil
            notes.append("resume    the validation rows are not those of \(resume ?? "the checkpoint") (\(split != resumed?.split ? "other data" : "another --validation-split")): its best epoch \(old.state.earlyStopping.bestEpoch) is forgotten, and the best is chosen among this run's epochs")
        }
        if let resumed {
            let ignored = [hidden.map { _ in "--hidden" }, activation.map { _ in "--activation" }, loss.map { _ in "--loss" },
                           table.task.map { _ in "--task" }].compactMap { $0 }
            if !ignored.isEmpty {
                notes.append("resume    \(ignored.joined(separator: ", ")) \(ignored.count == 1 ? "is" : "are") ignored: the network is the model's, \(resumed.architecture)")
            }
            let inputs = [table.features.map { _ in "--features" }, table.ignore.map { _ in "--ignore" },
                          table.missing.flatMap { $0 == resumed.table?.missing ? nil : "--missing \($0.rawValue)" }].compactMap { $0 }
            if !inputs.isEmpty {
                let policy = resumed.table.map { ", missing values: \($0.missing.rawValue)" } ?? ""
                notes.append("resume    \(inputs.joined(separator: ", ")) \(inputs.count == 1 ? "is" : "are") ignored: the inputs are the model's (\(resumed.architecture.sizes[0]) inputs\(policy))")
            }
            if resumed.checkpoint != nil, let save = outputs.save, let resume, sameFile(save, resume),
               outputs.checkpoint.map({ !sameFile($0, resume) }) ?? true {
                notes.append("resume    --save \(save) replaces the checkpoint with a model without its optimizer state and shuffler: --checkpoint \(save) keeps them")
            }
            if checkpoint != nil, let first = resumed.training?.seed, first != seed {
                notes.append("resume    --seed \(seed) does not change the shuffling: the checkpoint's shuffler continues the order of seed \(first)")
            }
        }
        var config = checkpoint?.state.optimizer ?? OptimizerConfiguration(kind: kind)
        // A checkpoint's rate is its schedule's last (0 at the end of a cosine): a new schedule
        // starts from the old one's peak.
        if let lr { config.learningRate = lr } else if let old = checkpoint?.state.schedule { config.learningRate = old.peak }
        // Without a checkpoint's own, the weight decay is the resumed model's, else the data's as in a new run.
        let recordedDecay = resumed?.training?.weightDecay
        if let weightDecay { config.weightDecay = weightDecay } else if checkpoint == nil {
            config.weightDecay = recordedDecay ?? automatic.weightDecay
        }
        try config.validate()

        var planned = previous + (epochs ?? automatic.epochs)
        if epochs == nil, let saved, checkpoint != nil, saved.plannedEpochs > previous { planned = saved.plannedEpochs }
        if hidden == nil, resumed == nil { auto.append("hidden \(automatic.hidden.map(String.init).joined(separator: ","))") }
        if batchSize == nil, saved == nil { auto.append("batch \(batch)") }
        if weightDecay == nil, checkpoint == nil, recordedDecay == nil { auto.append("weight decay \(automatic.weightDecay)") }
        if epochs == nil, saved == nil { auto.append("up to \(planned) epochs") }

        let stepsPerEpoch = (samples + batch - 1) / batch
        let stepsDone = checkpoint?.state.step ?? 0
        // A kept schedule must cover the planned epochs: a finished run continued without --epochs
        // gets a new one (the old one's rate is 0 past its end).
        let replan = epochs != nil || lr != nil || loop.schedule != nil || loop.warmupSteps != nil || loop.lrDecay != nil
            || planned != saved?.plannedEpochs
        let schedule: LearningRateSchedule
        if let kept = checkpoint?.state.schedule, !replan {
            schedule = kept
        } else {
            let old = checkpoint?.state.schedule
            schedule = LearningRateSchedule(
                kind: loop.schedule ?? old?.kind ?? (loop.lrDecay != nil ? .constant : .cosine), peak: config.learningRate,
                totalSteps: stepsDone + (planned - previous) * stepsPerEpoch,
                warmupSteps: loop.warmupSteps ?? old?.warmupSteps ?? 0,
                epochDecay: loop.lrDecay ?? old?.epochDecay ?? 1, stepsPerEpoch: stepsPerEpoch)
        }
        if schedule.warmupSteps > 0, schedule.warmupSteps >= schedule.totalSteps {
            notes.append("warmup    --warmup-steps \(schedule.warmupSteps) is not below the run's \(schedule.totalSteps) steps: the learning rate never reaches its peak \(config.learningRate)")
        }
        // Default: on when --epochs is not given; a checkpoint whose plan is unfinished keeps its
        // own choice (a finished one continued without --epochs is a new plan of automatic length).
        let unfinished = checkpoint.map { $0.state.plannedEpochs > previous } ?? false
        let resumedChoice = epochs == nil && unfinished ? checkpoint.map { $0.state.earlyStopping.patience != nil } : nil
        let stops = validation != nil && (loop.earlyStopping ?? resumedChoice ?? (epochs == nil))
        var stopping = checkpoint?.state.earlyStopping ?? EarlyStopping(patience: nil)
        stopping.patience = stops ? loop.patience ?? stopping.patience ?? AutomaticSettings.patience : nil
        return TrainingPlan(batchSize: batch, startEpoch: previous, plannedEpochs: planned, optimizer: config,
                            schedule: schedule, stopping: stopping, validation: validation,
                            balanced: balance ?? resumed?.training?.balancedClasses ?? false, checkpoint: checkpoint,
                            automatic: auto, notes: notes)
    }

    /// The saved network, after checking that the data fits it (inputs, features, classes).
    func resumedNetwork(_ model: ModelFile, file: String, data loaded: inout LoadedData,
                        backend: any Backend) throws -> Network {
        try model.checkInputs(featureCount: loaded.train.featureCount, featureNames: loaded.featureNames,
                              data: data, modelFile: file)
        let sizes = model.architecture.sizes, outputs = sizes[sizes.count - 1]
        let classes = max(loaded.train.classCount, loaded.test.classCount)
        guard classes <= outputs else {
            throw CommandError("\(data): \(classes) classes, but the model \(file) has \(outputs) outputs")
        }
        let names = model.classNames ?? (0..<outputs).map(String.init)
        loaded.train.classCount = outputs
        loaded.test.classCount = outputs
        loaded.train.classNames = names
        loaded.test.classNames = names
        return try Network(backend: backend, model: model)
    }
}
