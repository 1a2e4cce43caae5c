import Foundation

/// A number the way a person writes it: at most `digits` significant digits, no trailing
/// zeros, a true minus sign (−) and no `−0`.
public func formatNumber(_ x: Double, digits: Int = 6) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "−∞" : "∞" }
    if x == 0 { return "0" }
    var s = String(format: "%.\(digits)g", x)
    if s.contains("e") {
        // 1.5e-07 → 1.5e−7
        let parts = s.split(separator: "e", maxSplits: 1)
        var mantissa = String(parts[0])
        if mantissa.contains(".") {
            while mantissa.hasSuffix("0") { mantissa.removeLast() }
            if mantissa.hasSuffix(".") { mantissa.removeLast() }
        }
        let exponent = Int(parts[1]) ?? 0
        s = "\(mantissa)e\(exponent)"
    } else if s.contains(".") {
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
    }
    return s.replacingOccurrences(of: "-", with: "−")
}

private let superscriptDigits: [Character: Character] = [
    "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹",
    "-": "⁻", "−": "⁻",
]
private let subscriptDigits: [Character: Character] = [
    "0": "₀", "1": "₁", "2": "₂", "3": "₃", "4": "₄", "5": "₅", "6": "₆", "7": "₇", "8": "₈", "9": "₉",
]

/// `"12"` → `"¹²"`; nil if some character has no superscript form.
public func superscript(_ s: String) -> String? {
    var out = ""
    for c in s {
        guard let u = superscriptDigits[c] else { return nil }
        out.append(u)
    }
    return out
}

/// `3` → `"³"`.
public func superscript(_ n: Int) -> String { superscript(String(n)) ?? "^\(n)" }

/// `12` → `"₁₂"`.
public func subscriptIndex(_ n: Int) -> String {
    String(String(n).map { subscriptDigits[$0] ?? $0 })
}
