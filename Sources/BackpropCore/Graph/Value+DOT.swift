import Foundation

// Export of an expression graph to Graphviz DOT, and to SVG when Graphviz is installed.
// Each value is a record box `label | op | data | grad`; each edge runs from an operand to
// the result and carries the local derivative ∂result/∂operand.

extension Value {
    /// The graph below this value in DOT, inputs on the left and this value on the right.
    /// Nodes are numbered in topological order, so the text is the same on every run.
    public func dot(title: String = "expression") -> String {
        let order = topologicalOrder()
        var index: [ObjectIdentifier: Int] = [:]
        for (i, v) in order.enumerated() { index[ObjectIdentifier(v)] = i }
        var lines = [
            "digraph \(dotQuoted(title)) {",
            "  rankdir=LR;",
            "  node [shape=record, fontname=\"Helvetica\", fontsize=11];",
            "  edge [fontname=\"Helvetica\", fontsize=9];",
        ]
        for (i, v) in order.enumerated() {
            let name = v.label.isEmpty ? (v.isLeaf ? formatNumber(v.data) : "n\(i)") : v.label
            let op = v.isLeaf ? "leaf" : v.op.symbol
            let fields = [name, op, "data \(formatNumber(v.data))", "grad \(formatNumber(v.grad))"]
            let record = fields.map(dotRecordEscaped).joined(separator: " | ")
            lines.append("  n\(i) [label=\"{ \(record) }\"];")
        }
        for (i, v) in order.enumerated() where !v.isLeaf {
            for (p, d) in zip(v.parents, v.localDerivatives) {
                guard let j = index[ObjectIdentifier(p)] else { continue }
                lines.append("  n\(j) -> n\(i) [label=\(dotQuoted("∂ = " + formatNumber(d)))];")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `dot()` to `path`.
    public func writeDOT(to path: String, title: String = "expression") throws {
        do {
            try dot(title: title).write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw GraphExportError.cannotWrite(path: path, reason: error.localizedDescription)
        }
    }
}

/// Why a graph could not be exported.
public enum GraphExportError: Error, CustomStringConvertible, Equatable {
    /// The `.dot` or `.svg` file at `path` could not be written.
    case cannotWrite(path: String, reason: String)
    /// Graphviz's `dot` is not on `PATH`, so no SVG was made (the `.dot` file was).
    case graphvizMissing
    /// `dot -Tsvg` exited with `status`; `message` is its standard error.
    case graphvizFailed(status: Int32, message: String)

    /// The message, with what to do about it.
    public var description: String {
        switch self {
        case let .cannotWrite(path, reason): "cannot write \(path): \(reason)"
        case .graphvizMissing:
            "Graphviz `dot` is not on PATH, so no SVG was made; install Graphviz "
                + "(e.g. `apt-get install graphviz`) or open the .dot file in any DOT viewer"
        case let .graphvizFailed(status, message): "`dot -Tsvg` failed with status \(status): \(message)"
        }
    }
}

/// Graphviz's `dot`, if it is on the PATH.
public func graphvizExecutable() -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for dir in path.split(separator: ":") {
        let candidate = "\(dir)/dot"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Renders the DOT file at `dotPath` to SVG at `svgPath` with Graphviz.
/// Throws ``GraphExportError/graphvizMissing`` when `dot` is not installed.
public func renderSVG(dotFile dotPath: String, to svgPath: String) throws {
    guard let dot = graphvizExecutable() else { throw GraphExportError.graphvizMissing }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: dot)
    process.arguments = ["-Tsvg", dotPath, "-o", svgPath]
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    // Read to the end before waiting: a child that fills the pipe's buffer (64 KB) blocks
    // until it is read, and would never exit.
    let stderr = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus != 0 {
        let message = String(decoding: stderr, as: UTF8.self)
        throw GraphExportError.graphvizFailed(status: process.terminationStatus,
                                              message: message.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// A DOT string literal.
func dotQuoted(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

/// A field of a record label: the characters that delimit record fields are escaped.
func dotRecordEscaped(_ s: String) -> String {
    var out = ""
    for c in s {
        if "{}|<>\"\\".contains(c) { out.append("\\") }
        out.append(c)
    }
    return out
}
