/// Names (classes, columns) joined by ", " for a message, each one that the list would make
/// ambiguous quoted: one holding a comma or a quote, empty, or with blanks at an end
/// (`3 classes ("a, b", c, d)`, not `3 classes (a, b, c, d)`). More than `limit` end in ", …".
public func listed(_ names: [String], limit: Int = .max) -> String {
    let shown = names.prefix(limit).map { name -> String in
        let plain = !name.isEmpty && !name.contains(",") && !name.contains("\"")
            && name.first?.isWhitespace == false && name.last?.isWhitespace == false
        return plain ? name : "\"" + name.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
    return shown.joined(separator: ", ") + (names.count > limit ? ", …" : "")
}
