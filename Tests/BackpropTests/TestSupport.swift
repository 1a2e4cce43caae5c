@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL

/// Random test data from a seeded generator.
struct TestData {
    var rng: SeededGenerator
    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    mutating func floats(_ n: Int, scale: Double = 1) -> [Float] {
        (0..<n).map { _ in Float(rng.nextNormal() * scale) }
    }

    /// Targets that suit `loss`: one-hot for cross-entropy, values in (0, 1) otherwise.
    mutating func targets(_ loss: Loss, outputs: Int, count n: Int) -> [Float] {
        switch loss {
        case .softmaxCrossEntropy:
            var t = [Float](repeating: 0, count: outputs * n)
            for j in 0..<n { t[j * outputs + Int(rng.next() % UInt64(outputs))] = 1 }
            return t
        case .binaryCrossEntropy, .squaredError:
            return (0..<(outputs * n)).map { _ in Float(rng.nextUniform()) }
        }
    }
}

/// Every pairing of hidden activation and loss a network can have, with its output activation.
let activationLossCases: [(hidden: Activation, loss: Loss, output: Activation)] =
    Activation.hidden.flatMap { h in
        [(h, Loss.softmaxCrossEntropy, Activation.softmax), (h, .binaryCrossEntropy, .sigmoid),
         (h, .squaredError, .sigmoid), (h, .squaredError, .identity), (h, .squaredError, .tanh)]
    }
