import ArgumentParser
import Backprop

/// `backprop explain chain`: one neuron per layer, every gradient by the chain rule.
struct ExplainChain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chain",
        abstract: "The one-neuron-per-layer chain: ∂C/∂θ₂ = 2(ŷ − y)·σ(z³)(1 − σ(z³))·θ₃·g'(z²)·a¹, term by term."
    )

    @Option(parsing: .unconditional, help: "The input x.") var x: Double = 0.5
    @Option(parsing: .unconditional, help: "The target y.") var y: Double = 1
    @Option(parsing: .unconditional, help: ArgumentHelp("The weights θ₁,θ₂,θ₃.", valueName: "θ1,θ2,θ3")) var theta = "0.9,1.3,-0.7"
    @Option(parsing: .unconditional, help: ArgumentHelp("The biases b₁,b₂,b₃.", valueName: "b1,b2,b3")) var bias = "0.1,-0.4,0.5"
    @Option(help: "The hidden activation g: relu, sigmoid, tanh or identity.") var activation = "relu"
    @OptionGroup var output: ExplainOutput

    func run() throws {
        let explanation = try ChainExplanation(
            x: x, y: y,
            theta: try parseNumbers(theta, option: "--theta", count: 3),
            bias: try parseNumbers(bias, option: "--bias", count: 3),
            hidden: try parseActivation(activation))
        try output.emit(explanation)
    }
}
