import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU

/// Loads CSV `text` for training through a file, as `train --data` does.
func loadCSV(_ text: String, labels: [String] = ["label"], task: Task? = nil, missing: MissingPolicy = .error,
             features: [String]? = nil, ignore: [String] = [], testFraction: Double? = nil, seed: UInt64 = 1) throws -> LoadedData {
    let path = try temporaryDirectory().appendingPathComponent("t.csv").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    var options = TableOptions()
    options.labels = labels; options.task = task; options.missing = missing
    options.features = features; options.ignore = ignore
    options.testFraction = testFraction; options.seed = seed
    return try DataSource.loadTable(path, options: options)
}

/// A CSV with one feature `x` and the given labels, one row each.
private func labelled(_ labels: [String]) -> String {
    "x,label\n" + labels.enumerated().map { "\($0.offset),\($0.element)" }.joined(separator: "\n") + "\n"
}

@Suite("Tables: labels, tasks, categorical features, missing values")
struct TableTests {
    @Test("names listed in a message: quoted where a comma, quote, blank end or emptiness would make the list ambiguous")
    func listedNames() {
        #expect(listed(["setosa", "versicolor"]) == "setosa, versicolor")
        #expect(listed(["a, b", "c", "d \"q\"", "", " e", "f g"]) == #""a, b", c, "d \"q\"", "", " e", f g"#)
        #expect(listed((1...5).map(String.init), limit: 3) == "1, 2, 3, …")
        #expect(listed(["1", "2"], limit: 2) == "1, 2")
        // Control characters as escapes (a quoted cell's line break, a terminal escape), long names cut.
        #expect(shortened("a\nb\u{1B}[31m\r\nc\t") == #"a\nb\u{1B}[31m\r\nc\t"#)
        #expect(shortened(String(repeating: "x", count: 500_000)) == String(repeating: "x", count: 40) + "…")
        #expect(listed(["ok", String(repeating: "y", count: 50), "a\nb"]) == "ok, " + String(repeating: "y", count: 40) + "…, a\\nb")
    }

    @Test("many small classes: the test split holds round(fraction × rows), one more row to the largest remainders; a record without the field splits per class as before")
    func splitManySmallClasses() throws {
        let rows = (0..<60).map { "\($0),c\($0 % 30)" }.joined(separator: "\n")
        for (fraction, expected) in [(0.3, 18), (0.2, 12), (0.5, 30)] {
            let loaded = try loadCSV("a,label\n" + rows + "\n", testFraction: fraction)
            #expect(loaded.test.count == expected, "\(fraction)")
            #expect(loaded.notes.allSatisfy { !$0.hasPrefix("split") }, "\(loaded.notes)")
            #expect(loaded.split?.allocation == .largestRemainder)
        }
        // Every class keeps a training row, and the classes are as balanced as the remainders allow.
        let strata = (0..<60).map { Int32($0 % 30) }
        let record = SplitRecord(fileHash: "", rows: 60, seed: 1, testFraction: 0.3, stratified: true)
        let (train, test) = try record.split(strata: strata)
        #expect(Set(train.map { strata[$0] }).count == 30 && test.count == 18)
        #expect(SplitAllocation.largestRemainder.testRows(of: [5, 5, 2], fraction: 0.3) == [2, 1, 1])
        // A record from before the field (a model saved earlier): the same rows as then.
        let legacy = try JSONDecoder().decode(SplitRecord.self, from: Data(#"{"file_hash":"","rows":60,"seed":1,"test_fraction":0.3,"stratified":true}"#.utf8))
        #expect(legacy.allocation == nil)
        #expect(try legacy.split(strata: strata).test.count == 30)
        var empty = legacy
        empty.testFraction = 0.2
        let message = errorText { _ = try empty.split(strata: strata) }
        #expect(message?.contains("leaves an empty split (rows are held out class by class, and every class keeps one for training; the largest class has 2 rows)") == true,
                "\(message ?? "no error")")
    }

    @Test("columns that look like something else are pointed out: a row number, money or percentages, dates; filled cells are counted")
    func columnsPointedOut() throws {
        let rows = (0..<40).map { i in
            "\(101 + i),\(i % 3 == 0 ? "" : "\(i)"),\"$\(1 + i),\(100 + i)\",\(i % 9)%,2024-01-\(String(format: "%02d", 1 + i % 28)),\(i % 2)"
        }
        let loaded = try loadCSV("id,x,price,share,day,label\n" + rows.joined(separator: "\n") + "\n", missing: .mean)
        let notes = loaded.notes.joined(separator: "\n")
        // Categories are those of the 32 training rows (the split holds out 8).
        #expect(notes.contains("column \"id\" numbers the rows (101…140, each once): an id? --ignore id drops it"), "\(notes)")
        #expect(!notes.contains("column \"x\" numbers"), "a feature with gaps is no row number: \(notes)")
        #expect(notes.contains("column \"price\" is read as 32 categories: its cells are numbers with a currency or percent sign (\"$1,100\")"), "\(notes)")
        #expect(notes.contains("column \"share\" is read as 9 categories: its cells are numbers with a currency or percent sign (\"0%\")"), "\(notes)")
        #expect(notes.contains("column \"day\" holds dates (\"2024-01-01\"), read as 23 categories (a date not seen in training"), "\(notes)")
        // 14 of 40 rows miss x; the note counts the cells and names the fill.
        let filled = try #require(loaded.notes.first { $0.hasPrefix("missing   filled") }, "\(notes)")
        #expect(filled.contains("x: 14 cells (35 %) → "), "\(filled)")
        #expect(isDecoratedNumber("-€3,50") && isDecoratedNumber("12,5 %") && !isDecoratedNumber("$") && !isDecoratedNumber("5 apples"))
        #expect(looksLikeAnIdName("PassengerId") && looksLikeAnIdName("row_id") && looksLikeAnIdName("") && looksLikeAnIdName("ID")
                && !looksLikeAnIdName("x") && !looksLikeAnIdName("year") && !looksLikeAnIdName("paid"))
        #expect(shellQuoted("row_id") == "row_id" && shellQuoted("row id") == "'row id'" && shellQuoted("it's") == #"'it'\''s'"#)

        // A pandas index (an unnamed first column) is pointed out with advice that works; a feature
        // that happens to count 1…n (x of a toy regression, a year) is not.
        let index = (0..<40).map { "\($0),\($0 + 1),\(1990 + $0),\($0 % 2)" }
        let pandas = try loadCSV(",x,year,label\n" + index.joined(separator: "\n") + "\n")
        let said = pandas.notes.joined(separator: "\n")
        #expect(said.contains("note      the unnamed column numbers the rows (0…39, each once): an id? --ignore '' drops it"), "\(said)")
        #expect(!said.contains("column \"x\"") && !said.contains("column \"year\""), "\(said)")
        #expect(try loadCSV(",x,year,label\n" + index.joined(separator: "\n") + "\n", ignore: [""]).featureNames == ["x", "year"])
        #expect(isISODate("2024-03-15T09:30:00Z") && isISODate("2024-03-15 09:30") && !isISODate("15/03/2024"))
    }

    @Test("numbers with more digits than float32 keeps are read in Double and centered before they become float32")
    func centeredBeforeFloat32() throws {
        // Cents on 20 million: 7 distinct targets (float32 alone reads them as 4), a regression.
        let prices = (0..<70).map { "\($0 % 7),\(20_000_000.25 + Double($0 % 7))" }.joined(separator: "\n")
        let loaded = try loadCSV("x,price\n" + prices + "\n", labels: ["price"])
        let encoding = try #require(loaded.encoding)
        #expect(encoding.task == .regression)
        let center = try #require(encoding.targetCenters?.first)
        #expect(abs(center - 20_000_003.25) < 0.5, "\(center)")
        // The targets the network learns keep every cent: 7 distinct values, 1 apart.
        var targets = Set<Float>()
        for data in [loaded.train, loaded.test] {
            var values = data.targetValues ?? []
            loaded.encoding?.targets?.invert(columns: &values)
            targets.formUnion(values.map { ($0 * 100).rounded() / 100 })
        }
        #expect(targets.count == 7, "\(targets.sorted())")
        // Seconds with milliseconds on a Unix time: the feature keeps its milliseconds.
        let times = (0..<60).map { "\(1_700_000_000 + $0).\(100 + $0 * 7),\($0 % 2)" }.joined(separator: "\n")
        let timed = try loadCSV("t,label\n" + times + "\n")
        let t = try #require(timed.encoding?.columns.first?.center)
        #expect(t > 1_700_000_000 && t < 1_700_000_060)
        #expect(Set(timed.train.inputs + timed.test.inputs).count == 60, "every time stays distinct")
        #expect(try #require(timed.encoding?.inputCenters).count == 1)
    }

    @Test("standardization: a spread of 1e-30 is data, not a constant; a large offset does not cancel the spread")
    func standardizationOfSmallSpreads() {
        let tiny = Standardization(fitting: [1e-30, 3e-30, 2e-30, 4e-30], width: 1)
        #expect(abs(tiny.std[0] - 1.118e-30) < 1e-33 && abs(tiny.mean[0] - 2.5e-30) < 1e-35)
        let offset = Standardization(fitting: [1_000_000, 1_000_000.125, 1_000_000.25, 1_000_000.375], width: 1)
        #expect(abs(offset.std[0] - 0.13975425) < 1e-6, "\(offset.std)")
        #expect(Standardization(fitting: [7, 7, 7], width: 1).std == [1] && Standardization(fitting: [0, 1e-45], width: 1).std == [1])
    }

    @Test("a column of thousands of categories is pointed out, and a table too wide for memory is refused before it is encoded")
    func wideOneHotColumns() throws {
        let rows = (0..<3000).map { "\($0 % 7),z\($0 % 1500),\($0 % 2)" }.joined(separator: "\n")
        let path = try temporaryDirectory().appendingPathComponent("wide.csv").path
        try ("x,zip,label\n" + rows + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var options = TableOptions()
        options.seed = 1
        let loaded = try DataSource.loadTable(path, options: options)
        #expect(loaded.notes.contains { $0.contains("column \"zip\" makes 1") && $0.contains("inputs, one per category") }, "\(loaded.notes)")
        // 3,000 rows × ~1,200 inputs × 4 bytes ≈ 14 MB, × 3 for training's copies: not in 32 MB.
        options.memoryLimit = 32 << 20
        let error = errorText { _ = try DataSource.loadTable(path, options: options) }
        #expect(error?.contains("its 3000 rows encode to") == true && error?.contains("column \"zip\" alone makes") == true
                && error?.contains("--ignore zip") == true, "\(error ?? "no error")")
        #expect(Cgroup.memoryBytes > 0 && Cgroup.memoryBytes <= ProcessInfo.processInfo.physicalMemory)
    }

    @Test("a column with no values (an unnamed one after a trailing delimiter) is ignored with a note")
    func emptyColumnsIgnored() throws {
        let rows = (0..<10).map { "\($0),,\($0 % 2)," }
        let loaded = try loadCSV("a,b,label,\n" + rows.joined(separator: "\n") + "\n")
        #expect(loaded.featureNames == ["a"])
        #expect(loaded.notes.contains { $0.contains("ignored column \"b\", an unnamed column") && $0.contains("no row has a value") },
                "\(loaded.notes)")
    }

    @Test("a column of numbers with a stray word is reported with its line; a column of words is not")
    func strayTextInNumbers() throws {
        let values = (1...20).map { $0 == 10 ? "1e5x" : "\($0)" }
        let rows = values.enumerated().map { "\($1),\(["red", "blue"][$0 % 2]),\($0 % 2)" }
        let loaded = try loadCSV("a,colour,label\n" + rows.joined(separator: "\n") + "\n")
        let stray = loaded.warnings.filter { $0.contains("not a number") }
        #expect(stray.count == 1, "\(loaded.warnings)")
        #expect(stray.first?.contains("line 11, column 1 (\"a\"): \"1e5x\" is not a number, the only such cell") == true, "\(stray)")
        #expect(stray.first?.contains("read as 20 categories") == true, "\(stray)")
        // Half numbers, half words: a column of categories, said nothing about.
        let mixed = (0..<20).map { "\($0 % 2 == 0 ? "\($0)" : "w\($0)"),\($0 % 2)" }
        #expect(try loadCSV("a,label\n" + mixed.joined(separator: "\n") + "\n").warnings.allSatisfy { !$0.contains("not a number") })
    }

    @Test("hexadecimal codes are categories, as pandas reads them, though Swift's Double() parses 0x1F")
    func hexadecimalIsText() throws {
        let codes = ["0x1F", "0x0A", "0XFF", "-0x10"]
        let rows = (0..<20).map { "\(codes[$0 % 4]),\($0),\($0 % 2)" }
        let loaded = try loadCSV("code,n,label\n" + rows.joined(separator: "\n") + "\n")
        let code = try #require(loaded.encoding?.columns.first { $0.name == "code" })
        #expect(code.categories.map(Set.init) == Set(codes))
        #expect(loaded.encoding?.inputNames.count == 5)
        #expect(TableColumn.number("1e3") == 1000 && TableColumn.number("0x1p3") == nil)
    }

    @Test("classes are the distinct labels in natural order, whatever they are written as",
          arguments: [
            (["setosa", "virginica", "versicolor", "setosa"], ["setosa", "versicolor", "virginica"]),
            (["true", "false", "true", "false"], ["false", "true"]),
            (["2.0", "0.0", "1.0", "2.0"], ["0", "1", "2"]),
            (["class10", "class2", "class1", "class2"], ["class1", "class2", "class10"]),
            (["yes", "no", "no", "yes"], ["no", "yes"]),
          ])
    func classNames(labels: [String], classes: [String]) throws {
        let loaded = try loadCSV(labelled(labels + labels), testFraction: 0.25)
        #expect(loaded.task == .classification)
        #expect(loaded.encoding?.classes == classes)
        #expect(loaded.train.classNames == classes)
    }

    @Test("integer labels 1, 2, 3 make exactly three classes named for themselves")
    func noPhantomClass() throws {
        let loaded = try loadCSV(labelled(["3", "1", "2", "3", "1", "2", "1", "2", "3"]), testFraction: 0.34)
        #expect(loaded.encoding?.classes == ["1", "2", "3"])
        #expect(loaded.train.classCount == 3)
        // Row 0 (label 3) is class index 2, wherever it went.
        let all = loaded.trainRows.count + loaded.testRows.count
        #expect(all == 9)
        if let position = loaded.trainRows.firstIndex(of: 0) { #expect(loaded.train.labels[position] == 2) }
        if let position = loaded.testRows.firstIndex(of: 0) { #expect(loaded.test.labels[position] == 2) }
    }

    @Test("the task is inferred: fractions are regression, many distinct integers ask for --task")
    func taskInference() throws {
        let fractions = try loadCSV(labelled(["0.5", "1.25", "2", "3.75", "1"]), testFraction: 0.4)
        #expect(fractions.task == .regression && fractions.encoding?.classes == nil)
        let ids = labelled((0..<60).map(String.init))
        let error = errorText { _ = try loadCSV(ids) }
        #expect(error?.contains("holds 60 distinct integers in 60 rows") == true, "got \(error ?? "no error")")
        #expect(try loadCSV(ids, task: .regression).task == .regression)
        #expect(try loadCSV(ids, task: .classification).encoding?.classes?.count == 60)
    }

    @Test("string columns are one-hot encoded with the training rows' categories; numbers standardized")
    func oneHot() throws {
        let rows = (0..<40).map { "\($0),\(["red", "green", "blue"][$0 % 3]),\($0 % 2)" }
        let loaded = try loadCSV("size,color,label\n" + rows.joined(separator: "\n"), testFraction: 0.25)
        let encoding = try #require(loaded.encoding)
        #expect(encoding.columns.map(\.name) == ["size", "color"])
        #expect(encoding.columns[1].categories == ["blue", "green", "red"])
        #expect(loaded.featureNames == ["size", "color=blue", "color=green", "color=red"])
        // Each sample: one standardized number, then exactly one 1 among the color inputs.
        let x = loaded.train.inputs
        for j in 0..<loaded.train.count {
            let colors = x[(j * 4 + 1)..<(j * 4 + 4)]
            #expect(colors.sorted() == [0, 0, 1])
            let row = loaded.trainRows[j]
            #expect(colors[colors.startIndex + ["blue", "green", "red"].firstIndex(of: ["red", "green", "blue"][row % 3])!] == 1)
        }
        #expect(loaded.standardization?.mean[1...] == [0, 0, 0] && loaded.standardization?.std[1...] == [1, 1, 1])
    }

    @Test("a category unseen in training encodes as zeros, with one warning naming the column and value")
    func unseenCategory() throws {
        let loaded = try loadCSV("color,label\n" + (0..<20).map { "\($0 % 2 == 0 ? "red" : "blue"),\($0 % 2)" }.joined(separator: "\n"))
        let encoding = try #require(loaded.encoding)
        let table = try RawTable.parse("color,label\nred,0\npurple,1\npurple,0\n", file: "new.csv")
        let encoded = try encoding.encode(table, labelled: false)
        #expect(encoded.data.inputs == [0, 1, 0, 0, 0, 0])
        #expect(encoded.warnings == ["warning: new.csv: column \"color\": \"purple\" (line 3 and 1 more rows) is a category not seen in training; encoded as all zeros"])
        // Several unseen values: the first three are named, in order of appearance.
        let many = try RawTable.parse("color,label\nBLUE,0\nRED,1\nBLUE,0\ngreen,1\nteal,0\nred,1\n", file: "more.csv")
        #expect(try encoding.encode(many, labelled: false).warnings
                == ["warning: more.csv: column \"color\": \"BLUE\", \"RED\", \"green\", … (line 2 and 4 more rows) are categories not seen in training; encoded as all zeros"])
    }

    @Test("--features keeps only the named columns, --ignore drops them")
    func selectColumns() throws {
        let text = "id,a,b,label\n" + (0..<10).map { "\($0),\($0 * 2),\($0 % 3),\($0 % 2)" }.joined(separator: "\n")
        #expect(try loadCSV(text, ignore: ["id"]).featureNames == ["a", "b"])
        #expect(try loadCSV(text, features: ["b"]).featureNames == ["b"])
        #expect(try loadCSV(text, features: ["b", "a"], ignore: ["a"]).featureNames == ["b"])
    }

    @Test("missing values: an error by default, rows dropped, or filled with the training mean / most frequent category")
    func missingValues() throws {
        let text = "a,c,label\n1,x,0\nNA,y,1\n3,?,0\n5,x,1\n,x,0\n7,y,1\n9,x,0\n11,y,1\n"
        let error = errorText { _ = try loadCSV(text) }
        #expect(error?.contains("line 3, column 1 (\"a\"): missing value") == true, "got \(error ?? "no error")")

        let dropped = try loadCSV(text, missing: .drop, testFraction: 0.5)
        #expect(dropped.train.count + dropped.test.count == 5)
        #expect(Set(dropped.trainRows + dropped.testRows) == [0, 3, 5, 6, 7])

        let filled = try loadCSV(text, missing: .mean, testFraction: 0.25)
        #expect(filled.train.count + filled.test.count == 8)
        let encoding = try #require(filled.encoding)
        let trainA = filled.trainRows.compactMap { [1, nil, 3, 5, nil, 7, 9, 11][$0] }.map(Float.init)
        #expect(encoding.columns[0].fill == "\(trainA.reduce(0, +) / Float(trainA.count))")
        let trainC = filled.trainRows.compactMap { ["x", "y", nil, "x", "x", "y", "x", "y"][$0] }
        let common = ["x", "y"].max { a, b in trainC.filter { $0 == a }.count < trainC.filter { $0 == b }.count }
        #expect(encoding.columns[1].fill == common)
        // A filled number is the mean, so it standardizes to 0.
        if let j = filled.trainRows.firstIndex(of: 1) { #expect(abs(filled.train.inputs[j * 3]) < 1e-5) }
    }

    @Test("the split is stratified by class and seeded")
    func stratified() throws {
        let labels = (0..<100).map { $0 < 80 ? "common" : "rare" }
        let loaded = try loadCSV(labelled(labels), testFraction: 0.2, seed: 4)
        #expect(loaded.testRows.filter { $0 >= 80 }.count == 4, "20 % of the 20 rare rows")
        #expect(loaded.testRows.count == 20)
        #expect(Set(loaded.trainRows).isDisjoint(with: loaded.testRows))
        #expect(try loadCSV(labelled(labels), testFraction: 0.2, seed: 4).testRows == loaded.testRows)
        #expect(try loadCSV(labelled(labels), testFraction: 0.2, seed: 5).testRows != loaded.testRows)
        #expect(loaded.split == SplitRecord(fileHash: loaded.split!.fileHash, rows: 100, seed: 4, testFraction: 0.2, stratified: true))
    }
}
