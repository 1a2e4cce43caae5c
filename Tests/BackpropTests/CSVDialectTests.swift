import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU

/// The cells of every kept column of a parsed table, as text (missing → "∅").
private func cells(_ table: RawTable) -> [[String]] {
    (0..<table.rowCount).map { row in table.columns.map { $0.text(row) ?? "∅" } }
}

@Suite("CSV dialects: RFC 4180 quoting, BOM, line endings, blank and comment lines, delimiters")
struct CSVDialectTests {
    @Test("quoted fields keep delimiters, doubled quotes and line breaks; line numbers follow the file")
    func rfc4180() throws {
        let text = "name,note,label\n\"Smith, John\",\"said \"\"hi\"\"\",a\n\"two\nlines\",x,b\nplain,\"\",a\n"
        let table = try RawTable.parse(text, file: "q.csv")
        #expect(table.header == ["name", "note", "label"])
        #expect(cells(table) == [["Smith, John", "said \"hi\"", "a"], ["two\nlines", "x", "b"], ["plain", "∅", "a"]])
        #expect(table.lines == [2, 3, 5], "the row after a two-line field starts on line 5")
    }

    @Test("a UTF-8 BOM is dropped, CRLF ends lines, blank lines and --comment lines are skipped")
    func bomCRLFBlankComments() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("a,label\r\n\r\n# a note, with a comma\r\n1,x\r\n   \r\n2,y\r\n".utf8)
        let table = try RawTable.parse(bytes, file: "b.csv", dialect: CSVDialect(comment: UInt8(ascii: "#")))
        #expect(table.header == ["a", "label"], "no BOM in the first column's name")
        #expect(cells(table) == [["1", "x"], ["2", "y"]])
        #expect(table.lines == [4, 6])
        // Without --comment the comment line is a row like any other.
        let plain = try RawTable.parse(bytes, file: "b.csv")
        #expect(cells(plain).first == ["# a note", "with a comma"])
    }

    @Test("a file whose lines end with a carriage return alone is an error that says so")
    func classicMacLineEnds() {
        let error = errorText { _ = try RawTable.parse("a,label\r1,x\r2,y\r", file: "mac.csv") }
        #expect(error?.contains("mac.csv: line 1: lines end with a carriage return alone") == true, "got \(error ?? "no error")")
        // A single line that ends in CR (no data) is not taken for one.
        #expect(errorText { _ = try RawTable.parse("a,label\r", file: "one.csv") }?.contains("carriage return") == false)
        // Said at the first chunk, not after holding a file of such lines whole.
        var parser = CSVParser(file: "mac.csv", dialect: CSVDialect())
        let chunk = Array("a,label\r1,x\r2,y\r".utf8)
        let early = errorText { try chunk.withUnsafeBufferPointer { try parser.feed($0) { _ in } } }
        #expect(early?.contains("lines end with a carriage return alone") == true, "got \(early ?? "no error")")
        // CRLF is not taken for it, in however small chunks.
        var crlf = CSVParser(file: "dos.csv", dialect: CSVDialect())
        var records = 0
        for byte in Array("a,label\r\n1,x\r\n".utf8) { try? [byte].withUnsafeBufferPointer { try crlf.feed($0) { _ in records += 1 } } }
        try? crlf.finish { _ in records += 1 }
        #expect(records == 2)
    }

    @Test("blanks around unquoted fields are trimmed, the first field of a line included")
    func blanksTrimmed() throws {
        let table = try RawTable.parse(" label , a\n  x ,1\nx, 2\n\t y,3\n", file: "t.csv")
        #expect(table.header == ["label", "a"])
        #expect(cells(table) == [["x", "1"], ["x", "2"], ["y", "3"]])
        let tabs = try RawTable.parse("label\ta\nx\t1\n\t2\n", file: "t.tsv")
        #expect(cells(tabs) == [["x", "1"], ["∅", "2"]], "a tab delimiter is not a blank: the first field is empty")
    }

    @Test("the delimiter is sniffed from the header among , ; tab |, or given",
          arguments: [(";", "1.5"), ("\t", "1.5"), ("|", "1.5"), (",", "1.5")])
    func sniffed(delimiter: String, first: String) throws {
        let value = delimiter == ";" ? "\"1,5\"" : "1.5"
        let text = ["a", "b c", "label"].joined(separator: delimiter) + "\n" + [value, "2", "x"].joined(separator: delimiter) + "\n"
        let table = try RawTable.parse(text, file: "d.csv")
        #expect(table.header == ["a", "b c", "label"])
        #expect(table.dialect.delimiter == delimiter.utf8.first)
        #expect(cells(table).first?.first == first)
        let given = try RawTable.parse(text, file: "d.csv", dialect: CSVDialect(delimiter: try CSVDialect.delimiter(named: delimiter == "\t" ? "tab" : delimiter)))
        #expect(given.header == table.header)
    }

    @Test("a quote inside a quoted header does not count toward the sniffed delimiter")
    func sniffIgnoresQuoted() throws {
        let table = try RawTable.parse("\"a;b;c\",d,label\n1,2,x\n", file: "s.csv")
        #expect(table.header == ["a;b;c", "d", "label"])
    }

    @Test("the content hash tells files apart and is stable")
    func contentHash() throws {
        let a = try RawTable.parse("a,label\n1,x\n", file: "a.csv"), b = try RawTable.parse("a,label\n2,x\n", file: "b.csv")
        #expect(a.contentHash != b.contentHash)
        #expect(a.contentHash == (try RawTable.parse("a,label\n1,x\n", file: "c.csv")).contentHash)
    }

    @Test("a file read in small chunks gives the same table as one read whole")
    func chunked() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("c.csv").path
        let text = "\u{FEFF}x;\"y\";label\n" + (0..<300).map { "\($0);\"v \($0)\n\";\($0 % 3)" }.joined(separator: "\n")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var parser = CSVParser(file: path, dialect: CSVDialect())
        var records = [CSVRecord]()
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: 7) {
            try bytes[start..<min(start + 7, bytes.count)].withUnsafeBufferPointer { chunk in
                try parser.feed(chunk) { records.append($0) }
            }
        }
        try parser.finish { records.append($0) }
        let whole = try RawTable.read(path)
        #expect(records.count == whole.rowCount + 1)
        #expect(records.dropFirst().map { $0.fields[1] } == (0..<whole.rowCount).map { whole.columns[1].text($0) ?? "" })
        #expect(records.dropFirst().map { Int32($0.line) } == whole.lines)
    }
}

@Suite("Decimal commas: read in ;-separated files, or when --decimal , says so")
struct DecimalCommaTests {
    @Test("3,5 and 1.234,5 are numbers in a ;-separated file; the column stays numeric")
    func semicolonFile() throws {
        let table = try RawTable.parse("x;y;label\n3,5;-1.234,25;a\n\"0,125\";7;b\n", file: "eu.csv")
        #expect(table.dialect.delimiter == UInt8(ascii: ";"))
        #expect(table.columns[0].numbers == [3.5, 0.125])
        #expect(table.columns[1].numbers == [-1234.25, 7])
    }

    @Test("in a comma-separated file a quoted \"1,234\" stays text unless --decimal , is given")
    func commaFile() throws {
        let text = "x,label\n\"1,5\",a\n2,b\n"
        #expect(try RawTable.parse(text, file: "us.csv").columns[0].numbers == nil)
        let given = try RawTable.parse(text, file: "us.csv", dialect: CSVDialect(decimalComma: true))
        #expect(given.columns[0].numbers == [1.5, 2])
        // And --decimal . turns the rule off in a ;-separated file.
        let off = try RawTable.parse("x;label\n3,5;a\n", file: "eu.csv", dialect: CSVDialect(decimalComma: false))
        #expect(off.columns[0].numbers == nil)
    }

    @Test("a column that writes its decimal mark both ways is an error; --decimal , reads a point as grouping")
    func mixedDecimalMarks() throws {
        let text = "a;label\n1.234;x\n1.234,5;y\n"
        let mixed = errorText { _ = try RawTable.parse(text, file: "eu.csv") }
        #expect(mixed?.contains("eu.csv: line 3, column 1 (\"a\"): \"1.234,5\" and \"1.234\" above it write the decimal mark differently") == true,
                "got \(mixed ?? "no error")")
        let comma = try RawTable.parse(text, file: "eu.csv", dialect: CSVDialect(decimalComma: true))
        #expect(comma.columns[0].numbers == [1234, 1234.5])
        // With --decimal , a point that does not group thousands is no number.
        #expect(try RawTable.parse("a;label\n1.5;x\n", file: "eu.csv", dialect: CSVDialect(decimalComma: true)).columns[0].numbers == nil)
        // Each column may keep to its own mark.
        let own = try RawTable.parse("a;b;label\n1.5;3,5;x\n2.25;0,5;y\n", file: "eu.csv")
        #expect(own.columns[0].numbers == [1.5, 2.25] && own.columns[1].numbers == [3.5, 0.5])
    }

    @Test("a number among categories is named the same whether it comes before or after the first text")
    func numbersAmongCategories() throws {
        let first = try RawTable.parse("a;label\n3,5;x\n2,0;x\nfoo;y\n", file: "a.csv")
        let later = try RawTable.parse("a;label\nfoo;y\n3,5;x\n2,0;x\n", file: "b.csv")
        #expect(Set(first.columns[0].categories) == ["3.5", "2", "foo"])
        #expect(Set(later.columns[0].categories) == Set(first.columns[0].categories))
        // A column kept as text (predict --keep) keeps every value as written.
        var kept = TableColumn(name: "id", position: 0, asText: true)
        for cell in ["007", "2,0", "12345678901"] { try kept.append(cell, decimal: .either) }
        #expect(kept.categories == ["007", "2,0", "12345678901"])
    }

    @Test("only one decimal comma after digits grouped in threes is a number",
          arguments: [("3,5", Double(3.5)), ("+0,5", 0.5), ("12.345.678,9", 12_345_678.9), ("1,2,3", nil), ("1.23,4", nil),
                      ("1234.567,8", nil), (",5", nil), ("5,", nil), ("1.5", nil), ("a,5", nil), ("1,5e3", nil)])
    func rule(cell: String, expected: Double?) {
        #expect(TableColumn.decimalCommaNumber(cell) == expected)
    }

    @Test("--decimal takes . or , and says so otherwise")
    func option() throws {
        let dir = try temporaryDirectory()
        try "x;label\n3,5;a\n4,5;b\n".write(to: dir.appendingPathComponent("eu.csv"), atomically: true, encoding: .utf8)
        let result = try backprop(["train", "--data", "eu.csv", "--decimal", "x"], in: dir)
        #expect(result.status != 0)
        #expect(result.stderr.contains("--decimal takes . or ,"), "\(result.stderr)")
    }
}
