import ArgumentParser
import Backprop

@main
struct BackpropCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Train neural networks by backpropagation on the CPU or any OpenCL device.",
        version: "backprop \(backpropVersion) (model format \(ModelFile.formatVersion))",
        subcommands: [Train.self, Evaluate.self, Predict.self, DevicesCommand.self, GradcheckCommand.self,
                      Explain.self, Bench.self, Tune.self, Export.self]
    )
}

/// The release of this tool, printed by `backprop --version`.
let backpropVersion = "0.12.0"
