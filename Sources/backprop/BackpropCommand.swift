import ArgumentParser
import Backprop

@main
struct BackpropCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Train neural networks by backpropagation on the CPU or any OpenCL device.",
        subcommands: [Train.self, Evaluate.self, Predict.self, DevicesCommand.self, GradcheckCommand.self,
                      Explain.self, Bench.self]
    )
}
