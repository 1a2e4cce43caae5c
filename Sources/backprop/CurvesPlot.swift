import Backprop
import Foundation

/// Learning curves as a self-contained SVG: the loss per epoch (train, validation) on the
/// left, accuracy (or validation R² for regression) on the right, the best epoch marked by a
/// dashed line. Plain SVG 1.1, no script or external resource, so any browser opens it.
enum CurvesPlot {
    static let panelWidth = 420.0, panelHeight = 260.0, margin = 50.0

    static func svg(_ history: [EpochPoint], bestEpoch: Int, regression: Bool) -> String {
        let width = 2 * (panelWidth + margin) + margin, height = panelHeight + 2 * margin
        var body = ""
        body += panel(x: margin, title: "loss", series: [
            ("train", "#1f77b4", history.map { ($0.epoch, $0.train.loss) }),
            ("validation", "#d62728", history.compactMap { p in p.validation.map { (p.epoch, $0.loss) } }),
        ], history: history, bestEpoch: bestEpoch)
        let right: [(String, String, [(Int, Double)])] = regression
            ? [("validation R²", "#d62728", history.compactMap { p in p.validationR2.map { (p.epoch, $0) } })]
            : [("train", "#1f77b4", history.map { ($0.epoch, $0.train.accuracy) }),
               ("validation", "#d62728", history.compactMap { p in p.validation.map { (p.epoch, $0.accuracy) } })]
        body += panel(x: 2 * margin + panelWidth, title: regression ? "R²" : "accuracy", series: right,
                      history: history, bestEpoch: bestEpoch)
        return """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <title>backprop train: learning curves</title>
        <rect width="100%" height="100%" fill="white"/>
        \(body)</svg>

        """
    }

    /// One panel: frame, axes with labels, a polyline per series, the best epoch, a legend.
    private static func panel(x: Double, title: String, series: [(String, String, [(Int, Double)])],
                              history: [EpochPoint], bestEpoch: Int) -> String {
        let y0 = margin
        let epochs = history.map(\.epoch)
        let first = Double(epochs.first ?? 1), last = Double(max(epochs.last ?? 1, (epochs.first ?? 1) + 1))
        let values = series.flatMap { $0.2.map(\.1) }.filter(\.isFinite)
        var low = values.min() ?? 0, high = values.max() ?? 1
        if high - low < 1e-12 { low -= 0.5; high += 0.5 }
        func px(_ e: Double) -> Double { x + (e - first) / (last - first) * panelWidth }
        func py(_ v: Double) -> Double { y0 + panelHeight - (v - low) / (high - low) * panelHeight }
        var out = "<g>\n<text x=\"\(f(x + panelWidth / 2))\" y=\"\(f(y0 - 14))\" text-anchor=\"middle\" font-weight=\"bold\">\(title)</text>\n"
        out += "<rect x=\"\(f(x))\" y=\"\(f(y0))\" width=\"\(f(panelWidth))\" height=\"\(f(panelHeight))\" fill=\"none\" stroke=\"#999\"/>\n"
        for k in 0...4 {
            let v = low + (high - low) * Double(k) / 4
            out += "<text x=\"\(f(x - 4))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\" font-size=\"10\">\(String(format: "%.3g", v))</text>\n"
        }
        for e in Set([Int(first), Int((first + last) / 2), Int(last)]).sorted() {
            out += "<text x=\"\(f(px(Double(e))))\" y=\"\(f(y0 + panelHeight + 14))\" text-anchor=\"middle\" font-size=\"10\">\(e)</text>\n"
        }
        out += "<text x=\"\(f(x + panelWidth / 2))\" y=\"\(f(y0 + panelHeight + 32))\" text-anchor=\"middle\">epoch</text>\n"
        out += "<text transform=\"translate(\(f(x - 38)),\(f(y0 + panelHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(title)</text>\n"
        if bestEpoch > 0 {
            let bx = px(Double(bestEpoch))
            out += "<line x1=\"\(f(bx))\" y1=\"\(f(y0))\" x2=\"\(f(bx))\" y2=\"\(f(y0 + panelHeight))\" stroke=\"#2ca02c\" stroke-dasharray=\"4 3\"/>\n"
            // Right of the line, or left of it near the panel's right edge (the label is ~70 px).
            let (lx, anchor) = bx + 80 > x + panelWidth ? (bx - 3, "end") : (bx + 3, "start")
            out += "<text x=\"\(f(lx))\" y=\"\(f(y0 + 12))\" fill=\"#2ca02c\" font-size=\"10\" text-anchor=\"\(anchor)\">best epoch \(bestEpoch)</text>\n"
        }
        // A series with no point (no validation split) has no line, so no legend entry either.
        for (k, (name, color, points)) in series.filter({ !$0.2.isEmpty }).enumerated() {
            let finite = points.filter { $0.1.isFinite }
            let coordinates = finite.map { "\(f(px(Double($0.0)))),\(f(py($0.1)))" }.joined(separator: " ")
            if finite.count > 1 {
                out += "<polyline points=\"\(coordinates)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>\n"
            } else if let p = finite.first {
                out += "<circle cx=\"\(f(px(Double(p.0))))\" cy=\"\(f(py(p.1)))\" r=\"2.5\" fill=\"\(color)\"/>\n"
            }
            let ly = y0 + 16 + 14 * Double(k) + 14
            out += "<line x1=\"\(f(x + panelWidth - 110))\" y1=\"\(f(ly - 4))\" x2=\"\(f(x + panelWidth - 92))\" y2=\"\(f(ly - 4))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            out += "<text x=\"\(f(x + panelWidth - 88))\" y=\"\(f(ly))\">\(name)</text>\n"
        }
        return out + "</g>\n"
    }

    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }
}
