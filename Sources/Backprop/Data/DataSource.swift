import Foundation

/// Resolves the `--data` argument: `mnist` (the bundled set), a folder of IDX files, or a CSV file.
public enum DataSource {
    /// Where the bundled MNIST lives: `$BACKPROP_DATA_DIR/mnist`, `./Data/mnist`, next to the
    /// executable's package checkout, or the source checkout this binary was built from.
    public static func bundledMNIST(executablePath: String = CommandLine.arguments.first ?? "",
                                    sourceFile: String = #filePath) -> String? {
        var candidates = [String]()
        if let dir = ProcessInfo.processInfo.environment["BACKPROP_DATA_DIR"] {
            candidates.append((dir as NSString).appendingPathComponent("mnist"))
        }
        candidates.append("Data/mnist")
        // .build/<config>/backprop → package root is three levels up.
        let exe = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath()
        candidates.append(exe.deletingLastPathComponent().appendingPathComponent("../../../Data/mnist").path)
        // Sources/Backprop/Data/DataSource.swift → package root is four levels up.
        candidates.append(URL(fileURLWithPath: sourceFile).deletingLastPathComponent()
            .appendingPathComponent("../../../Data/mnist").standardized.path)
        return candidates.first { path in
            FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("train-images-idx3-ubyte.gz"))
                || FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("train-images-idx3-ubyte"))
        }
    }

    /// Loads `spec` and returns standardized (for CSV) train and test splits.
    /// MNIST brings its own test split; a CSV is split with `testFraction` and `seed`.
    public static func load(_ spec: String, labelColumn: String = "label", testFraction: Double = 0.2,
                            seed: UInt64 = 1) throws -> LoadedData {
        if spec == "mnist" {
            guard let dir = bundledMNIST() else {
                throw DataError.unreadable(file: "Data/mnist", reason: "the bundled MNIST was not found; run from the package folder or set BACKPROP_DATA_DIR")
            }
            let (train, test) = try MNIST.load(directory: dir)
            return LoadedData(name: "MNIST", train: train, test: test, standardization: nil)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: spec, isDirectory: &isDirectory) else {
            throw DataError.unreadable(file: spec, reason: "no such file or folder (--data takes mnist, an IDX folder or a CSV file)")
        }
        if isDirectory.boolValue {
            let (train, test) = try MNIST.load(directory: spec)
            return LoadedData(name: spec, train: train, test: test, standardization: nil)
        }
        let table = try CSVTable.read(spec, labelColumn: labelColumn)
        let all = try table.dataset(file: spec)
        var (train, test) = try all.split(testFraction: testFraction, seed: seed)
        let standardization = Standardization(fitting: train)
        standardization.apply(to: &train)
        standardization.apply(to: &test)
        return LoadedData(name: spec, train: train, test: test, standardization: standardization,
                          featureNames: table.featureNames)
    }
}

public struct LoadedData: Sendable {
    public var name: String
    public var train: Dataset
    public var test: Dataset
    /// Set for CSV data: the transform the model must apply to new inputs.
    public var standardization: Standardization?
    public var featureNames: [String]? = nil
}
