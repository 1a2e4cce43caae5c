import Foundation
import Testing
@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// True when `python3` can import NumPy and safetensors.
let pythonReady: Bool = {
    guard let dir = try? temporaryDirectory(),
          let result = try? runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                                       ["python3", "-c", "import numpy, safetensors.numpy"], in: dir) else { return false }
    return result.status == 0
}()

/// In CI a missing Python is a failure, not a reason to skip.
let runningInCI = ProcessInfo.processInfo.environment["CI"] == "true"

@Suite("Python reads our model files")
struct PythonRoundTripTests {
    /// `safetensors.numpy.load_file` loads a model we wrote, and `Tests/Python/forward.py`, a
    /// NumPy forward pass in float64 that reads only the file (tensors and metadata, including the
    /// standardization), reproduces our float32 outputs. Tolerance 1e-5 absolute on outputs in
    /// [0, 1] or of order 1: float32 rounding through a few layers of width ≤ 9 stays near 1e-6.
    @Test("a NumPy forward pass over the file reproduces our predictions",
          .enabled(if: pythonReady || runningInCI,
                   "python3 with numpy and safetensors is not installed (pip install safetensors numpy)"),
          arguments: [
            ([6, 9, 4, 3], [Activation.relu, .tanh, .softmax], Loss.softmaxCrossEntropy),
            ([5, 7, 2], [.sigmoid, .sigmoid], .binaryCrossEntropy),
            ([3, 8, 2], [.identity, .identity], .squaredError),
          ])
    func forward(sizes: [Int], activations: [Activation], loss: Loss) throws {
        #expect(pythonReady, "python3 cannot import numpy and safetensors: pip install safetensors numpy")
        let architecture = try Architecture(sizes: sizes, activations: activations, loss: loss)
        let model = try sampleModel(architecture, seed: 7)
        let dir = try temporaryDirectory()
        let modelPath = dir.appendingPathComponent("model.safetensors").path
        try model.save(to: modelPath)

        let n = 11, f = sizes[0], outputs = sizes[sizes.count - 1]
        let raw = TestData(seed: 8).floatsValue(f * n).map { $0 * 3 + 1 }       // samples × features
        let csv = (0..<n).map { j in (0..<f).map { "\(Double(raw[j * f + $0]))" }.joined(separator: ",") }
        try csv.joined(separator: "\n").write(to: dir.appendingPathComponent("inputs.csv"), atomically: true, encoding: .utf8)

        var standardized = raw
        try #require(model.standardization).apply(toColumns: &standardized)
        let ours = try Network(backend: CPUBackend(), model: try ModelFile.load(modelPath))
            .predict(inputs: standardized, count: n)

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Python/forward.py").path
        let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script, modelPath, "inputs.csv"], in: dir)
        try #require(result.status == 0, "forward.py failed: \(result.stderr)")
        let theirs = result.stdout.split(separator: "\n").map { $0.split(separator: ",").compactMap { Double($0) } }
        try #require(theirs.count == n && theirs.allSatisfy { $0.count == outputs }, "unexpected output: \(result.stdout)")
        var worst = 0.0
        for j in 0..<n { for k in 0..<outputs { worst = max(worst, abs(theirs[j][k] - Double(ours[j * outputs + k]))) } }
        #expect(worst <= 1e-5, "largest difference \(worst)")
    }
}
