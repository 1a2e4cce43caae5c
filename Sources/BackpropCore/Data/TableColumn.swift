/// One column of a CSV table as read: numbers while every value parses as one, and categories
/// (strings) from the first value that does not. Memory is a Double or an Int32 per row plus the
/// distinct categories, never the text.
public struct TableColumn: Sendable {
    public let name: String
    /// The column's position in the header (0-based).
    public let position: Int
    /// While the column is numeric: each row's number, NaN where the value is missing. Double:
    /// float32 keeps about 7 digits, and cents on millions or milliseconds on a Unix time need
    /// more (the encoding centers each column before it becomes float32).
    public private(set) var numbers: [Double]? = []
    /// Once it is categorical: each row's category index, −1 where the value is missing.
    public private(set) var codes: [Int32] = []
    /// The categories in order of first appearance.
    public private(set) var categories: [String] = []
    private var lookup: [String: Int32] = [:]
    /// Cells that read as numbers and cells that do not (missing ones aside), and the row and
    /// text of the first that does not: what ``strayText`` judges from.
    private var numberCells = 0, textCells = 0
    private var firstText: (row: Int, text: String)?
    /// With ``DecimalMark/either``: the first number written with a decimal point, and with a comma.
    private var pointExample: String?, commaExample: String?

    /// The cells that mean "no value".
    public static let missingMarkers: Set<String> = ["", "NA", "N/A", "NaN", "nan", "?", "NULL", "null"]
    /// ``missingMarkers`` for messages.
    public static let missingDescription = "empty, NA, N/A, NaN, ?, NULL"

    /// A cell's number as pandas and R read one: decimal, with an optional exponent. Swift's
    /// parser also takes C's hexadecimal floats, and `0x1F` in a column of codes is no quantity.
    public static func number(_ cell: String) -> Double? {
        cell.contains(where: { $0 == "x" || $0 == "X" }) ? nil : Double(cell)
    }

    /// `asText` keeps every value as written (an id column to copy into predictions).
    public init(name: String, position: Int, asText: Bool = false) {
        self.name = name
        self.position = position
        keepsText = asText
        if asText { numbers = nil }
    }

    /// Whether every value is kept as written (`asText`); else a number among categories is
    /// named by its canonical spelling, wherever in the column it comes.
    private let keepsText: Bool

    public var isNumeric: Bool { numbers != nil }

    /// A column of numbers but for a few cells (at most 1 in 20 of its values) that made it a
    /// column of categories: most likely typos, which the reader reports — the first
    /// one's row and text, and how many there are. Nil for a numeric or a truly textual column.
    public var strayText: (row: Int, text: String, count: Int)? {
        guard numbers == nil, textCells * 20 <= numberCells + textCells, let firstText else { return nil }
        return (firstText.row, firstText.text, textCells)
    }
    public var count: Int { numbers?.count ?? codes.count }

    /// Adds one cell, its number read with `decimal`'s mark. Throws a message (without the
    /// place) for a number that is not finite, and for a column of numbers that writes the
    /// decimal mark both ways (`1.5` and `3,5`: `1.234` would then mean two things).
    mutating func append(_ cell: String, decimal: DecimalMark = .point) throws(CellError) {
        if Self.missingMarkers.contains(cell) {
            if numbers != nil { numbers?.append(.nan) } else { codes.append(-1) }
            return
        }
        var number: Double?
        switch decimal {
        case .point:
            number = Self.number(cell)
        case .comma:
            // A point only groups thousands: 1.234 is 1234, and 1.5 is no number.
            number = Self.decimalCommaNumber(cell) ?? (cell.contains(".") ? Self.decimalCommaNumber(cell + ",0") : Self.number(cell))
        case .either:
            if let n = Self.number(cell) {
                number = n
                if cell.contains("."), pointExample == nil { pointExample = cell }
            } else if let n = Self.decimalCommaNumber(cell) {
                number = n
                if commaExample == nil { commaExample = cell }
            }
            if numbers != nil, let point = pointExample, let comma = commaExample {
                let other = cell == point ? comma : point
                throw CellError("\"\(cell)\" and \"\(other)\" above it write the decimal mark differently (a point and a comma): say which with --decimal , (a point then groups thousands: 1.234 is 1234) or --decimal .")
            }
        }
        if let number {
            numberCells += 1
            if numbers != nil {
                guard number.isFinite else {
                    throw CellError("\"\(cell)\" is not a finite number (Inf is not allowed; write a missing value as empty, NA or ?)")
                }
                guard Float(number).isFinite else {
                    throw CellError("\"\(cell)\" is beyond float32's range (±3.4e38), in which backprop computes; scale the column down")
                }
                numbers?.append(number)
                return
            }
        } else {
            if firstText == nil { firstText = (count, cell) }
            textCells += 1
        }
        if let earlier = numbers {
            numbers = nil
            codes.reserveCapacity(earlier.count + 1)
            for v in earlier { codes.append(v.isNaN ? -1 : code(of: Self.canonical(v))) }
        }
        // The numbers before the first text became canonical categories: so do those after it
        // (`3,5` and `2.0` name "3.5" and "2" whichever row comes first, in training and later).
        codes.append(code(of: keepsText ? cell : number.map(Self.canonical) ?? cell))
    }

    /// `3,5` → 3.5, `-1.234.567,25` → −1234567.25: one decimal comma, optionally after digits grouped
    /// in threes by dots. Anything else (`1,2,3`, `1.23,4`) is not a number.
    static func decimalCommaNumber(_ cell: String) -> Double? { decimalCommaText(cell).flatMap(Double.init) }

    /// The text of ``decimalCommaNumber(_:)`` with a decimal point and no grouping, or nil.
    static func decimalCommaText(_ cell: String) -> String? {
        let parts = cell.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty, parts[1].allSatisfy(\.isASCIIDigit) else { return nil }
        var whole = Substring(parts[0])
        let sign = whole.first == "-" || whole.first == "+" ? String(whole.removeFirst()) : ""
        let groups = whole.split(separator: ".", omittingEmptySubsequences: false)
        guard let first = groups.first, !first.isEmpty, first.count <= (groups.count > 1 ? 3 : Int.max),
              groups.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
              groups.dropFirst().allSatisfy({ $0.count == 3 }) else { return nil }
        return sign + groups.joined() + "." + parts[1]
    }

    private mutating func code(of text: String) -> Int32 {
        if let c = lookup[text] { return c }
        let c = Int32(categories.count)
        categories.append(text)
        lookup[text] = c
        return c
    }

    public func isMissing(_ row: Int) -> Bool {
        if let numbers { return numbers[row].isNaN }
        return codes[row] < 0
    }

    /// The value of `row` as text (numbers in canonical form), or nil when missing.
    public func text(_ row: Int) -> String? {
        if let numbers { return numbers[row].isNaN ? nil : Self.canonical(numbers[row]) }
        return codes[row] < 0 ? nil : categories[Int(codes[row])]
    }

    /// One spelling per number, so that `2`, `2.0` and `2e0` name the same class or category.
    public static func canonical(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
        return "\(v)"
    }
}

/// How numbers in a table write their decimal mark.
enum DecimalMark: Sendable {
    /// `1.5`; a comma is no number (`"1,234"` stays text).
    case point
    /// `1,5`; a point groups thousands (`1.234,5`, `1.234`).
    case comma
    /// Either, as long as each column keeps to one of them.
    case either
}

/// A problem with one cell; the reader adds the file, line and column.
struct CellError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Natural order: numbers by value; other text with runs of digits compared as numbers
/// (`class2` before `class10`), then by the plain text.
public func naturalOrder(_ a: String, _ b: String) -> Bool {
    if let x = TableColumn.number(a), let y = TableColumn.number(b), x != y { return x < y }
    var i = a.unicodeScalars[...], j = b.unicodeScalars[...]
    func isDigit(_ s: Unicode.Scalar) -> Bool { ("0"..."9").contains(s) }
    while let p = i.first, let q = j.first {
        if isDigit(p), isDigit(q) {
            let m = i.prefix(while: isDigit), n = j.prefix(while: isDigit)
            let u = m.drop { $0 == "0" }, v = n.drop { $0 == "0" }
            if u.count != v.count { return u.count < v.count }
            if let k = zip(u, v).first(where: { $0 != $1 }) { return k.0 < k.1 }
            i = i.dropFirst(m.count); j = j.dropFirst(n.count)
        } else {
            if p != q { return p < q }
            i = i.dropFirst(); j = j.dropFirst()
        }
    }
    if i.isEmpty != j.isEmpty { return i.isEmpty }
    return a < b
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
