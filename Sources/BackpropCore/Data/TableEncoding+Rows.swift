/// Rows of a table encoded for a network.
public struct EncodedRows: Sendable {
    /// Inputs (not yet standardized) and, when labelled, class labels or target values (in
    /// the table's units).
    public var data: Dataset
    /// The table row of each sample, in file order; rows with a missing value may be dropped.
    public var rows: [Int]
    /// One line per column that held categories unseen in training.
    public var warnings: [String]
}

extension TableEncoding {
    /// Stops at the first missing value of `columns`, in file order.
    static func checkNoneMissing(_ table: RawTable, columns names: [String]) throws {
        let columns = names.compactMap { table.column($0) }
        for row in 0..<table.rowCount {
            if let c = columns.first(where: { $0.isMissing(row) }) {
                throw DataError.malformed(file: table.file, detail: "line \(table.lines[row]), column \(c.position + 1) (\"\(c.name)\"): missing value (\(TableColumn.missingDescription)); choose --missing drop or --missing mean")
            }
        }
    }

    /// Encodes every row of `table` in file order. `labelled` false reads inputs only (for
    /// prediction): the label columns may be absent, and no row is dropped. `scoring`: for a
    /// saved model (evaluate), whose missing-value policy is its own.
    public func encode(_ table: RawTable, labelled: Bool = true, scoring: Bool = false) throws -> EncodedRows {
        func fail(_ row: Int, _ c: TableColumn, _ detail: String) -> DataError {
            .malformed(file: table.file, detail: "line \(table.lines[row]), column \(c.position + 1) (\"\(c.name)\"): \(detail)")
        }
        let inputs = try columns.map { spec in
            guard let c = table.column(spec.name) else {
                throw DataError.malformed(file: table.file, detail: "line 1: no column \"\(spec.name)\", which the model reads (columns: \(listed(table.header, limit: 40)))")
            }
            return c
        }
        let targets: [TableColumn] = labelled ? try labels.map { name in
            guard let c = table.column(name) else {
                throw DataError.malformed(file: table.file, detail: "line 1: no label column \"\(name)\" in the header (columns: \(listed(table.header, limit: 40)))")
            }
            return c
        } : []
        let lookups = columns.map { $0.categories.map { Dictionary(uniqueKeysWithValues: $0.enumerated().map { ($1, $0) }) } }
        let classIndex = classes.map { Dictionary(uniqueKeysWithValues: $0.enumerated().map { ($1, Int32($0)) }) }
        let width = inputNames.count
        var x = [Float](), labelsOut = [Int32](), values = [Float](), kept = [Int]()
        // Per column: the first few unseen values in order of appearance, the first one's line, the rows.
        var unseen = [(values: [String], line: Int32, count: Int)?](repeating: nil, count: columns.count)

        func missingError(_ row: Int, _ c: TableColumn) -> DataError {
            // Only training chooses a policy; a saved model's is its own.
            let advice = labelled && !scoring
                ? "choose --missing drop or --missing mean"
                : "the model was trained with --missing \(missing.rawValue), so it has no value to fill in; give the cell a value or leave the row out"
            return fail(row, c, "missing value (\(TableColumn.missingDescription)); \(advice)")
        }
        rowLoop: for row in 0..<table.rowCount {
            // A missing target cannot be filled: its row is dropped unless missing values are errors.
            for c in targets where c.isMissing(row) {
                if missing == .error { throw missingError(row, c) }
                continue rowLoop
            }
            for (k, c) in inputs.enumerated() where c.isMissing(row) && columns[k].fill == nil {
                if missing == .drop && labelled { continue rowLoop }
                throw missingError(row, c)
            }
            for (k, c) in inputs.enumerated() {
                let spec = columns[k]
                guard let lookup = lookups[k] else {
                    if let v = c.numbers?[row], !v.isNaN { x.append(Float(v - (spec.center ?? 0))); continue }
                    let text = c.text(row) ?? spec.fill ?? ""
                    guard let v = TableColumn.number(text), v.isFinite else { throw fail(row, c, "\"\(shortened(text))\" is not a number (the model reads this column as numbers)") }
                    x.append(Float(v - (spec.center ?? 0)))
                    continue
                }
                let text = c.text(row) ?? spec.fill ?? ""
                let start = x.count
                x.append(contentsOf: repeatElement(0, count: lookup.count))
                if let i = lookup[text] { x[start + i] = 1 } else {
                    var seen = unseen[k] ?? ([], table.lines[row], 0)
                    if seen.values.count <= 3, !seen.values.contains(text) { seen.values.append(text) }
                    seen.count += 1
                    unseen[k] = seen
                }
            }
            if labelled {
                if let classIndex, let c = targets.first {
                    let text = c.text(row) ?? ""
                    guard let label = classIndex[text] else {
                        throw fail(row, c, "label \"\(shortened(text))\" is not one of the model's classes (\(listed(classes!, limit: 20)))")
                    }
                    labelsOut.append(label)
                } else {
                    for (t, c) in targets.enumerated() {
                        guard let v = c.numbers?[row] ?? c.text(row).flatMap(TableColumn.number), v.isFinite else {
                            throw fail(row, c, "\"\(shortened(c.text(row) ?? ""))\" is not a number: a regression target must be numeric")
                        }
                        values.append(Float(v - (targetCenters?[t] ?? 0)))
                    }
                }
            }
            kept.append(row)
        }
        let warnings = unseen.enumerated().compactMap { k, u in
            u.map { u in
                let named = u.values.prefix(3).map { "\"\(shortened($0))\"" }.joined(separator: ", ") + (u.values.count > 3 ? ", …" : "")
                let what = u.values.count == 1 ? "is a category" : "are categories"
                return "warning: \(table.file): column \"\(columns[k].name)\": \(named) (line \(u.line)\(u.count > 1 ? " and \(u.count - 1) more rows" : "")) \(what) not seen in training; encoded as all zeros"
            }
        }
        let count = kept.count
        var data = Dataset(featureCount: width, classCount: task == .classification ? classes?.count ?? 0 : labels.count,
                           inputs: x, labels: labelled && task == .classification ? labelsOut : [Int32](repeating: 0, count: count),
                           classNames: classes)
        if labelled, task == .regression { data.targetValues = values }
        return EncodedRows(data: data, rows: kept, warnings: warnings)
    }
}
