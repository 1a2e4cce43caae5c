import ArgumentParser
import Backprop

/// `backprop explain paths`: a first-layer weight's gradient as a sum over the paths to the outputs.
struct ExplainPaths: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paths",
        abstract: "A linear network, E = ½Σ(t − y)²: ∂E/∂w¹ⱼᵢ = xᵢ·Σₖ δₖ·Σ_paths Π(weights), equal to backprop's gradient."
    )

    @OptionGroup var example: ExampleNetworkOptions<Defaults>
    @Option(help: ArgumentHelp("The first-layer weight w¹ⱼᵢ to show path by path (1-based).", valueName: "j,i"))
    var weight = "1,1"
    @Option(parsing: .unconditional, help: "Seed for the example weights.") var seed: UInt64 = 3
    @OptionGroup var output: ExplainOutput

    enum Defaults: ExampleNetworkDefaults {
        static let sizes = "2,2,2,2", inputDefault = "1,0.5,…", targetSymbol = "t"
    }

    func run() throws {
        let ji = try parseNumbers(weight, option: "--weight", count: 2)
        guard ji.allSatisfy({ $0.rounded() == $0 && abs($0) < 1_000 }) else {
            throw ExplainError("--weight takes two whole numbers j,i, got '\(weight)'")
        }
        let explanation = try PathsExplanation(
            sizes: try example.layerSizes(),
            input: try example.inputValues(),
            target: try example.targetValues(),
            weight: (Int(ji[0]), Int(ji[1])), seed: seed)
        try output.emit(explanation)
    }
}
