/// libFuzzer target: the CSV reader (sniffed and fixed dialects), then the task, encoding and
/// split of a table that parses, as `train` would run them.
func fuzzCSV(_ bytes: [UInt8]) {
    for dialect in [CSVDialect(), CSVDialect(delimiter: UInt8(ascii: ";"), comment: UInt8(ascii: "#"))] {
        guard let table = try? RawTable.parse(bytes, file: "fuzz.csv", dialect: dialect) else { continue }
        precondition(table.columns.allSatisfy { $0.count == table.rowCount })
        guard let label = table.header.last,
              let (task, classes) = try? TableEncoding.target(of: table, labels: [label], task: nil) else { continue }
        let record = SplitRecord(fileHash: table.contentHash, rows: table.rowCount, seed: 1, testFraction: 0.5,
                                 stratified: task == .classification)
        guard let split = try? record.split(strata: DataSource.strata(table, labels: [label], classes: classes)) else { continue }
        precondition(split.train.count + split.test.count == table.rowCount)
        let features = table.header.filter { $0 != label }
        if let encoding = try? TableEncoding.fit(table, labels: [label], task: task, classes: classes, features: features,
                                                 missing: .mean, trainRows: split.train),
           let encoded = try? encoding.encode(table) {
            precondition(encoded.data.inputs.count == encoding.inputNames.count * encoded.rows.count)
        }
    }
}
