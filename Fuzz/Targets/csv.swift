/// libFuzzer target: the CSV reader, with and without a required label column, then the
/// dataset and standardization built from a table that parses.
func fuzzCSV(_ bytes: [UInt8]) {
    guard let text = String(validating: bytes, as: UTF8.self) else { return }
    for requireLabel in [true, false] {
        guard let table = try? CSVTable.parse(text, file: "fuzz.csv", requireLabel: requireLabel) else { continue }
        precondition(table.features.count == table.featureNames.count * table.rowCount)
        precondition(table.labels.map { $0.count == table.rowCount } ?? true)
        if var dataset = try? table.dataset(file: "fuzz.csv") {
            Standardization(fitting: dataset).apply(to: &dataset)
        }
    }
}
