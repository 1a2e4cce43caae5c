import ArgumentParser
import Backprop
import Foundation

/// `--delimiter`, `--comment` and `--decimal`, for every command that reads a CSV file.
struct DialectOptions: ParsableArguments {
    @Option(help: "CSV delimiter: , ; | or tab (default: the one the header uses most).")
    var delimiter: String?
    @Option(help: "Skip CSV lines that start with this character (e.g. '#').")
    var comment: String?
    @Option(help: "CSV decimal mark: . or , (with , a point only groups thousands; default: either, one per column, unless the delimiter is a comma).")
    var decimal: String?

    func dialect() throws -> CSVDialect {
        var dialect = CSVDialect()
        if let delimiter { dialect.delimiter = try CSVDialect.delimiter(named: delimiter) }
        if let comment {
            guard comment.utf8.count == 1, let byte = comment.utf8.first, byte != UInt8(ascii: "\""), byte > 0x20 else {
                throw CommandError("--comment takes one ASCII character such as '#', got \"\(comment)\"")
            }
            dialect.comment = byte
        }
        switch decimal {
        case nil: break
        case ".": dialect.decimalComma = false
        case ",": dialect.decimalComma = true
        case let other?: throw CommandError("--decimal takes . or , (the character before a number's fraction), got \"\(other)\"")
        }
        return dialect
    }

    var isSet: Bool { delimiter != nil || comment != nil || decimal != nil }
}

/// How `train` reads the columns of a CSV file.
struct TableArguments: ParsableArguments {
    @Option(help: "CSV label column (default: label); for regression, target columns separated by commas.")
    var label: String?
    @Option(help: "classification or regression (default: inferred from the label column).")
    var task: Task?
    @Option(help: "Use only these CSV feature columns, separated by commas.")
    var features: String?
    @Option(help: "Drop these CSV columns, separated by commas (an id, a name).")
    var ignore: String?
    @Option(help: "Missing CSV values (\(TableColumn.missingDescription)): error, drop (the row) or mean (the training mean, or the most frequent category).")
    var missing: MissingPolicy?
    @OptionGroup var dialect: DialectOptions

    /// The options given, by name, for the error that says they do not apply.
    var given: [String] {
        [label.map { _ in "--label" }, task.map { _ in "--task" }, features.map { _ in "--features" },
         ignore.map { _ in "--ignore" }, missing.map { _ in "--missing" },
         dialect.delimiter.map { _ in "--delimiter" }, dialect.comment.map { _ in "--comment" },
         dialect.decimal.map { _ in "--decimal" }].compactMap { $0 }
    }

    func options(testFraction: Double?, seed: UInt64) throws -> TableOptions {
        var options = TableOptions()
        if let label { options.labels = try names(label, "--label") }
        options.task = task
        options.features = try features.map { try names($0, "--features") }
        options.ignore = try ignore.map { try names($0, "--ignore") } ?? []
        options.missing = missing ?? .error
        options.dialect = try dialect.dialect()
        options.testFraction = testFraction
        options.seed = seed
        return options
    }
}

/// A comma-separated list of column names, each non-empty; an empty value alone names the one
/// column with no name (the index pandas and R write first).
func names(_ list: String, _ option: String) throws -> [String] {
    if list.isEmpty { return [""] }
    let parts = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard !parts.contains(where: \.isEmpty) else {
        throw CommandError("\(option) takes column names separated by commas, got \"\(list)\"")
    }
    // x1,x1 would make one column two inputs (or two targets).
    if let twice = parts.enumerated().first(where: { parts[..<$0.offset].contains($0.element) })?.element {
        throw CommandError("\(option) names \"\(twice)\" twice")
    }
    return parts
}

extension Task: ExpressibleByArgument {}
extension MissingPolicy: ExpressibleByArgument {}
extension RowChoice: ExpressibleByArgument {}
