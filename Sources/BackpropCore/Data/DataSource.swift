import Foundation

/// Resolves the `--data` argument: `mnist` (the bundled set), a folder of IDX files, or a CSV file.
public enum DataSource {
    /// Where the bundled MNIST lives: `$BACKPROP_DATA_DIR/mnist`, `./Data/mnist`, next to the
    /// executable's package checkout, or the source checkout this binary was built from.
    public static func bundledMNIST(executablePath: String = CommandLine.arguments.first ?? "",
                                    sourceFile: String = #filePath) -> String? {
        var candidates = [String]()
        if let dir = ProcessInfo.processInfo.environment["BACKPROP_DATA_DIR"] {
            candidates.append((dir as NSString).appendingPathComponent("mnist"))
        }
        candidates.append("Data/mnist")
        // The resolved binary is .build/<triple>/<config>/backprop: the package root is three
        // levels above its folder.
        let exe = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath()
        candidates.append(exe.deletingLastPathComponent().appendingPathComponent("../../../Data/mnist").path)
        // Sources/BackpropCore/Data/DataSource.swift → package root is four levels up.
        candidates.append(URL(fileURLWithPath: sourceFile).deletingLastPathComponent()
            .appendingPathComponent("../../../Data/mnist").standardized.path)
        return candidates.first { path in
            FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("train-images-idx3-ubyte.gz"))
                || FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("train-images-idx3-ubyte"))
        }
    }

    /// Loads `spec` and returns train and test splits. MNIST brings its own test split; a CSV
    /// is read with default ``TableOptions`` (see ``loadTable(_:options:resumed:)``).
    public static func load(_ spec: String, labelColumn: String = "label", testFraction: Double = 0.2,
                            seed: UInt64 = 1) throws -> LoadedData {
        if spec == "mnist" {
            guard let dir = bundledMNIST() else {
                throw DataError.unreadable(file: "Data/mnist", reason: "the bundled MNIST was not found; run from the package folder or set BACKPROP_DATA_DIR")
            }
            let (train, test) = try MNIST.load(directory: dir)
            return LoadedData(name: "MNIST", train: train, test: test, standardization: nil)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: spec, isDirectory: &isDirectory) else {
            throw DataError.unreadable(file: spec, reason: "no such file or folder (--data takes mnist, an IDX folder or a CSV file)")
        }
        if isDirectory.boolValue {
            let (train, test) = try MNIST.load(directory: spec)
            return LoadedData(name: spec, train: train, test: test, standardization: nil)
        }
        var options = TableOptions()
        options.labels = [labelColumn]
        options.testFraction = testFraction
        options.seed = seed
        return try loadTable(spec, options: options)
    }
}

/// Labelled data split for training: what ``DataSource`` loads for `backprop train`.
public struct LoadedData: Sendable {
    /// What was loaded, for reports: `MNIST`, or the IDX folder or CSV file as given.
    public var name: String
    /// The split the network learns from.
    public var train: Dataset
    /// The held-out split, evaluated after each epoch.
    public var test: Dataset
    /// Set for CSV data: the transform the model must apply to new inputs.
    public var standardization: Standardization?
    /// Set for CSV data: the feature columns' names, saved in the model.
    public var featureNames: [String]? = nil
    /// CSV only: how its columns were encoded, and how its rows were split.
    public var encoding: TableEncoding? = nil
    public var split: SplitRecord? = nil
    /// CSV only: the table rows (0-based, header excluded) in each part.
    public var trainRows: [Int] = []
    public var testRows: [Int] = []
    /// Lines for the report (the split reused, rows dropped), and warnings for standard error.
    public var notes: [String] = []
    public var warnings: [String] = []

    public var task: Task { encoding?.task ?? .classification }
}

extension DataSource {
    /// Loads labelled data to evaluate a saved model: the test split of MNIST or an IDX folder,
    /// or the rows of a CSV file that
    /// ``loadTableForEvaluation(_:model:modelFile:labels:rows:dialect:)`` picks, standardized
    /// with the model's statistics. A label that is not one of the model's classes is an error.
    public static func loadForEvaluation(_ spec: String, labelColumn: String = "label",
                                         model: ModelFile, modelFile: String) throws -> (name: String, data: Dataset) {
        let outputs = model.architecture.sizes[model.architecture.sizes.count - 1]
        var isDirectory: ObjCBool = false
        if spec == "mnist" || (FileManager.default.fileExists(atPath: spec, isDirectory: &isDirectory) && isDirectory.boolValue) {
            guard outputs >= 2 else {
                throw DataError.invalidOption("\(modelFile): the model has \(outputs) output; evaluating needs a classifier with at least 2")
            }
            var data = try load(spec, labelColumn: labelColumn).test
            try model.checkInputs(featureCount: data.featureCount, featureNames: nil, data: spec, modelFile: modelFile)
            try fit(&data, outputs: outputs, data: spec, modelFile: modelFile) { "of sample \($0 + 1)" }
            model.standardization?.apply(to: &data)
            return (spec == "mnist" ? "MNIST test split" : spec, data)
        }
        let scored = try loadTableForEvaluation(spec, model: model, modelFile: modelFile,
                                                labels: labelColumn == "label" ? nil : [labelColumn])
        return ("\(spec): \(scored.description)", scored.data)
    }

    /// Makes `data` have exactly the model's `outputs` classes; `place` describes sample `j`.
    static func fit(_ data: inout Dataset, outputs: Int, data spec: String, modelFile: String,
                    place: (Int) -> String) throws {
        if let j = data.labels.firstIndex(where: { Int($0) >= outputs }) {
            throw DataError.malformed(file: spec, detail: "label \(data.labels[j]) \(place(j)) is not one of the model's \(outputs) classes (\(modelFile))")
        }
        data.classCount = outputs
    }
}

extension ModelFile {
    /// Checks that inputs from `data` fit this model: as many features, and the same column
    /// names when both are known.
    public func checkInputs(featureCount: Int, featureNames: [String]?, data: String, modelFile: String) throws {
        let inputs = architecture.sizes[0]
        guard featureCount == inputs else {
            throw DataError.malformed(file: data, detail: "\(featureCount) features, but the model \(modelFile) expects \(inputs) inputs")
        }
        if let mine = self.featureNames, let theirs = featureNames, mine != theirs {
            let at = (0..<min(theirs.count, mine.count)).first { theirs[$0] != mine[$0] } ?? min(theirs.count, mine.count)
            let name = { (names: [String]) in at < names.count ? "\"\(names[at])\"" : "none" }
            throw DataError.malformed(file: data, detail: "feature columns differ from the model's (\(modelFile)) from input \(at + 1) on: \(name(theirs)) where the model has \(name(mine))")
        }
    }
}
