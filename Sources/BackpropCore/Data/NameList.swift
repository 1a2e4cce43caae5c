/// Names (classes, columns) joined by ", " for a message, each one that the list would make
/// ambiguous quoted: one holding a comma or a quote, empty, or with blanks at an end
/// (`3 classes ("a, b", c, d)`, not `3 classes (a, b, c, d)`), each as ``shortened(_:limit:)``
/// shows it. More than `limit` end in ", …".
public func listed(_ names: [String], limit: Int = .max) -> String {
    let shown = names.prefix(limit).map { name -> String in
        let plain = !name.isEmpty && !name.contains(",") && !name.contains("\"")
            && name.first?.isWhitespace == false && name.last?.isWhitespace == false
        let text = shortened(name)
        return plain ? text : "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
    return shown.joined(separator: ", ") + (names.count > limit ? ", …" : "")
}

/// A cell or a name as a message shows it: control characters written as escapes (`\n`, `\t`,
/// `\u{1B}`: a quoted cell's line break or a terminal escape would break the message or the
/// terminal), whole up to `limit` characters, else its first `limit` and an ellipsis (a stray
/// 2 MB field would drown the message).
public func shortened(_ text: String, limit: Int = 40) -> String {
    var out = "", count = 0
    for character in text {
        if count == limit { return out + "…" }
        count += 1
        guard character.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            out.append(character)
            continue
        }
        for scalar in character.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                out += scalar.properties.generalCategory == .control
                    ? "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}" : String(scalar)
            }
        }
    }
    return out
}
