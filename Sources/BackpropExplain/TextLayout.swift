import BackpropCore
import BackpropCPU
// Small layout helpers for the explanations: numbers, aligned tables, and blocks of lines
// set side by side so that vectors and matrices print as columns and grids.

/// A number for the explanations: 6 significant digits, Unicode minus.
func num(_ x: Double) -> String { formatNumber(x) }

/// A number as a factor in a product: negative numbers in parentheses, `(−4)·3`.
func factor(_ x: Double) -> String { x < 0 ? "(\(num(x)))" : num(x) }

enum Alignment { case left, right }

/// Pads `s` to `width` characters (grapheme clusters, which is what a terminal shows for the
/// symbols used here: no wide or combining characters).
func pad(_ s: String, _ width: Int, _ alignment: Alignment = .left) -> String {
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return alignment == .left ? s + fill : fill + s
}

/// Rows of cells as aligned lines, columns two spaces apart; trailing spaces trimmed.
func table(_ rows: [[String]], alignments: [Alignment] = []) -> [String] {
    let columns = rows.map(\.count).max() ?? 0
    let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
    return rows.map { row in
        let cells = row.enumerated().map { c, cell in
            pad(cell, widths[c], c < alignments.count ? alignments[c] : .left)
        }
        return trimmedRight(cells.joined(separator: "  "))
    }
}

func trimmedRight(_ s: String) -> String {
    var s = s
    while s.last == " " { s.removeLast() }
    return s
}

/// A rectangle of text: lines of equal width once padded.
typealias Block = [String]

/// A one-line block.
func text(_ s: String) -> Block { [s] }

/// A column vector: `⎡ 1 ⎤ ⎢ 2 ⎥ ⎣ 3 ⎦`, numbers right-aligned.
func columnVector(_ v: [Double]) -> Block {
    matrix(v, rows: v.count, cols: 1)
}

/// A `rows × cols` column-major matrix with brackets, each column right-aligned.
func matrix(_ values: [Double], rows: Int, cols: Int) -> Block {
    let cells = (0..<rows).map { i in (0..<cols).map { j in num(values[i + j * rows]) } }
    let widths = (0..<cols).map { j in cells.map { $0[j].count }.max() ?? 0 }
    return (0..<rows).map { i in
        let body = (0..<cols).map { j in pad(cells[i][j], widths[j], .right) }.joined(separator: "  ")
        let (l, r): (String, String) = rows == 1 ? ("[", "]")
            : i == 0 ? ("⎡", "⎤") : i == rows - 1 ? ("⎣", "⎦") : ("⎢", "⎥")
        return "\(l) \(body) \(r)"
    }
}

/// Blocks side by side, each centred vertically on the tallest, `gap` between them.
func hstack(_ blocks: [Block], gap: String = " ") -> Block {
    let height = blocks.map(\.count).max() ?? 0
    let widths = blocks.map { $0.map(\.count).max() ?? 0 }
    return (0..<height).map { row in
        let line = blocks.enumerated().map { b, block in
            let top = (height - block.count) / 2
            let i = row - top
            return pad(i >= 0 && i < block.count ? block[i] : "", widths[b])
        }.joined(separator: gap)
        return trimmedRight(line)
    }
}

/// A section title with a rule under it.
func heading(_ title: String) -> [String] {
    [title, String(repeating: "─", count: title.count)]
}
