import BackpropCore
import BackpropCPU
/// `backprop explain paths`: a linear network (no activations, no biases) with
/// `E = ½Σₖ(tₖ − yₖ)²`, where the gradient of a first-layer weight is a sum over paths:
///
///     ∂E/∂w¹ⱼᵢ = xᵢ · Σₖ δₖ · Σ_{paths h¹ⱼ → yₖ} Π(weights on the path),   δₖ = yₖ − tₖ
///
/// `wˡⱼᵢ` is the weight from unit `i` of layer `l − 1` to unit `j` of layer `l` (element
/// `(j, i)` of `Wˡ`). Every path is listed for one weight; every first-layer weight is then
/// checked against the graph, the CPU backend (identity activations, squared error, which is
/// exactly this E for one sample) and finite differences.
public struct PathsExplanation: Explanation {
    /// One path from `h¹ⱼ` to the output `yₖ`: the units it passes, its weights and their product.
    public struct Path: Codable, Sendable {
        /// `k` of the output `yₖ` it ends at, from 1.
        public var output: Int
        /// The units passed, `h¹ⱼ` first and `yₖ` last.
        public var units: [String]
        /// The weights' names along the path: `w²₁₂`, ….
        public var weights: [String]
        /// Their values, in the same order.
        public var weightValues: [Double]
        /// `Π(weights on the path)`; 1 for the empty path of a network with one layer.
        public var product: Double
    }
    /// A first-layer weight `w¹ⱼᵢ` and its gradient by paths.
    public struct FirstLayerWeight: Codable, Sendable {
        /// `w¹ⱼᵢ`.
        public var name: String
        /// The unit `j` of layer 1 it feeds, from 1.
        public var j: Int
        /// The input `i` it reads, from 1.
        public var i: Int
        /// `xᵢ`.
        public var x: Double
        /// `Σ_paths Π(weights)` from `h¹ⱼ` to each output `yₖ`.
        public var pathSums: [Double]
        /// `Σₖ δₖ·pathSums[k]`.
        public var weightedSum: Double
        /// `xᵢ · weightedSum`.
        public var gradient: Double
    }

    /// The most paths from one first-layer unit that an explanation prints.
    public static let maximumPaths = 256

    /// Layer sizes, input first.
    public var sizes: [Int]
    /// The seed of the example weights.
    public var seed: UInt64
    /// The input `x`.
    public var input: [Double]
    /// The target `t`.
    public var target: [Double]
    /// `Wˡ` per layer, column-major `sizes[l] × sizes[l − 1]`.
    public var weights: [[Double]]
    /// The units of each layer after the input: `h¹, h², …, y`.
    public var layerValues: [[Double]]
    /// `E = ½Σₖ(tₖ − yₖ)²`.
    public var error: Double
    /// `δₖ = yₖ − tₖ`.
    public var delta: [Double]
    /// The weight explained path by path (1-based `j`, `i`).
    public var chosen: FirstLayerWeight
    /// Every path from `h¹ⱼ` of the chosen weight, by output then units.
    public var paths: [Path]
    /// Every first-layer weight, `i` outer and `j` inner, with its gradient by paths.
    public var firstLayer: [FirstLayerWeight]
    /// Every first-layer gradient against the graph, the CPU backend and finite differences.
    public var verification: Verification

    /// Explains the network of `sizes` with seeded, rounded example weights; `input` defaults
    /// to `1, 0.5, −0.5, 2, …`, `target` to the first class, and `weight` names `w¹ⱼᵢ` (1-based).
    /// Throws ``ExplainError`` when the sizes make an unreadable example, a `weight` outside
    /// layer 1, or more than ``maximumPaths`` paths.
    public init(sizes: [Int] = [2, 2, 2, 2], input: [Double]? = nil, target: [Double]? = nil,
                weight: (j: Int, i: Int) = (1, 1), seed: UInt64 = 3) throws {
        let defaultInput: [Double] = [1, 0.5, -0.5, 2]
        let x: [Double] = input ?? (0..<(sizes.first ?? 0)).map { defaultInput[$0 % 4] }
        let t: [Double] = target ?? (0..<(sizes.last ?? 0)).map { $0 == 0 ? 1.0 : 0.0 }
        try validateExample(sizes: sizes, input: x, target: t)
        guard (1...sizes[1]).contains(weight.j), (1...sizes[0]).contains(weight.i) else {
            throw ExplainError("--weight j,i names w¹ⱼᵢ: j in 1…\(sizes[1]) (layer 1), i in 1…\(sizes[0]) (inputs), "
                               + "got \(weight.j),\(weight.i)")
        }
        guard let count = Self.pathCount(sizes: sizes) else {
            throw ExplainError("more than \(Self.maximumPaths) paths from each first-layer unit is too many to print; "
                               + "use fewer or narrower layers")
        }
        guard count <= Self.maximumPaths else {
            throw ExplainError("\(count) paths from each first-layer unit is too many to print (at most \(Self.maximumPaths)); "
                               + "use fewer or narrower layers")
        }
        self.sizes = sizes
        self.seed = seed
        self.input = x
        self.target = t
        weights = exampleParameters(sizes: sizes, seed: seed, biases: false).map(\.weight)

        // Forward, linear: each layer is Wˡ times the one before.
        var values: [[Double]] = []
        var a = x
        for (l, w) in weights.enumerated() {
            let rows = sizes[l + 1]
            a = (0..<rows).map { j in a.indices.reduce(0) { $0 + w[j + $1 * rows] * a[$1] } }
            values.append(a)
        }
        layerValues = values
        error = zip(t, a).reduce(0) { $0 + 0.5 * ($1.0 - $1.1) * ($1.0 - $1.1) }
        delta = zip(a, t).map { $0 - $1 }

        var all: [FirstLayerWeight] = []
        var chosenPaths: [Path] = []
        for i in 1...sizes[0] {
            for j in 1...sizes[1] {
                let paths = Self.paths(from: j, sizes: sizes, weights: weights)
                if (j, i) == weight { chosenPaths = paths }
                let sums = (1...sizes[sizes.count - 1]).map { k in
                    paths.filter { $0.output == k }.reduce(0) { $0 + $1.product }
                }
                let weighted = zip(delta, sums).reduce(0) { $0 + $1.0 * $1.1 }
                all.append(FirstLayerWeight(name: "w¹\(subscriptIndex(j))\(subscriptIndex(i))", j: j, i: i, x: x[i - 1],
                                            pathSums: sums, weightedSum: weighted, gradient: x[i - 1] * weighted))
            }
        }
        firstLayer = all
        try requireFloatRange(computed: [error] + values.flatMap { $0 } + all.map(\.gradient))
        paths = chosenPaths
        chosen = all[(weight.i - 1) * sizes[1] + (weight.j - 1)]
        verification = try Self.verify(sizes: sizes, weights: weights, input: x, target: t, firstLayer: all)
    }

    /// The number of paths from a first-layer unit to the outputs, the product of the sizes after
    /// layer 1; nil once it passes ``maximumPaths``, so that no size list can overflow it.
    static func pathCount(sizes: [Int]) -> Int? {
        var count = 1
        for n in sizes.dropFirst(2) {
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow, product <= maximumPaths else { return nil }
            count = product
        }
        return count
    }

    /// Every path from unit `j` of layer 1 to each output, in order of output then units.
    static func paths(from j: Int, sizes: [Int], weights: [[Double]]) -> [Path] {
        let L = sizes.count - 1                 // layers of weights; layer L is the output
        func unit(_ l: Int, _ u: Int) -> String { l == L ? "y\(subscriptIndex(u))" : "h\(superscript(l))\(subscriptIndex(u))" }
        // Unit sequences through layers 2…L, enumerated like an odometer: no recursion.
        var result: [Path] = []
        let ranges = sizes[2...].map { $0 }
        var choice = [Int](repeating: 1, count: ranges.count)
        repeat {
            var units = [unit(1, j)], names: [String] = [], values: [Double] = []
            var from = j
            for (step, to) in choice.enumerated() {
                let l = step + 2
                units.append(unit(l, to))
                names.append("w\(superscript(l))\(subscriptIndex(to))\(subscriptIndex(from))")
                values.append(weights[l - 1][(to - 1) + (from - 1) * sizes[l]])
                from = to
            }
            // With no layer after the first, h¹ⱼ is the output yⱼ: one empty path, to itself.
            result.append(Path(output: choice.last ?? j, units: units, weights: names, weightValues: values,
                               product: values.reduce(1, *)))
            // Advance the odometer, last layer fastest.
            var d = choice.count - 1
            while d >= 0 {
                choice[d] += 1
                if choice[d] <= ranges[d] { break }
                choice[d] = 1
                d -= 1
            }
            if d < 0 { break }
        } while !choice.isEmpty
        return result.sorted { ($0.output, $0.units.joined()) < ($1.output, $1.units.joined()) }
    }

    static func verify(sizes: [Int], weights: [[Double]], input: [Double], target: [Double],
                       firstLayer: [FirstLayerWeight]) throws -> Verification {
        let architecture = try Architecture(sizes: sizes, activations: Array(repeating: .identity, count: sizes.count - 1),
                                            loss: .squaredError)
        let parameters = zip(weights, sizes.dropFirst()).map {
            DoubleLayerParameters(weight: $0, bias: [Double](repeating: 0, count: $1))
        }
        let oracles = try oracleGradients(architecture: architecture, parameters: parameters,
                                          input: input, target: target, backend: CPUBackend())
        // The first layer's weights lead the flattened order; w¹ⱼᵢ is element (j, i), column-major.
        let checks = firstLayer.map { w in
            let k = (w.j - 1) + (w.i - 1) * sizes[1]
            return GradientCheck(name: "∂E/∂\(w.name)", explained: w.gradient, graph: oracles.graph[k],
                                 backend: oracles.backend[k], finiteDifference: oracles.finiteDifference[k])
        }
        return Verification(checks: checks, backendNote:
            "CPU backend (Float), identity activations, zero biases; its squared error ½‖y − t‖² is this E, no scaling",
            finiteDifferenceNote: finiteDifferenceNote(oracles.reluKink, sizes: sizes))
    }

    public func render() -> String {
        let L = sizes.count - 1
        func layerName(_ l: Int) -> String { l == L ? "y" : "h\(superscript(l))" }
        var lines = heading("Paths through a linear network: " + sizes.map(String.init).joined(separator: " → ")
                            + ", no activations, no biases")
        lines.append("  " + (1...L).map { l in "\(layerName(l)) = W\(superscript(l))\(l == 1 ? "x" : layerName(l - 1))" }
                        .joined(separator: ",  ") + ",  E = ½Σₖ(tₖ − yₖ)²")
        lines.append("  wˡⱼᵢ is the weight from unit i of layer l − 1 to unit j of layer l")
        lines.append("")
        lines.append("weights (seed \(seed), rounded to two decimals) and the sample")
        lines += hstack(weights.enumerated().flatMap { l, w -> [Block] in
            [text("  W\(superscript(l + 1)) ="), matrix(w, rows: sizes[l + 1], cols: sizes[l])]
        })
        lines += hstack([text("  x ="), columnVector(input), text("  t ="), columnVector(target)])
        lines.append("")
        lines.append("forward")
        lines += hstack((1...L).flatMap { l -> [Block] in
            [text("  \(layerName(l)) ="), columnVector(layerValues[l - 1])]
        })
        lines.append("  E = ½Σₖ(tₖ − yₖ)² = \(num(error))")
        lines.append("")
        lines.append("output errors δₖ = yₖ − tₖ = ∂E/∂yₖ (= ∂E/∂zₖ: the output is linear)")
        lines += table(delta.indices.map { k in
            let s = subscriptIndex(k + 1)
            return ["  δ\(s) = y\(s) − t\(s)", "= \(num(layerValues[L - 1][k])) − \(factor(target[k]))", "= \(num(delta[k]))"]
        })
        lines.append("")
        let w = chosen, i = subscriptIndex(w.i), j = subscriptIndex(w.j)
        lines.append("∂E/∂\(w.name) = x\(i) · Σₖ δₖ · Σ_paths Π(weights on the path): every path from \(layerName(1))\(j) to the outputs")
        var rows: [[String]] = []
        for k in 1...sizes[L] {
            for p in paths where p.output == k {
                let names = p.weights.isEmpty ? "(no weights after layer 1: an empty product)"
                    : p.weights.joined(separator: "·")
                let values = p.weights.isEmpty ? "" : "= " + p.weightValues.map(factor).joined(separator: "·")
                rows.append(["  " + p.units.joined(separator: " → "), names, values, "= \(num(p.product))"])
            }
            rows.append(["", "Σ to y\(subscriptIndex(k))", "", "= \(num(w.pathSums[k - 1]))"])
        }
        lines += table(rows)
        let symbolic = (1...sizes[L]).map { "δ\(subscriptIndex($0))·Σ(\(layerName(1))\(j) → y\(subscriptIndex($0)))" }.joined(separator: " + ")
        let numeric = (0..<sizes[L]).map { "\(factor(delta[$0]))·\(factor(w.pathSums[$0]))" }.joined(separator: " + ")
        lines.append("  ∂E/∂\(w.name) = x\(i)·[\(symbolic)]")
        lines.append("  \(pad("", w.name.count + 4)) = \(factor(w.x))·[\(numeric)]")
        lines.append("  \(pad("", w.name.count + 4)) = \(factor(w.x))·\(factor(w.weightedSum)) = \(num(w.gradient))")
        lines.append("")
        lines.append("every first-layer weight by its paths")
        lines += table([["  w¹ⱼᵢ", "xᵢ", "Σₖ δₖ·Σ_paths Π", "xᵢ·Σₖ δₖ·Σ_paths Π"]] + firstLayer.map {
            ["  " + $0.name, num($0.x), num($0.weightedSum), num($0.gradient)]
        }, alignments: [.left, .right, .right, .right])
        lines.append("")
        lines.append("check: the path sums against backpropagation")
        lines += verification.render()
        return lines.joined(separator: "\n")
    }
}
