import ArgumentParser
import Backprop

/// What differs between the subcommands that share ``ExampleNetworkOptions``: the default
/// sizes and the defaults and names shown in the help.
protocol ExampleNetworkDefaults {
    /// `"2,3,2"`.
    static var sizes: String { get }
    /// `"0.8,-0.4,…"`.
    static var inputDefault: String { get }
    /// The target's symbol: `y` or `t`.
    static var targetSymbol: String { get }
}

/// The network and the sample of `explain equations` and `explain paths`: `--sizes`, `--input`, `--target`.
struct ExampleNetworkOptions<Defaults: ExampleNetworkDefaults>: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Layer sizes, input first (at most 8 units each).", valueName: "n0,n1,…"))
    var sizes = Defaults.sizes
    @Option(parsing: .unconditional, help: ArgumentHelp("The input x (default \(Defaults.inputDefault)).", valueName: "x1,x2,…"))
    var input: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("The target \(Defaults.targetSymbol) (default 1,0,…).",
                               valueName: "\(Defaults.targetSymbol)1,\(Defaults.targetSymbol)2,…"))
    var target: String?

    /// The layer sizes as whole numbers.
    func layerSizes() throws -> [Int] { try parseNumbers(sizes, option: "--sizes").map(layerSize) }
    /// The input, or nil for the explanation's default.
    func inputValues() throws -> [Double]? { try input.map { try parseNumbers($0, option: "--input") } }
    /// The target, or nil for the explanation's default.
    func targetValues() throws -> [Double]? { try target.map { try parseNumbers($0, option: "--target") } }
}

/// A layer size from a parsed number: a whole number from 1 up.
func layerSize(_ x: Double) throws -> Int {
    guard x >= 1, x <= 1_000_000, x.rounded() == x else {
        throw ExplainError("--sizes takes whole numbers of units (at least 1), got \(x)")
    }
    return Int(x)
}
