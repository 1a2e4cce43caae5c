import Foundation

/// What `train` reads from a CSV file besides its path.
public struct TableOptions: Sendable {
    /// The label column, or the target columns of a regression.
    public var labels = ["label"]
    /// Nil infers the task from the label column.
    public var task: Task?
    /// Only these feature columns (nil: every column but the labels and `ignore`).
    public var features: [String]?
    public var ignore: [String] = []
    public var missing = MissingPolicy.error
    public var dialect = CSVDialect()
    /// Nil: the split recorded in a resumed model, else 0.2.
    public var testFraction: Double?
    public var seed: UInt64 = 1
    /// The validation rows training will hold out of the training split (``Dataset/holdOut(_:stratified:)``):
    /// the statistics that standardize the data are fitted without them, so validation scores
    /// data the model has not seen in any form. Nil: fitted on the whole training split.
    public var validation: ValidationRecord?
    /// The memory the encoded table may take (nil: this process's, ``Cgroup/memoryBytes``).
    public var memoryLimit: UInt64?

    public init() {}
}

extension DataSource {
    /// Reads a CSV file for training: classes or targets, encoded and standardized features,
    /// and a seeded split (stratified by class). With `resumed`, the model's encoding is
    /// reused, and so is its recorded split when `path` is the file it was trained on.
    public static func loadTable(_ path: String, options: TableOptions = TableOptions(),
                                 resumed: (model: ModelFile, file: String)? = nil) throws -> LoadedData {
        var notes = [String](), warnings = [String]()
        let table: RawTable, encoding: TableEncoding, split: SplitRecord
        if let (model, modelFile) = resumed {
            let labels = options.labels == ["label"] ? nil : options.labels
            table = try RawTable.read(path, dialect: options.dialect) {
                try model.tableEncoding(header: $0, labels: labels, data: path, modelFile: modelFile).columnsRead
            }
            encoding = try model.tableEncoding(header: table.header, labels: labels, data: path, modelFile: modelFile)
            if let recorded = model.split, recorded.matches(table) {
                if let asked = options.testFraction, asked != recorded.testFraction {
                    throw DataError.invalidOption("--test-split \(asked) differs from the split recorded in \(modelFile) (\(recorded.testFraction)) for this file; leave it out to keep the same test rows")
                }
                split = recorded
                notes.append("split     the split recorded in \(modelFile): seed \(recorded.seed), \(Int((recorded.testFraction * 100).rounded())) % test (--seed changes only the shuffling)")
            } else {
                split = SplitRecord(fileHash: table.contentHash, rows: table.rowCount, seed: options.seed,
                                    testFraction: options.testFraction ?? 0.2, stratified: encoding.task == .classification)
                warnings.append("warning: \(path) is not the file \(modelFile) was trained on\(model.split == nil ? " (the model records no split)" : ""); its rows are split anew with seed \(options.seed), so some test rows may have been trained on")
            }
        } else {
            var features = [String]()
            table = try RawTable.read(path, dialect: options.dialect) { header in
                features = try TableEncoding.featureColumns(header: header, labels: options.labels, selected: options.features,
                                                            ignored: options.ignore, file: path)
                return options.labels + features
            }
            // A column with no value at all (often an unnamed one after a trailing delimiter) says nothing.
            let empty = features.filter { name in table.column(name).map { c in (0..<c.count).allSatisfy(c.isMissing) } ?? false }
            if !empty.isEmpty, empty.count < features.count {
                features.removeAll { empty.contains($0) }
                let named = empty.map { $0.isEmpty ? "an unnamed column (does each line end with a delimiter?)" : "column \"\($0)\"" }
                notes.append("note      ignored \(named.joined(separator: ", ")): no row has a value")
            }
            if options.missing == .error { try TableEncoding.checkNoneMissing(table, columns: options.labels + features) }
            let (task, classes) = try TableEncoding.target(of: table, labels: options.labels, task: options.task)
            split = SplitRecord(fileHash: table.contentHash, rows: table.rowCount, seed: options.seed,
                                testFraction: options.testFraction ?? 0.2, stratified: task == .classification)
            let trainRows = try split.split(strata: strata(table, labels: options.labels, classes: classes)).train
            encoding = try TableEncoding.fit(table, labels: options.labels, task: task, classes: classes, features: features,
                                             missing: options.missing, trainRows: trainRows)
            // A column of thousands of categories makes thousands of inputs: say so, and refuse a
            // table whose float32 inputs would not fit beside the copies training makes (about 3×,
            // measured), rather than stop when an allocation fails.
            let width = encoding.inputNames.count, gib = { (bytes: Double) in String(format: "%.1f GiB", bytes / 1_073_741_824) }
            let widest = encoding.columns.max { ($0.categories?.count ?? 0) < ($1.categories?.count ?? 0) }
            let bytes = 4 * Double(table.rowCount) * Double(width), memory = Double(options.memoryLimit ?? Cgroup.memoryBytes)
            if 3 * bytes > memory {
                let culprit = widest.flatMap { c in c.categories.map { "; column \"\(c.name)\" alone makes \($0.count) of them (one per category): --ignore \(shellQuoted(c.name))" } } ?? ""
                throw DataError.malformed(file: path, detail: "its \(table.rowCount) rows encode to \(width) inputs each, \(gib(bytes)) of float32 and about \(gib(3 * bytes)) with the copies training makes: more than the \(gib(memory)) of memory this process may use\(culprit)")
            }
            for c in encoding.columns {
                if let n = c.categories?.count, n > 1000 {
                    notes.append("note      \(described(c.name)) makes \(n) inputs, one per category (\(gib(4 * Double(table.rowCount) * Double(n))) for the table): --ignore \(shellQuoted(c.name)) if it names things rather than describes them")
                }
            }
            // A column of numbers that a few stray cells made categorical: most likely typos.
            for name in options.labels + features {
                guard let c = table.column(name), let stray = c.strayText else { continue }
                let which = stray.count == 1 ? "is not a number, the only such cell in a column of numbers"
                    : "is the first of \(stray.count) cells that are not numbers in a column of numbers"
                warnings.append("warning: \(path): line \(table.lines[stray.row]), column \(c.position + 1) (\"\(name)\"): \"\(shortened(stray.text))\" \(which), so the column is read as \(c.categories.count) categories; correct \(stray.count == 1 ? "it" : "them") or leave \(stray.count == 1 ? "it" : "them") empty (missing) to read numbers")
            }
            // A string column with a category for most rows is an id or a name, not a feature.
            // So is a column of numbers named like an id (or not named: a pandas or R index) that
            // counts the rows: consecutive integers, each once in the file.
            for c in encoding.columns {
                let drop = "--ignore \(shellQuoted(c.name)) drops it", name = described(c.name)
                if let categories = c.categories, categories.allSatisfy(isDecoratedNumber), let example = categories.first {
                    notes.append("note      \(name) is read as \(categories.count) categories: its cells are numbers with a currency or percent sign (\"\(shortened(example))\"); without the signs (and thousands separators) they would be one numeric input")
                } else if let categories = c.categories, categories.count > 20, categories.allSatisfy(isISODate), let example = categories.first {
                    notes.append("note      \(name) holds dates (\"\(shortened(example))\"), read as \(categories.count) categories (a date not seen in training encodes as none of them): a number made from them (days since a start, a month, a weekday) may serve better, or \(drop)")
                } else if let n = c.categories?.count, n > 20, 2 * n > trainRows.count {
                    notes.append("note      \(name) holds \(n) distinct strings in \(trainRows.count) training rows: an id? \(drop)")
                } else if c.categories == nil, encoding.columns.count > 1, looksLikeAnIdName(c.name),
                          let values = table.column(c.name)?.numbers, values.count > 20 {
                    guard let low = values.min(), let high = values.max(), !low.isNaN, values.allSatisfy({ $0 == $0.rounded() }),
                          high - low + 1 == Double(values.count), Set(values).count == values.count else { continue }
                    notes.append("note      \(name) numbers the rows (\(Int(low))…\(Int(high)), each once): an id? \(drop)")
                }
            }
        }
        let classes = encoding.classes
        let (_, testRows) = try split.split(strata: strata(table, labels: encoding.labels, classes: classes))
        // Shared class by class (and per class in records from before the largest-remainder rule),
        // small classes can move the test share away from the request.
        let share = Double(testRows.count) / Double(table.rowCount)
        if abs(share - split.testFraction) > 0.05 {
            notes.append(String(format: "split     %d test rows are %.0f %% of %d, not the %.0f %% asked: ",
                                testRows.count, 100 * share, table.rowCount, 100 * split.testFraction) + SplitRecord.classByClass)
        }
        // A resumed model's missing-value policy is its own (--missing does not change it).
        let encoded = try encoding.encode(table, scoring: resumed != nil)
        warnings += encoded.warnings
        if encoding.missing == .mean {
            // Filled in silence, a column of mostly missing values would look like data.
            let filled = encoding.columns.compactMap { c -> String? in
                guard let column = table.column(c.name), let fill = c.fill else { return nil }
                let n = encoded.rows.filter(column.isMissing).count
                guard n > 0 else { return nil }
                let value = c.categories == nil ? Double(fill).map { String(format: "%.4g", $0) } ?? fill : listed([shortened(fill)])
                return "\(listed([c.name])): \(n) cell\(n == 1 ? "" : "s") (\(String(format: "%.0f", 100 * Double(n) / Double(encoded.rows.count))) %) → \(value)"
            }
            if !filled.isEmpty {
                notes.append("missing   filled with the training rows' mean or most frequent value (--missing mean): "
                             + filled.prefix(10).joined(separator: ", ") + (filled.count > 10 ? ", and \(filled.count - 10) more columns" : ""))
            }
        }
        if encoded.rows.count < table.rowCount {
            notes.append("missing   dropped \(table.rowCount - encoded.rows.count) of \(table.rowCount) rows with a missing value (--missing \(encoding.missing.rawValue))")
        }
        var isTest = [Bool](repeating: false, count: table.rowCount)
        for r in testRows { isTest[r] = true }
        let positions = encoded.rows.indices
        var train = encoded.data.subset(positions.filter { !isTest[encoded.rows[$0]] })
        var test = encoded.data.subset(positions.filter { isTest[encoded.rows[$0]] })
        guard train.count > 0, test.count > 0 else {
            throw DataError.malformed(file: path, detail: "\(train.count) training and \(test.count) test rows are left after dropping rows with missing values")
        }

        // A resumed model keeps its statistics; a new one takes them from its training rows, less
        // the validation rows (a split that cannot be drawn fails later, with its own message).
        let fitted = options.validation
            .flatMap { try? train.holdOutPositions($0, stratified: encoding.task == .classification).train }
            .map { train.subset($0) } ?? train
        let standardization = resumed?.model.standardization ?? encoding.standardization(fitting: fitted)
        var targets = encoding.targets
        if encoding.task == .regression, targets == nil {
            targets = Standardization(fitting: fitted.targetValues ?? [], width: fitted.classCount)
        }
        standardization.apply(to: &train)
        standardization.apply(to: &test)
        if let targets {
            targets.apply(toColumns: &train.targetValues!)
            targets.apply(toColumns: &test.targetValues!)
        }
        if let classes = encoding.classes, let note = imbalanceNote(train.labels, classes: classes) { notes.append(note) }
        var final = encoding
        final.targets = targets
        return LoadedData(name: path, train: train, test: test, standardization: standardization,
                          featureNames: final.inputNames, encoding: final, split: split,
                          trainRows: encoded.rows.filter { !isTest[$0] }, testRows: encoded.rows.filter { isTest[$0] },
                          notes: notes, warnings: warnings)
    }

    /// A note when a class holds under a quarter of an even share of the training rows (5 % of
    /// two classes): accuracy then flatters a model that never predicts it.
    static func imbalanceNote(_ labels: [Int32], classes: [String]) -> String? {
        guard classes.count > 1, !labels.isEmpty else { return nil }
        var counts = [Int](repeating: 0, count: classes.count)
        for l in labels where l >= 0 && Int(l) < counts.count { counts[Int(l)] += 1 }
        let share = { (k: Int) in Double(counts[k]) / Double(labels.count) }
        let rare = counts.indices.filter { share($0) < 0.25 / Double(classes.count) }
        guard let rarest = rare.min(by: { counts[$0] < counts[$1] }), let common = counts.indices.max(by: { counts[$0] < counts[$1] }) else { return nil }
        let named = rare.count == 1 ? "class \(listed([classes[rarest]])) is" : "\(rare.count) classes are each under \(String(format: "%.1f", 25 / Double(classes.count))) % (\(listed([classes[rarest]])) the rarest,"
        return "classes   imbalanced: \(named) \(String(format: "%.1f", 100 * share(rarest))) % of the training rows\(rare.count == 1 ? "" : ")"); always predicting \(listed([classes[common]])) scores \(String(format: "%.1f", 100 * share(common))) %, so weigh accuracy against the recall per class (evaluate shows it), or train with --balance"
    }

    /// Each row's class (−1 when missing) for a stratified split; nil for regression.
    static func strata(_ table: RawTable, labels: [String], classes: [String]?) -> [Int32]? {
        guard let classes, let c = table.column(labels[0]) else { return nil }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        return (0..<table.rowCount).map { c.text($0).flatMap { index[$0] } ?? -1 }
    }
}

extension TableEncoding {
    /// The columns a reader must keep to encode (and score) rows.
    var columnsRead: [String] { labels + columns.map(\.name) }

    /// Standardization of the encoded inputs fitted on `data`; one-hot inputs stay 0/1.
    func standardization(fitting data: Dataset) -> Standardization {
        var s = Standardization(fitting: data)
        var k = 0
        for c in columns {
            let width = c.categories?.count ?? 1
            if c.categories != nil { for i in k..<(k + width) { s.mean[i] = 0; s.std[i] = 1 } }
            k += width
        }
        return s
    }
}

/// A number written with a currency sign or a percent sign, as spreadsheets export them:
/// `$1,798`, `-€3.50`, `45%`, `12,5 %`.
func isDecoratedNumber(_ text: String) -> Bool {
    text.wholeMatch(of: /[-+]?[$€£¥]\s?\d[\d.,' ]*|[-+]?\d[\d.,' ]*\s?%/) != nil
}

/// An ISO 8601 date, with or without a time: `2024-03-15`, `2024-03-15 09:30`, `2024-03-15T09:30:00Z`.
func isISODate(_ text: String) -> Bool {
    text.wholeMatch(of: /\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?/) != nil
}

/// A column name that says "this numbers the rows": empty (the index pandas and R write), or
/// id, index, idx, row, no, number, # — alone or ending a longer name (`PassengerId`, `row_id`).
func looksLikeAnIdName(_ name: String) -> Bool {
    let lower = name.lowercased().trimmingCharacters(in: .whitespaces)
    if lower.isEmpty || lower.hasPrefix("unnamed") { return true }
    let words = ["id", "index", "idx", "row", "no", "nr", "number", "#"]
    return words.contains { lower == $0 || lower.hasSuffix("_" + $0) || lower.hasSuffix(" " + $0) || lower.hasSuffix("." + $0) }
        || (name.hasSuffix("Id") || name.hasSuffix("ID")) && name.count > 2
}

/// A column as a note names it: `column "name"`, or the unnamed column (a pandas or R index).
func described(_ name: String) -> String { name.isEmpty ? "the unnamed column" : "column \"\(name)\"" }

/// `name` as a shell word: as it is when it holds only safe characters, else in single quotes
/// (`''` for an empty name).
func shellQuoted(_ name: String) -> String {
    let safe = name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "_-.,:/=+@%".unicodeScalars.contains($0) }
    return safe && !name.isEmpty ? name : "'" + name.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
