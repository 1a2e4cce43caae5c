/// `--hidden` as `train` and `tune` read it: positive layer sizes separated by commas, `none`
/// (or empty) for no hidden layer, nil when the option was not given.
func parseHiddenSizes(_ hidden: String?) throws -> [Int]? {
    guard let hidden else { return nil }
    if hidden.lowercased() == "none" || hidden.isEmpty { return [] }
    return try hidden.split(separator: ",", omittingEmptySubsequences: false).map {
        guard let n = Int($0.trimmingCharacters(in: .whitespaces)), n > 0 else {
            throw CommandError("--hidden takes positive layer sizes separated by commas (e.g. 128,64), got \"\(hidden)\"")
        }
        return n
    }
}
