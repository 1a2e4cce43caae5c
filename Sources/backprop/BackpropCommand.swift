import ArgumentParser
import Backprop

@main
struct BackpropCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Train neural networks by backpropagation on the CPU or any OpenCL device.",
        subcommands: [DevicesCommand.self, GradcheckCommand.self, GemmBenchCommand.self]
    )
}
