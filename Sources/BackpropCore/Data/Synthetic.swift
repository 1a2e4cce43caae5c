/// Small generated datasets for tests, examples and smoke runs.
public enum Synthetic {
    /// `classes` interleaved spirals in 2-D (the classic non-linearly-separable toy problem),
    /// `perClass` points each, with Gaussian noise; reproducible from `seed`.
    public static func spirals(classes: Int = 3, perClass: Int = 100, noise: Double = 0.2,
                               seed: UInt64 = 1) -> Dataset {
        var rng = SeededGenerator(seed: seed)
        var x = [Float](), y = [Int32]()
        for c in 0..<classes {
            for i in 0..<perClass {
                let r = Double(i) / Double(perClass)
                let t = Double(c) * 4 + r * 4 + rng.nextNormal() * noise
                x += [Float(r * _sin(t)), Float(r * _cos(t))]
                y.append(Int32(c))
            }
        }
        return Dataset(featureCount: 2, classCount: classes, inputs: x, labels: y)
    }

    /// Gaussian blobs: `classes` centers in `features` dimensions, `perClass` samples each.
    public static func blobs(classes: Int = 4, features: Int = 8, perClass: Int = 64,
                             spread: Double = 1, seed: UInt64 = 1) -> Dataset {
        var rng = SeededGenerator(seed: seed)
        let centers = (0..<classes).map { _ in (0..<features).map { _ in rng.nextNormal() * 3 } }
        var x = [Float](), y = [Int32]()
        for i in 0..<(classes * perClass) {
            let c = i % classes
            x += centers[c].map { Float($0 + rng.nextNormal() * spread) }
            y.append(Int32(c))
        }
        return Dataset(featureCount: features, classCount: classes, inputs: x, labels: y)
    }
}
