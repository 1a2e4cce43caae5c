import ArgumentParser
import Backprop

/// `backprop explain equations`: δᴸ, δˡ, ∂C/∂b and ∂C/∂W with numbers on a small network.
struct ExplainEquations: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "equations",
        abstract: "The four fundamental equations (δᴸ, δˡ = ((Wˡ⁺¹)ᵀδˡ⁺¹) ⊙ σ'(zˡ), ∂C/∂b = δ, ∂C/∂W = δ·aᵀ) on a small network."
    )

    @OptionGroup var example: ExampleNetworkOptions<Defaults>
    @Option(help: "The activation of every layer: sigmoid, tanh, relu or identity.") var activation = "sigmoid"
    @Option(parsing: .unconditional, help: "Seed for the example weights and biases (default: the first from 1 at which every unit passes error back, searched up to 1000: 1 but for relu).")
    var seed: UInt64?
    @OptionGroup var output: ExplainOutput

    enum Defaults: ExampleNetworkDefaults {
        static let sizes = "2,3,2", inputDefault = "0.8,-0.4,…", targetSymbol = "y"
    }

    func run() throws {
        let explanation = try EquationsExplanation(
            sizes: try example.layerSizes(),
            activation: try parseActivation(activation),
            input: try example.inputValues(),
            target: try example.targetValues(),
            seed: seed)
        try output.emit(explanation)
    }
}
