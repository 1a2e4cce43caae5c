/// A CSV file read into columns: the header, the columns asked for, each row's line number
/// (for errors) and a hash of the file's bytes (to recognise the file a model was trained on).
public struct RawTable: Sendable {
    public var file: String
    public var header: [String]
    public var columns: [TableColumn]
    /// The line each data row starts on.
    public var lines: [Int32]
    /// FNV-1a 64 of the file's bytes (after decompression), as `fnv1a64:<hex>`.
    public var contentHash: String
    public var dialect: CSVDialect
    /// Where each kept column is in `columns`: a header may name many thousands.
    private var index: [String: Int]

    init(file: String, header: [String], columns: [TableColumn], lines: [Int32], contentHash: String, dialect: CSVDialect) {
        self.file = file; self.header = header; self.columns = columns; self.lines = lines
        self.contentHash = contentHash; self.dialect = dialect
        index = Dictionary(columns.enumerated().map { ($1.name, $0) }) { first, _ in first }
    }

    public var rowCount: Int { lines.count }

    public func column(_ name: String) -> TableColumn? { index[name].map { columns[$0] } }

    /// Reads `path` (plain or `.gz`), keeping the columns `keep` picks from the header (all when
    /// nil); `text` columns keep their values as written. Errors name the file, line and column.
    /// A header without rows is an error unless `emptyAllowed` (a day with nothing to predict).
    public static func read(_ path: String, dialect: CSVDialect = CSVDialect(), text: Set<String> = [],
                            emptyAllowed: Bool = false, keep: (([String]) throws -> [String])? = nil) throws -> RawTable {
        var parser = CSVParser(file: path, dialect: dialect)
        var sink = Sink(file: path, keep: keep, text: text, dialect: dialect)
        try forEachChunk(of: path) { chunk in
            sink.hash(chunk)
            try parser.feed(chunk) { try sink.add($0) }
        }
        try parser.finish { try sink.add($0) }
        return try sink.table(dialect: parser.dialect, emptyAllowed: emptyAllowed)
    }

    /// Parses CSV bytes already in memory (tests, fuzzing).
    public static func parse(_ bytes: [UInt8], file: String, dialect: CSVDialect = CSVDialect(),
                             keep: (([String]) throws -> [String])? = nil) throws -> RawTable {
        var parser = CSVParser(file: file, dialect: dialect)
        var sink = Sink(file: file, keep: keep, text: [], dialect: dialect)
        try bytes.withUnsafeBufferPointer { chunk in
            sink.hash(chunk)
            try parser.feed(chunk) { try sink.add($0) }
        }
        try parser.finish { try sink.add($0) }
        return try sink.table(dialect: parser.dialect)
    }

    public static func parse(_ text: String, file: String, dialect: CSVDialect = CSVDialect(),
                             keep: (([String]) throws -> [String])? = nil) throws -> RawTable {
        try parse(Array(text.utf8), file: file, dialect: dialect, keep: keep)
    }

    /// Collects the parser's records into columns.
    private struct Sink {
        let file: String
        let keep: (([String]) throws -> [String])?
        let text: Set<String>
        let dialect: CSVDialect
        /// Decided at the header, once the delimiter is known.
        var decimal = DecimalMark.point
        var header: [String]?
        var columns: [TableColumn] = []
        var lines: [Int32] = []
        var fnv: UInt64 = 0xcbf2_9ce4_8422_2325

        init(file: String, keep: (([String]) throws -> [String])?, text: Set<String>, dialect: CSVDialect) {
            self.file = file; self.keep = keep; self.text = text; self.dialect = dialect
        }

        mutating func hash(_ bytes: UnsafeBufferPointer<UInt8>) {
            for b in bytes { fnv = (fnv ^ UInt64(b)) &* 0x100_0000_01b3 }
        }

        func table(dialect: CSVDialect, emptyAllowed: Bool = false) throws -> RawTable {
            guard let header else {
                throw DataError.malformed(file: file, detail: "empty file: expected a header row and data rows")
            }
            guard !lines.isEmpty || emptyAllowed else { throw DataError.malformed(file: file, detail: "no data rows after the header") }
            return RawTable(file: file, header: header, columns: columns, lines: lines,
                            contentHash: "fnv1a64:" + String(fnv, radix: 16), dialect: dialect)
        }

        mutating func add(_ record: CSVRecord) throws {
            guard let header else { return try start(record) }
            guard record.fields.count == header.count else {
                throw DataError.malformed(file: file, detail: "line \(record.line): \(record.fields.count) fields, expected \(header.count) as in the header\(delimiterHint(record))")
            }
            for k in columns.indices {
                let c = columns[k].position
                do { try columns[k].append(record.fields[c], decimal: decimal) } catch {
                    throw DataError.malformed(file: file, detail: "line \(record.line), column \(c + 1) (\"\(header[c])\"): \(error.message)")
                }
            }
            guard lines.count < Int32.max else { throw DataError.malformed(file: file, detail: "more than \(Int32.max) rows") }
            lines.append(Int32(clamping: record.line))
        }

        private mutating func start(_ record: CSVRecord) throws {
            let names = record.fields
            if let duplicate = Dictionary(grouping: names, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
                throw DataError.malformed(file: file, detail: "line \(record.line): column \"\(duplicate)\" appears twice in the header")
            }
            header = names
            decimal = dialect.decimalMark(delimiter: record.delimiter)
            let position = Dictionary(names.enumerated().map { ($1, $0) }) { first, _ in first }
            var seen = Set<String>()
            columns = try (keep?(names) ?? names).compactMap { name in
                guard seen.insert(name).inserted, let p = position[name] else { return nil }
                return TableColumn(name: name, position: p, asText: text.contains(name))
            }
        }

        /// A ragged row in a file whose header holds one field is most often a wrong delimiter.
        private func delimiterHint(_ record: CSVRecord) -> String {
            guard let header, header.count == 1 else { return "" }
            return " (is the delimiter right? give it with --delimiter)"
        }
    }
}
