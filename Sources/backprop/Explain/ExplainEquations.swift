import ArgumentParser
import Backprop

/// `backprop explain equations`: δᴸ, δˡ, ∂C/∂b and ∂C/∂W with numbers on a small network.
struct ExplainEquations: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "equations",
        abstract: "The four fundamental equations (δᴸ, δˡ = ((Wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ'(zˡ), ∂C/∂b = δ, ∂C/∂W = δ·aᵀ) on a small network."
    )

    @Option(help: ArgumentHelp("Layer sizes, input first (at most 8 units each).", valueName: "n0,n1,…"))
    var sizes = "2,3,2"
    @Option(help: "The activation of every layer: sigmoid, tanh, relu or identity.") var activation = "sigmoid"
    @Option(help: ArgumentHelp("The input x (default 0.8,-0.4,…).", valueName: "x1,x2,…")) var input: String?
    @Option(help: ArgumentHelp("The target y (default 1,0,…).", valueName: "y1,y2,…")) var target: String?
    @Option(help: "Seed for the example weights and biases.") var seed: UInt64 = 1
    @OptionGroup var output: ExplainOutput

    func run() throws {
        let explanation = try EquationsExplanation(
            sizes: try parseNumbers(sizes, option: "--sizes").map(layerSize),
            activation: try parseActivation(activation),
            input: try input.map { try parseNumbers($0, option: "--input") },
            target: try target.map { try parseNumbers($0, option: "--target") },
            seed: seed)
        try output.emit(explanation)
    }
}

/// A layer size from a parsed number: a whole number from 1 up.
func layerSize(_ x: Double) throws -> Int {
    guard x >= 1, x <= 1_000_000, x.rounded() == x else {
        throw ExplainError("--sizes takes whole numbers of units (at least 1), got \(x)")
    }
    return Int(x)
}
