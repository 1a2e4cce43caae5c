import BackpropCore
import BackpropCPU
// The small networks of the worked examples: readable weights and checked shapes.

/// Parameters for the worked examples: Xavier-scaled normal weights (`N(0, 2/(in + out))`)
/// and, if asked, small normal biases, all rounded to two decimals so a reader can follow
/// the arithmetic; reproducible from `seed`.
func exampleParameters(sizes: [Int], seed: UInt64, biases: Bool) -> [DoubleLayerParameters] {
    var rng = SeededGenerator(seed: seed)
    func rounded(_ x: Double) -> Double { (x * 100).rounded() / 100 }
    return zip(sizes, sizes.dropFirst()).map { inputs, outputs in
        let std = (2.0 / Double(inputs + outputs)).squareRoot()
        let w = (0..<(inputs * outputs)).map { _ in rounded(rng.nextNormal() * std) }
        let b = (0..<outputs).map { _ in biases ? rounded(rng.nextNormal() * 0.3) : 0 }
        return DoubleLayerParameters(weight: w, bias: b)
    }
}

/// The most layer sizes (input included) a worked example takes: its derivation is meant to be read.
let maximumExampleLayers = 10

/// Checks shared by the network explanations: sizes, and an input and target of the right length.
func validateExample(sizes: [Int], input: [Double], target: [Double]) throws {
    guard sizes.count >= 2, sizes.allSatisfy({ $0 > 0 }) else {
        throw ExplainError("--sizes needs at least two positive layer sizes, got \(sizes)")
    }
    guard sizes.count <= maximumExampleLayers else {
        throw ExplainError("the derivation is meant to be read: give --sizes at most \(maximumExampleLayers) layer sizes "
                           + "(input included), got \(sizes.count)")
    }
    guard sizes.allSatisfy({ $0 <= 8 }) else {
        throw ExplainError("the derivation is meant to be read: keep every layer at 8 units or fewer, got \(sizes)")
    }
    guard input.count == sizes[0] else {
        throw ExplainError("the input needs \(sizes[0]) numbers for \(sizes[0]) input units, got \(input.count)")
    }
    guard target.count == sizes[sizes.count - 1] else {
        throw ExplainError("the target needs \(sizes[sizes.count - 1]) numbers for the outputs, got \(target.count)")
    }
    try requireFloatRange(input, option: "--input")
    try requireFloatRange(target, option: "--target")
}

/// The CPU backend computes in Float: an input beyond Float's range becomes ±∞ there and its
/// check fails for a reason that is not the library's. Such a number is an error naming its option.
func requireFloatRange(_ values: [Double], option: String) throws {
    if let v = values.first(where: { !($0.magnitude <= Double(Float.greatestFiniteMagnitude)) }) {
        throw ExplainError("\(option) \(v) is out of range: the CPU backend computes in Float, so every number "
                           + "must be finite and at most \(Float.greatestFiniteMagnitude) in magnitude")
    }
}

/// Values computed from the inputs (forward values, gradients) that the Float backend could not
/// hold either: an error that asks for smaller inputs.
func requireFloatRange(computed values: [Double]) throws {
    if let v = values.first(where: { !($0.magnitude <= Double(Float.greatestFiniteMagnitude)) }) {
        throw ExplainError("these inputs give \(v) on the way, beyond Float's range (the CPU backend computes in Float); "
                           + "use smaller numbers")
    }
}
