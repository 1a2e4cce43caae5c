import ArgumentParser
import Backprop
import Foundation

/// `backprop explain graph`: f = (x + y)·z and g = (x·y + eᶻ + x)², differentiated on their graphs.
struct ExplainGraph: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Backpropagation on a scalar expression graph: q = x + y, f = q·z, and a richer g with eᶻ and a square."
    )

    @Option(parsing: .unconditional, help: "Value of x.") var x: Double = -2
    @Option(parsing: .unconditional, help: "Value of y.") var y: Double = 5
    @Option(parsing: .unconditional, help: "Value of z.") var z: Double = -4
    @Option(name: .customLong("dot"), help: ArgumentHelp(
        "Write the graph of g (or of f, with --expression f) with each node's operation, value and gradient "
            + "to this DOT file; also FILE.svg if Graphviz `dot` is installed.", valueName: "FILE"))
    var dotPath: String?
    @Option(help: "The expression --dot exports: f or g.") var expression = "g"
    @OptionGroup var output: ExplainOutput

    func run() throws {
        let explanation = try GraphExplanation(x: x, y: y, z: z)
        if let dotPath {
            let graph = try explanation.graph(expression)
            try graph.writeDOT(to: dotPath, title: expression)
            let svgPath = (dotPath.hasSuffix(".dot") ? String(dotPath.dropLast(4)) : dotPath) + ".svg"
            var note = "wrote \(dotPath)"
            do {
                try renderSVG(dotFile: dotPath, to: svgPath)
                note += " and \(svgPath)"
            } catch let error as GraphExportError where error == .graphvizMissing {
                note += "; \(error)"
            }
            FileHandle.standardError.write(Data((note + "\n").utf8))
        }
        try output.emit(explanation)
    }
}
