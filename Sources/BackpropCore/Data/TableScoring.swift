/// Which rows of a CSV `evaluate` scores.
public enum RowChoice: String, Sendable, CaseIterable {
    /// Every row.
    case all
    /// The rows the model held out (only on the file it was trained on).
    case test
    /// The rows it was trained on, without its validation rows (only on that file).
    case train
    /// The rows it held out of training for validation and early stopping (only on that file).
    case validation
}

/// Rows of a CSV ready for a saved model: inputs standardized as in training; for evaluation
/// the labels, or the regression targets standardized as in training.
public struct ScoredRows: Sendable {
    public var data: Dataset
    /// The table row of each sample.
    public var rows: [Int]
    /// Which rows these are, in words (`the 30 test rows of the split recorded in m`).
    public var description: String
    public var warnings: [String]
    /// The file's values of the `keep` columns, one list per sample (prediction only).
    public var kept: [[String]] = []
}

extension DataSource {
    /// Labelled rows of a CSV file to evaluate `model` on. On the file the model was trained
    /// on, `rows` nil means its held-out test rows; on another file, every row.
    public static func loadTableForEvaluation(_ path: String, model: ModelFile, modelFile: String, labels: [String]? = nil,
                                              rows choice: RowChoice? = nil, dialect: CSVDialect = CSVDialect()) throws -> ScoredRows {
        let table = try RawTable.read(path, dialect: dialect) {
            try model.tableEncoding(header: $0, labels: labels, data: path, modelFile: modelFile).columnsRead
        }
        let encoding = try model.tableEncoding(header: table.header, labels: labels, data: path, modelFile: modelFile)
        let recorded = model.split.flatMap { $0.matches(table) ? $0 : nil }
        let choice = choice ?? (recorded == nil ? .all : .test)
        var selected: Set<Int>?
        var description = "all \(table.rowCount) rows"
        if choice != .all {
            guard let recorded else {
                throw DataError.invalidOption("--rows \(choice.rawValue) needs the file \(modelFile) was trained on; \(path) is not that file\(model.split == nil ? " (the model records no split)" : ""): use --rows all")
            }
            let split = try recorded.split(strata: strata(table, labels: encoding.labels, classes: encoding.classes))
            let part = choice == .test ? split.test : split.train  // narrowed below for train/validation
            selected = Set(part)
            description = "the \(part.count) \(choice.rawValue) rows of the split recorded in \(modelFile)"
                + (choice == .test ? " (--rows all scores every row)" : "")
        } else if recorded != nil {
            description += ", training rows included (--rows test scores only the held-out ones)"
        } else if model.split != nil {
            // An edited copy (a line ending changed, a cell fixed) is another file to the hash.
            description += " of a file \(modelFile) was not trained on (if it holds rows the model trained on, their scores flatter it)"
        }
        let encoded = try encoding.encode(table, scoring: true)
        if choice == .train || choice == .validation, let selectedRows = selected,
           let record = model.checkpoint?.state.validation ?? model.training?.validationSplit {
            // The validation rows were drawn from the training samples in file order, after rows
            // with missing values were dropped: draw them again the same way.
            let trainPositions = encoded.rows.indices.filter { selectedRows.contains(encoded.rows[$0]) }
            let (kept, held) = try encoded.data.subset(trainPositions)
                .holdOutPositions(record, stratified: model.task == .classification)
            let part = (choice == .train ? kept : held).map { encoded.rows[trainPositions[$0]] }
            selected = Set(part)
            description = "the \(part.count) \(choice.rawValue) rows of the split recorded in \(modelFile)"
        } else if choice == .validation {
            throw DataError.invalidOption("--rows validation: \(modelFile) records no validation split (it was trained with --validation-split 0)")
        }
        let positions = encoded.rows.indices.filter { selected?.contains(encoded.rows[$0]) ?? true }
        let left = (selected?.count ?? table.rowCount) - positions.count
        if left > 0 {
            description += "; \(left) of them left out for a missing \(encoding.missing == .drop ? "label or value" : "label")"
        }
        var data = encoded.data.subset(positions)
        guard data.count > 0 else { throw DataError.malformed(file: path, detail: "no rows left to evaluate") }
        model.standardization?.apply(to: &data)
        if let targets = encoding.targets, data.targetValues != nil { targets.apply(toColumns: &data.targetValues!) }
        return ScoredRows(data: data, rows: positions.map { encoded.rows[$0] }, description: description,
                          warnings: encoded.warnings + [model.scaleWarning(data, names: encoding.inputNames, file: path)].compactMap { $0 })
    }

    /// Every row of a CSV file as inputs for `model` (a label column, if present, is not read),
    /// with the values of the `keep` columns to copy into the output.
    public static func loadTableForPrediction(_ path: String, model: ModelFile, modelFile: String, keep: [String] = [],
                                              labels: [String]? = nil, dialect: CSVDialect = CSVDialect()) throws -> ScoredRows {
        let table = try RawTable.read(path, dialect: dialect, text: Set(keep), emptyAllowed: true) { header in
            let encoding = try model.tableEncoding(header: header, labels: labels, data: path, modelFile: modelFile)
            if let missing = keep.first(where: { !header.contains($0) }) {
                throw DataError.malformed(file: path, detail: "line 1: no column \"\(missing)\" to keep (columns: \(listed(header, limit: 40)))")
            }
            return encoding.columns.map(\.name) + keep
        }
        let encoding = try model.tableEncoding(header: table.header, labels: labels, data: path, modelFile: modelFile)
        let encoded = try encoding.encode(table, labelled: false)
        var data = encoded.data
        model.standardization?.apply(to: &data)
        let keptColumns = keep.compactMap { table.column($0) }
        return ScoredRows(data: data, rows: encoded.rows, description: "all \(table.rowCount) rows",
                          warnings: encoded.warnings + [model.scaleWarning(data, names: encoding.inputNames, file: path)].compactMap { $0 },
                          kept: encoded.rows.map { row in keptColumns.map { $0.text(row) ?? "" } })
    }
}

extension ModelFile {
    /// A warning when `data`'s inputs, as the network receives them (standardized with the
    /// model's statistics), lie far outside the training data's: more than 1 % of all values, or
    /// most of one input's, beyond ±10 (10 standard deviations from the training mean). Other
    /// units or scaling, most often: an MNIST model fed 0–255 pixels scores 89 % with a loss
    /// of 37, and predicts probabilities of exactly 0 and 1. By Chebyshev's inequality at most
    /// 1 % of any column of the training data itself lies beyond 10 deviations: it never warns.
    func scaleWarning(_ data: Dataset, names: [String], file: String) -> String? {
        let width = data.featureCount, rows = width > 0 ? data.inputs.count / width : 0
        guard rows > 0 else { return nil }
        var beyond = [Int](repeating: 0, count: width)
        for j in 0..<rows { for i in 0..<width where abs(data.inputs[j * width + i]) > 10 { beyond[i] += 1 } }
        let total = beyond.reduce(0, +)
        guard let worst = beyond.indices.max(by: { beyond[$0] < beyond[$1] }),
              Double(total) > 0.01 * Double(rows * width) || 2 * beyond[worst] > rows else { return nil }
        let share = { (n: Int, of: Int) in String(format: "%.0f %%", 100 * Double(n) / Double(of)) }
        let column = worst < names.count ? listed([names[worst]]) : "input \(worst + 1)"
        let reference = standardization == nil
            ? "this model takes its inputs as they were in training, unscaled (an MNIST model: pixels from 0 to 1, so divide 0–255 values by 255)"
            : "more than 10 standard deviations from the training mean"
        return "warning: \(file): the inputs lie far outside the training data's: \(share(total, rows * width)) of the values beyond ±10 (\(column): \(share(beyond[worst], rows)) of the rows); \(reference). Other units or scaling?"
    }
}
