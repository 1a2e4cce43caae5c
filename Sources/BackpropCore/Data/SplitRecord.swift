/// How a CSV file was split into training and test rows, recorded in the model so that
/// `evaluate` and `train --resume` on the same file hold out the same rows. The rows follow
/// from the record and the file alone, so the record stays small however large the file.
public struct SplitRecord: Sendable, Equatable, Codable {
    /// ``RawTable/contentHash`` of the file that was split.
    public var fileHash: String
    /// Data rows in that file.
    public var rows: Int
    public var seed: UInt64
    public var testFraction: Double
    /// True when each class was split on its own, so the test rows keep the class proportions.
    public var stratified: Bool

    enum CodingKeys: String, CodingKey {
        case fileHash = "file_hash", rows, seed, testFraction = "test_fraction", stratified
    }

    public init(fileHash: String, rows: Int, seed: UInt64, testFraction: Double, stratified: Bool) {
        self.fileHash = fileHash; self.rows = rows; self.seed = seed
        self.testFraction = testFraction; self.stratified = stratified
    }

    /// Whether `table` is the file this split was made of.
    public func matches(_ table: RawTable) -> Bool {
        table.contentHash == fileHash && table.rowCount == rows
    }

    /// Training and test rows, each ascending. Rows with equal `strata` values (one per row;
    /// nil when not stratified) are split together: `round(testFraction · n)` of each group's
    /// `n` rows go to the test part, but never a group's last row. Classes of a single row
    /// are split as one group.
    public func split(strata: [Int32]?) throws -> (train: [Int], test: [Int]) {
        guard testFraction > 0, testFraction < 1 else {
            throw DataError.invalidOption("--test-split must be between 0 and 1 (exclusive), got \(testFraction)")
        }
        var groups = [Int32: [Int]]()
        for row in 0..<rows { groups[stratified ? strata?[row] ?? 0 : 0, default: []].append(row) }
        for (key, members) in groups where members.count == 1 && key != .min {
            groups[key] = nil
            groups[.min, default: []].append(members[0])
        }
        var rng = SeededGenerator(seed: seed ^ 0x5EED_5EED)
        var isTest = [Bool](repeating: false, count: rows)
        for (_, members) in groups.sorted(by: { $0.key < $1.key }) {
            let order = rng.permutation(members.count)
            let k = min(Int((testFraction * Double(members.count)).rounded()), members.count - 1)
            for i in order.prefix(k) { isTest[members[Int(i)]] = true }
        }
        let test = (0..<rows).filter { isTest[$0] }
        guard !test.isEmpty, test.count < rows else {
            let why = groups.count > 1 ? " (each class gives round(\(testFraction) × its rows) and keeps one; the largest has \(groups.values.map(\.count).max() ?? 0))" : ""
            throw DataError.invalidOption("--test-split \(testFraction) of \(rows) rows leaves an empty split\(why)")
        }
        return ((0..<rows).filter { !isTest[$0] }, test)
    }
}
