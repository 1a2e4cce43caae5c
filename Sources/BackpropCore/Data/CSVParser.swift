/// How a CSV file is written: the delimiter (sniffed from the header when nil), an optional
/// character that starts a comment line, and whether numbers may be written with a decimal comma.
public struct CSVDialect: Sendable, Equatable {
    public var delimiter: UInt8?
    public var comment: UInt8?
    /// Whether `3,5` is the number 3.5 (and `1.234,5` and `1.234` are 1234.5 and 1234). When nil
    /// it is decided by the delimiter: either mark, one per column, unless the delimiter is a
    /// comma (European spreadsheets write `;`-separated files with decimal commas; in a
    /// comma-separated file a quoted `"1,234"` is more likely a thousands separator, so it stays
    /// text unless `--decimal ,` says otherwise).
    public var decimalComma: Bool?

    public init(delimiter: UInt8? = nil, comment: UInt8? = nil, decimalComma: Bool? = nil) {
        self.delimiter = delimiter
        self.comment = comment
        self.decimalComma = decimalComma
    }

    /// The decimal mark of records split on `delimiter`: as given, else a point, or either in a
    /// file not split on commas.
    func decimalMark(delimiter: UInt8) -> DecimalMark {
        switch decimalComma {
        case true?: .comma
        case false?: .point
        case nil: delimiter == UInt8(ascii: ",") ? .point : .either
        }
    }

    /// The delimiters a header is sniffed for, in order of preference on a tie.
    public static let candidates: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\t"), UInt8(ascii: "|")]

    /// A `--delimiter` value: one of `, ; | tab` (or a literal tab).
    public static func delimiter(named name: String) throws -> UInt8 {
        switch name {
        case ",": return UInt8(ascii: ",")
        case ";": return UInt8(ascii: ";")
        case "|": return UInt8(ascii: "|")
        case "\t", "tab", "\\t": return UInt8(ascii: "\t")
        default: throw DataError.invalidOption("--delimiter \"\(name)\" is not valid: expected one of , ; | tab")
        }
    }
}

/// One record of a CSV file: its fields, the line it starts on (1-based) and the delimiter it was
/// split on (given or sniffed).
public struct CSVRecord: Sendable {
    public var fields: [String]
    public var line: Int
    public var delimiter: UInt8
}

/// An RFC 4180 reader fed in chunks: quoted fields may hold delimiters, doubled quotes and line
/// breaks; a UTF-8 BOM is dropped; CRLF and LF both end a record; blank lines and comment lines
/// are skipped; blanks around unquoted fields are trimmed. Until the header is complete the bytes
/// are held back, so the delimiter can be sniffed from it.
struct CSVParser {
    let file: String
    private(set) var dialect: CSVDialect
    private var pending: [UInt8]? = []
    private var field: [UInt8] = []
    private var fields: [String] = []
    private var state = State.lineStart
    private var line = 1
    private var recordLine = 1

    private enum State { case lineStart, fieldStart, unquoted, quoted, quoteInQuoted, afterQuoted, comment }
    private static let quote = UInt8(ascii: "\""), newline = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

    init(file: String, dialect: CSVDialect) {
        self.file = file
        self.dialect = dialect
    }

    mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, emit: (CSVRecord) throws -> Void) throws {
        guard var held = pending else { return try run(bytes, emit: emit) }
        held += bytes
        guard let delimiter = Self.sniff(held, comment: dialect.comment, final: false) else {
            // Classic Mac line ends show in the first chunk: say so now, not after holding a
            // file of them whole (it never has the line feed that would end the header).
            try Self.refuseForeignText(held, file: file)
            pending = held
            return
        }
        try release(held, delimiter: delimiter, emit: emit)
    }

    mutating func finish(emit: (CSVRecord) throws -> Void) throws {
        if let held = pending {
            try release(held, delimiter: Self.sniff(held, comment: dialect.comment, final: true) ?? UInt8(ascii: ","), emit: emit)
        }
        switch state {
        case .quoted:
            throw DataError.malformed(file: file, detail: "line \(recordLine), column \(fields.count + 1): a quoted field is never closed (expected a closing \")")
        case .lineStart, .comment: break
        default: try endRecord(emit)
        }
    }

    private mutating func release(_ held: [UInt8], delimiter: UInt8, emit: (CSVRecord) throws -> Void) throws {
        pending = nil
        try Self.refuseForeignText(held, file: file)
        if dialect.delimiter == nil { dialect.delimiter = delimiter }
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let start = held.starts(with: bom) ? 3 : 0
        try held[start...].withUnsafeBufferPointer { try run($0, emit: emit) }
    }

    /// Text this reader would misread, told from the bytes held before the header is complete:
    /// a spreadsheet workbook (a ZIP archive), UTF-16 (Excel's "Unicode text", Windows
    /// PowerShell's redirections: every other byte of ASCII text is 0, which would parse as one
    /// strange column), then classic Mac line ends, which would read as one endless header. In
    /// that order: UTF-16's CRLF puts a 0 between CR and LF.
    static func refuseForeignText(_ held: [UInt8], file: String) throws {
        func fail(_ detail: String) -> DataError { .malformed(file: file, detail: "line 1: " + detail) }
        if held.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            throw fail("a ZIP archive, not text (an .xlsx or .ods workbook?); save the sheet as CSV")
        }
        let header = held.prefix { $0 != newline }
        // The byte order from a byte-order mark, else from where the first NUL falls ("a\0" is LE).
        let marked = held.starts(with: [0xFF, 0xFE]) ? "LE" : held.starts(with: [0xFE, 0xFF]) ? "BE" : nil
        if let order = marked ?? header.firstIndex(of: 0).map({ $0 % 2 == 1 ? "LE" : "BE" }) {
            let what = marked != nil
                ? "UTF-16 text (it starts with the byte-order mark \(held.prefix(2).map { String(format: "%02X", $0) }.joined(separator: " ")))"
                : "a NUL byte in the header: UTF-16\(order) text or a binary file"
            throw fail("\(what), not UTF-8; convert it, e.g. iconv -f UTF-16\(order) -t UTF-8 \(file) > fixed.csv")
        }
        // A carriage return followed by more text before any line feed (in a CRLF file the first
        // one is followed by its LF).
        if let cr = header.firstIndex(of: cr), cr + 1 < held.count, held[cr + 1] != newline {
            throw fail("lines end with a carriage return alone (classic Mac text); convert them to line feeds, e.g. tr '\\r' '\\n' < \(file) > fixed.csv")
        }
    }

    /// The first byte of `bytes` that starts no valid UTF-8 sequence.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> UInt8? {
        var parser = Unicode.UTF8.ForwardParser(), iterator = bytes.makeIterator(), offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(scalar): offset += scalar.count
            case .error: return bytes[offset]
            case .emptyInput: return nil
            }
        }
    }

    /// The delimiter that occurs most often outside quotes in the first record that is neither
    /// blank nor a comment; nil while that record may still continue (unless `final`).
    static func sniff(_ bytes: [UInt8], comment: UInt8?, final: Bool) -> UInt8? {
        var counts = [Int](repeating: 0, count: CSVDialect.candidates.count)
        var inQuotes = false, lineStart = true, skipping = false, content = false
        for b in bytes {
            if skipping { if b == newline { skipping = false; lineStart = true }; continue }
            if lineStart, !content, let comment, b == comment { skipping = true; continue }
            lineStart = false
            if b == quote { inQuotes.toggle(); content = true; continue }
            if inQuotes { continue }
            if b == newline {
                if content { return best(counts) }
                lineStart = true
                continue
            }
            if b != cr, b != UInt8(ascii: " ") { content = true }
            if let k = CSVDialect.candidates.firstIndex(of: b) { counts[k] += 1 }
        }
        return final ? best(counts) : nil
    }

    private static func best(_ counts: [Int]) -> UInt8 {
        let k = counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) } ?? 0
        return counts[k] > 0 ? CSVDialect.candidates[k] : UInt8(ascii: ",")
    }

    private mutating func run(_ bytes: UnsafeBufferPointer<UInt8>, emit: (CSVRecord) throws -> Void) throws {
        let delimiter = dialect.delimiter ?? UInt8(ascii: ","), comment = dialect.comment
        let quote = Self.quote, newline = Self.newline, cr = Self.cr
        func isBlank(_ b: UInt8) -> Bool { (b == 0x20 || b == 0x09) && b != delimiter }
        for b in bytes {
            switch state {
            case .lineStart:
                if b == newline { line += 1; continue }
                if b == cr { continue }
                if let comment, b == comment { state = .comment; continue }
                recordLine = line
                state = .fieldStart
                // The first field's leading blanks are trimmed as every other field's.
                if !isBlank(b) { try startField(b, delimiter: delimiter, emit: emit) }
            case .fieldStart:
                if isBlank(b) { continue }
                try startField(b, delimiter: delimiter, emit: emit)
            case .unquoted:
                if b == delimiter { try endField(); state = .fieldStart }
                else if b == newline { try endRecord(emit) }
                else if b != cr { field.append(b) }
            case .quoted:
                if b == quote { state = .quoteInQuoted; continue }
                if b == newline { line += 1 }
                field.append(b)
            case .quoteInQuoted:
                if b == quote { field.append(quote); state = .quoted }
                else { try afterClosingQuote(b, delimiter: delimiter, emit: emit) }
            case .afterQuoted:
                try afterClosingQuote(b, delimiter: delimiter, emit: emit)
            case .comment:
                if b == newline { line += 1; state = .lineStart }
            }
        }
    }

    private mutating func startField(_ b: UInt8, delimiter: UInt8, emit: (CSVRecord) throws -> Void) throws {
        if b == Self.quote { state = .quoted; return }
        if b == delimiter { try endField(); state = .fieldStart; return }
        if b == Self.newline { try endRecord(emit); return }
        if b != Self.cr { field.append(b) }
        state = .unquoted
    }

    private mutating func afterClosingQuote(_ b: UInt8, delimiter: UInt8, emit: (CSVRecord) throws -> Void) throws {
        if b == delimiter { try endField(quoted: true); state = .fieldStart }
        else if b == Self.newline { try endRecord(emit, quoted: true) }
        else if b == Self.cr || b == 0x20 || b == 0x09 { state = .afterQuoted }
        else {
            throw DataError.malformed(file: file, detail: "line \(line), column \(fields.count + 1): \"\(Character(Unicode.Scalar(b)))\" after a closing quote: expected a delimiter or the end of the line (write a quote inside a quoted field as \"\")")
        }
    }

    private mutating func endField(quoted: Bool = false) throws {
        if !quoted { while let last = field.last, last == 0x20 || last == 0x09, last != dialect.delimiter { field.removeLast() } }
        guard let text = String(validating: field, as: UTF8.self) else {
            throw DataError.malformed(file: file, detail: "line \(recordLine), column \(fields.count + 1): not UTF-8 text "
                + "(byte \(Self.firstInvalidUTF8(field).map { String(format: "0x%02X", $0) } ?? "?")); if the file is "
                + "Latin-1 or Windows-1252 (Excel's CSV on Windows), convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8 \(file) > fixed.csv")
        }
        fields.append(text)
        field.removeAll(keepingCapacity: true)
    }

    private mutating func endRecord(_ emit: (CSVRecord) throws -> Void, quoted: Bool = false) throws {
        try endField(quoted: quoted)
        let blank = !quoted && fields.count == 1 && fields[0].isEmpty
        if !blank { try emit(CSVRecord(fields: fields, line: recordLine, delimiter: dialect.delimiter ?? UInt8(ascii: ","))) }
        fields.removeAll(keepingCapacity: true)
        line += 1
        state = .lineStart
    }
}
