import Foundation

/// A numeric CSV table: a header row, then one sample per line. One column (`label` unless
/// another is named) holds integer class labels `0, 1, 2, …`; every other column is a feature.
public struct CSVTable: Sendable {
    public var featureNames: [String]
    /// `featureNames.count × rowCount`, column-major (one column per sample).
    public var features: [Float]
    /// Present when the label column was found.
    public var labels: [Int32]?
    public var rowCount: Int

    /// Reads `path`. With `requireLabel` false a file without the label column is accepted
    /// (inputs for prediction). Errors name the file, the line and the column.
    public static func read(_ path: String, labelColumn: String = "label",
                            requireLabel: Bool = true) throws -> CSVTable {
        let bytes = try readPossiblyCompressedFile(path, limit: 1 << 30)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DataError.malformed(file: path, detail: "not UTF-8 text")
        }
        return try parse(text, file: path, labelColumn: labelColumn, requireLabel: requireLabel)
    }

    public static func parse(_ text: String, file: String, labelColumn: String = "label",
                             requireLabel: Bool = true) throws -> CSVTable {
        func fail(_ line: Int, _ detail: String) -> DataError {
            .malformed(file: file, detail: "line \(line): \(detail)")
        }
        // "\r\n" is a single Character in Swift, so split on every kind of line break.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        while let last = lines.last, last.allSatisfy(\.isWhitespace) { lines.removeLast() }
        guard let headerLine = lines.first else {
            throw DataError.malformed(file: file, detail: "empty file: expected a header row and data rows")
        }
        let header = fields(headerLine)
        if let duplicate = Dictionary(grouping: header, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw fail(1, "column \"\(duplicate)\" appears twice in the header")
        }
        let labelIndex = header.firstIndex(of: labelColumn)
        if labelIndex == nil, requireLabel {
            throw fail(1, "no label column \"\(labelColumn)\" in the header (columns: \(header.joined(separator: ", "))); name it with --label")
        }
        let featureNames = header.enumerated().filter { $0.offset != labelIndex }.map(\.element)
        guard !featureNames.isEmpty else { throw fail(1, "no feature columns besides the label") }
        guard lines.count > 1 else { throw DataError.malformed(file: file, detail: "no data rows after the header") }

        var features = [Float]()
        // Every value takes at least one byte of the text: never reserve more than that, however
        // many columns the header names and however many (possibly blank) lines follow.
        features.reserveCapacity(min((lines.count - 1) * featureNames.count, text.utf8.count))
        var labels = [Int32]()
        for (offset, line) in lines.dropFirst().enumerated() {
            let lineNumber = offset + 2
            let cells = fields(line)
            guard cells.count == header.count else {
                throw fail(lineNumber, "\(cells.count) fields, expected \(header.count) as in the header")
            }
            for (c, cell) in cells.enumerated() {
                let column = header[c]
                if c == labelIndex {
                    guard let label = Int32(cell), label >= 0 else {
                        throw fail(lineNumber, "label \"\(cell)\" in column \"\(column)\" is not a class number (expected an integer 0, 1, 2, …)")
                    }
                    labels.append(label)
                } else {
                    guard let value = Float(cell) else {
                        throw fail(lineNumber, "\"\(cell)\" in column \"\(column)\" is not a number")
                    }
                    guard value.isFinite else {
                        throw fail(lineNumber, "\"\(cell)\" in column \"\(column)\" is not a finite number (NaN and Inf are not allowed)")
                    }
                    features.append(value)
                }
            }
        }
        return CSVTable(featureNames: featureNames, features: features,
                        labels: labelIndex == nil ? nil : labels, rowCount: lines.count - 1)
    }

    /// Splits a line on commas, trimming blanks and one pair of surrounding double quotes.
    static func fields(_ line: Substring) -> [String] {
        line.split(separator: ",", omittingEmptySubsequences: false).map { raw in
            var f = raw.trimmingCharacters(in: .whitespaces)
            if f.count >= 2, f.hasPrefix("\""), f.hasSuffix("\"") { f = String(f.dropFirst().dropLast()) }
            return f
        }
    }

    /// The table as a dataset; the class count is one more than the largest label.
    public func dataset(file: String) throws -> Dataset {
        guard let labels else { throw DataError.malformed(file: file, detail: "no label column") }
        let classes = Int(labels.max() ?? 0) + 1
        guard classes >= 2 else {
            throw DataError.malformed(file: file, detail: "every label is 0: a classifier needs at least two classes")
        }
        guard classes <= 100_000 else {
            throw DataError.malformed(file: file, detail: "label \(classes - 1) is too large: expected class numbers 0, 1, 2, …")
        }
        return Dataset(featureCount: featureNames.count, classCount: classes, inputs: features,
                       labels: labels, classNames: (0..<classes).map(String.init))
    }
}
