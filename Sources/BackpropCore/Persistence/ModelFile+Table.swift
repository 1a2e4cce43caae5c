extension ModelFile {
    /// The task the model was trained for.
    public var task: Task { table?.task ?? .classification }

    /// Output names: the classes, or the regression targets.
    public var outputNames: [String] {
        let outputs = architecture.sizes[architecture.sizes.count - 1]
        if let table, table.task == .regression { return table.labels }
        return classNames ?? table?.classes ?? (0..<max(outputs, 2)).map(String.init)
    }

    /// How to read a CSV for this model. A version 1 model (or one trained on IDX data) has no
    /// stored encoding: its features are numeric columns, by name when it knows them, else
    /// every column of `header` but `label`, and its classes are `0, 1, …` unless named.
    public func tableEncoding(header: [String], labels: [String]? = nil, data: String, modelFile: String) throws -> TableEncoding {
        if var table {
            if let labels {
                // The model has one output (or one target) set per label column it was trained on.
                guard labels.count == table.labels.count else {
                    throw DataError.invalidOption("--label names \(labels.count) column\(labels.count == 1 ? "" : "s"), but \(modelFile) was trained on \(table.labels.count) (\(listed(table.labels)))")
                }
                table.labels = labels
            }
            return table
        }
        let labels = labels ?? ["label"]
        let names = featureNames ?? header.filter { !labels.contains($0) }
        let outputs = architecture.sizes[architecture.sizes.count - 1]
        guard names.count == architecture.sizes[0] else {
            throw DataError.malformed(file: data, detail: "\(names.count) features, but the model \(modelFile) expects \(architecture.sizes[0]) inputs")
        }
        return TableEncoding(task: .classification, labels: labels,
                             columns: names.map { .init(name: $0, categories: nil, fill: nil) },
                             classes: classNames ?? (0..<max(outputs, 2)).map(String.init), targets: nil, missing: .error)
    }
}
