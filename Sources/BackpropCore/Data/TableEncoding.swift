/// What a model learns from a table.
public enum Task: String, Sendable, Codable, CaseIterable {
    case classification, regression
}

/// What to do with a missing value (empty, `NA`, `NaN`, `?`): stop, drop the row, or fill it
/// with the training split's mean (numbers) or most frequent category.
public enum MissingPolicy: String, Sendable, Codable, CaseIterable {
    case error, drop, mean
}

/// How the columns of a table become a network's inputs and targets; stored in the model so
/// that evaluation and prediction encode new rows exactly as training did.
public struct TableEncoding: Sendable, Equatable, Codable {
    public struct Column: Sendable, Equatable, Codable {
        public var name: String
        /// Nil for a numeric column; for a string column the categories seen in training, one
        /// one-hot input each.
        public var categories: [String]?
        /// What a missing value becomes under `--missing mean`.
        public var fill: String?
        /// A numeric column's training mean, subtracted in Double before the value becomes
        /// float32 (which keeps about 7 digits: a Unix time with milliseconds, cents on
        /// millions); nil in models written before it, which take the value as it is.
        public var center: Double?

        public init(name: String, categories: [String]?, fill: String?, center: Double? = nil) {
            self.name = name; self.categories = categories; self.fill = fill; self.center = center
        }
    }

    public var task: Task
    /// The label column (classification) or target columns (regression).
    public var labels: [String]
    public var columns: [Column]
    /// Classification: the class names, in natural order.
    public var classes: [String]?
    /// Regression: `y' = (y − mean)/std` per target, with the training split's statistics.
    public var targets: Standardization?
    /// Regression: each target's training mean, subtracted in Double before `targets`' float32
    /// standardization (see ``Column/center``) and added back to predictions; nil in older models.
    public var targetCenters: [Double]?

    enum CodingKeys: String, CodingKey {
        case task, labels, columns, classes, targets, missing, targetCenters = "target_centers"
    }
    public var missing: MissingPolicy

    /// One name per network input: the column, or `column=category` for a one-hot input.
    public var inputNames: [String] {
        columns.flatMap { c in c.categories.map { $0.map { "\(c.name)=\($0)" } } ?? [c.name] }
    }

    public var outputCount: Int { task == .classification ? classes?.count ?? 0 : labels.count }

    /// One center per network input (``Column/center`` for a numeric column, 0 for each one-hot
    /// input): what was subtracted from each before the standardization.
    public var inputCenters: [Double] {
        columns.flatMap { c in c.categories.map { [Double](repeating: 0, count: $0.count) } ?? [c.center ?? 0] }
    }
}

extension TableEncoding {
    /// The task and, for classification, the classes of `labels` over every row of `table`:
    /// the distinct values in natural order. `task` nil infers it: strings → classification;
    /// non-integers or several columns → regression; integers that look continuous → an error.
    public static func target(of table: RawTable, labels: [String], task: Task?) throws -> (Task, [String]?) {
        func fail(_ detail: String) -> DataError { .malformed(file: table.file, detail: detail) }
        // A regression target that never changes leaves nothing to learn (and R² undefined), as one
        // class does for a classifier.
        func requireVariation(_ c: TableColumn) throws {
            guard let numbers = c.numbers, let first = numbers.first(where: { !$0.isNaN }),
                  numbers.allSatisfy({ $0.isNaN || $0 == first }) else { return }
            let row = numbers.firstIndex { !$0.isNaN } ?? 0
            throw fail("every value in column \"\(c.name)\" is \(c.text(row) ?? "\(first)"): a regression target must vary (there is nothing to learn)")
        }
        let columns = try labels.map { name in
            guard let c = table.column(name) else {
                throw fail("line 1: no label column \"\(name)\" in the header (columns: \(listed(table.header, limit: 40))); name it with --label")
            }
            return c
        }
        if task == .regression || (task == nil && labels.count > 1) {
            if let c = columns.first(where: { !$0.isNumeric }) {
                let row = c.codes.firstIndex { $0 >= 0 } ?? 0
                throw fail("line \(table.lines[row]), column \(c.position + 1) (\"\(c.name)\"): \"\(shortened(c.text(row) ?? ""))\" is not a number: a regression target must be numeric\(task == nil ? " (use --task classification for a single class column)" : "")")
            }
            try columns.forEach(requireVariation)
            return (.regression, nil)
        }
        guard columns.count == 1, let c = columns.first else {
            throw DataError.invalidOption("--task classification takes one label column, got \(labels.joined(separator: ","))")
        }
        var distinct = Set<String>()
        var integers = true
        for row in 0..<c.count {
            guard let value = c.text(row) else { continue }
            if let n = c.numbers?[row], n != n.rounded() { integers = false }
            distinct.insert(value)
        }
        if task == nil, c.isNumeric {
            if !integers { try requireVariation(c); return (.regression, nil) }
            if distinct.count > 50 || (distinct.count > 2 && distinct.count * 2 > c.count) {
                throw fail("column \(c.position + 1) (\"\(c.name)\") holds \(distinct.count) distinct integers in \(c.count) rows: is it classes or a quantity? say --task classification or --task regression")
            }
        }
        guard distinct.count >= 2 else {
            throw fail("every label in column \"\(c.name)\" is \(distinct.first.map { "\"\($0)\"" } ?? "missing"): a classifier needs at least two classes")
        }
        guard distinct.count <= 100_000 else {
            throw fail("column \"\(c.name)\" holds \(distinct.count) distinct labels: too many classes (use --task regression for a quantity)")
        }
        return (.classification, distinct.sorted(by: naturalOrder))
    }

    /// Fits the encoding of `features` on the training rows: numeric columns stay one input,
    /// string columns get one input per category seen in those rows; `fill` values come from
    /// the same rows.
    public static func fit(_ table: RawTable, labels: [String], task: Task, classes: [String]?,
                           features: [String], missing: MissingPolicy, trainRows: [Int]) throws -> TableEncoding {
        let columns = try features.map { name -> Column in
            guard let c = table.column(name) else {
                throw DataError.malformed(file: table.file, detail: "line 1: no column \"\(name)\" in the header (columns: \(listed(table.header, limit: 40)))")
            }
            if let numbers = c.numbers {
                let center = trainingMean(numbers, trainRows)
                return Column(name: name, categories: nil, fill: missing == .mean ? "\(center)" : nil, center: center)
            }
            var counts = [Int](repeating: 0, count: c.categories.count)
            for r in trainRows where c.codes[r] >= 0 { counts[Int(c.codes[r])] += 1 }
            let seen = c.categories.indices.filter { counts[$0] > 0 }
            let common = seen.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }
            return Column(name: name, categories: seen.map { c.categories[$0] }.sorted(by: naturalOrder),
                          fill: missing == .mean ? common.map { c.categories[$0] } : nil)
        }
        guard !columns.isEmpty else {
            throw DataError.malformed(file: table.file, detail: "no feature columns besides the label")
        }
        var encoding = TableEncoding(task: task, labels: labels, columns: columns, classes: classes, targets: nil, missing: missing)
        if task == .regression {
            encoding.targetCenters = labels.map { name in table.column(name)?.numbers.map { trainingMean($0, trainRows) } ?? 0 }
        }
        return encoding
    }

    /// The mean of `numbers` over `rows`, missing values (NaN) aside; 0 when none has a value.
    private static func trainingMean(_ numbers: [Double], _ rows: [Int]) -> Double {
        var sum = 0.0, n = 0
        for r in rows where !numbers[r].isNaN { sum += numbers[r]; n += 1 }
        return n > 0 ? sum / Double(n) : 0
    }

    /// The feature columns of `header` for a label set: `selected` when given, else every
    /// column but the labels and `ignored`. Unknown names are an error.
    public static func featureColumns(header: [String], labels: [String], selected: [String]?,
                                      ignored: [String], file: String) throws -> [String] {
        for name in (selected ?? []) + ignored where !header.contains(name) {
            throw DataError.malformed(file: file, detail: "line 1: no column \"\(name)\" in the header (columns: \(listed(header, limit: 40)))")
        }
        if let overlap = selected?.first(where: labels.contains) {
            throw DataError.invalidOption("--features names \"\(overlap)\", which is the label column")
        }
        if let overlap = ignored.first(where: labels.contains) {
            throw DataError.invalidOption("--ignore names \"\(overlap)\", which is the label column (--label names another)")
        }
        return (selected ?? header).filter { !labels.contains($0) && !ignored.contains($0) }
    }
}
