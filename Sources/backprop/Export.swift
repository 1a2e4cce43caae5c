import ArgumentParser
import Backprop
import Foundation

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a saved model as an ONNX graph (opset 13) that onnxruntime and other ONNX tools run.",
        discussion: """
            The graph's input "input" is [N, features]: the encoded, unstandardized features (a categorical \
            column as its one-hot columns, in the model's input order); the input standardization is part of \
            the graph. Its output "output" is [N, outputs]: the probabilities predict prints, or for \
            regression the values in the targets' units.
            """)

    @Option(help: "A model file written by train --save.")
    var model: String
    @Option(help: "Write the ONNX graph here (atomically).")
    var onnx: String

    func run() throws {
        try refuseOverwriting("--onnx", onnx, inputs: [("--model", model)])
        let saved = try ModelFile.load(model)
        try checkOutputPath(onnx)
        try saved.exportONNX(to: onnx, producerVersion: backpropVersion)
        let sizes = saved.architecture.sizes
        print("wrote \(onnx): \(sizes[0]) inputs → \(sizes[sizes.count - 1]) outputs, \(saved.architecture.layerCount) layers")
    }
}
