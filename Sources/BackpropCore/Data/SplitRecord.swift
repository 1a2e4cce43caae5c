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
    /// How many rows of each class are held out; nil in files written before the field existed,
    /// which were split ``SplitAllocation/perClass`` (and are split so again, to the same rows).
    public var allocation: SplitAllocation?

    enum CodingKeys: String, CodingKey {
        case fileHash = "file_hash", rows, seed, testFraction = "test_fraction", stratified, allocation
    }

    public init(fileHash: String, rows: Int, seed: UInt64, testFraction: Double, stratified: Bool,
                allocation: SplitAllocation? = .largestRemainder) {
        self.fileHash = fileHash; self.rows = rows; self.seed = seed
        self.testFraction = testFraction; self.stratified = stratified; self.allocation = allocation
    }

    /// Whether `table` is the file this split was made of.
    public func matches(_ table: RawTable) -> Bool {
        table.contentHash == fileHash && table.rowCount == rows
    }

    /// Training and test rows, each ascending. Rows with equal `strata` values (one per row;
    /// nil when not stratified) are split together, each group giving its share of the test rows
    /// by ``allocation``, but never its last row. Classes of a single row are split as one group.
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
        let sorted = groups.sorted { $0.key < $1.key }
        let counts = (allocation ?? .perClass).testRows(of: sorted.map(\.value.count), fraction: testFraction)
        for ((_, members), k) in zip(sorted, counts) {
            let order = rng.permutation(members.count)
            for i in order.prefix(k) { isTest[members[Int(i)]] = true }
        }
        let test = (0..<rows).filter { isTest[$0] }
        guard !test.isEmpty, test.count < rows else {
            let why = groups.count > 1 ? " (\(Self.classByClass); the largest class has \(groups.values.map(\.count).max() ?? 0) rows)" : ""
            throw DataError.invalidOption("--test-split \(testFraction) of \(rows) rows leaves an empty split\(why)")
        }
        return ((0..<rows).filter { !isTest[$0] }, test)
    }

    /// Why a stratified split's test share can differ from the fraction asked, whatever the rule.
    static let classByClass = "rows are held out class by class, and every class keeps one for training"
}

/// How a stratified split shares its test rows among the classes. Each class keeps at least
/// one row for training.
public enum SplitAllocation: String, Sendable, Codable {
    /// `round(fraction · n)` of each class's `n` rows: with many small classes the total strays
    /// far from the fraction (30 classes of 2 rows at 0.3 gave half the rows, at 0.2 none).
    case perClass = "per-class"
    /// `⌊fraction · n⌋` of each class, then one more to the classes with the largest remainders
    /// (ties to the first class), until `round(fraction · total)` rows are held out.
    case largestRemainder = "largest-remainder"

    /// Test rows of each group of `sizes` rows.
    func testRows(of sizes: [Int], fraction: Double) -> [Int] {
        switch self {
        case .perClass:
            return sizes.map { min(Int((fraction * Double($0)).rounded()), $0 - 1) }
        case .largestRemainder:
            var counts = sizes.map { min(Int((fraction * Double($0)).rounded(.down)), $0 - 1) }
            var left = Int((fraction * Double(sizes.reduce(0, +))).rounded()) - counts.reduce(0, +)
            let byRemainder = sizes.indices.sorted {
                let a = fraction * Double(sizes[$0]), b = fraction * Double(sizes[$1])
                return a - a.rounded(.down) > b - b.rounded(.down) || (a - a.rounded(.down) == b - b.rounded(.down) && $0 < $1)
            }
            for g in byRemainder where left > 0 && counts[g] < sizes[g] - 1 {
                counts[g] += 1
                left -= 1
            }
            return counts
        }
    }
}
