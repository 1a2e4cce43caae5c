import ArgumentParser
import Backprop

/// `backprop explain paths`: a first-layer weight's gradient as a sum over the paths to the outputs.
struct ExplainPaths: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paths",
        abstract: "A linear network, E = ½Σ(t − y)²: ∂E/∂w¹ⱼᵢ = xᵢ·Σₖ δₖ·Σ_paths Π(weights), equal to backprop's gradient."
    )

    @Option(help: ArgumentHelp("Layer sizes, input first (at most 8 units each).", valueName: "n0,n1,…"))
    var sizes = "2,2,2,2"
    @Option(help: ArgumentHelp("The input x (default 1,0.5,…).", valueName: "x1,x2,…")) var input: String?
    @Option(help: ArgumentHelp("The target t (default 1,0,…).", valueName: "t1,t2,…")) var target: String?
    @Option(help: ArgumentHelp("The first-layer weight w¹ⱼᵢ to show path by path (1-based).", valueName: "j,i"))
    var weight = "1,1"
    @Option(help: "Seed for the example weights.") var seed: UInt64 = 3
    @OptionGroup var output: ExplainOutput

    func run() throws {
        let ji = try parseNumbers(weight, option: "--weight", count: 2)
        guard ji.allSatisfy({ $0.rounded() == $0 && abs($0) < 1_000 }) else {
            throw ExplainError("--weight takes two whole numbers j,i, got '\(weight)'")
        }
        let explanation = try PathsExplanation(
            sizes: try parseNumbers(sizes, option: "--sizes").map(layerSize),
            input: try input.map { try parseNumbers($0, option: "--input") },
            target: try target.map { try parseNumbers($0, option: "--target") },
            weight: (Int(ji[0]), Int(ji[1])), seed: seed)
        try output.emit(explanation)
    }
}
