/// Loss, accuracy and confusion matrix of a network over a labelled dataset.
public struct Evaluation: Sendable, Equatable {
    /// Mean loss and accuracy over the dataset.
    public var metrics: Metrics
    /// `confusion[true class][predicted class]` = number of samples.
    public var confusion: [[Int]]
    /// Samples in the confusion matrix: the dataset's, less those whose output held a NaN.
    public var count: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }

    /// Evaluates `network` on `data` (whose `classCount` must equal the network's outputs).
    /// The loss and accuracy come from the same device code as training reports; the
    /// confusion matrix from the host outputs, by the same ``Prediction`` rule. A sample whose
    /// output holds a NaN has no predicted class and is left out of the matrix (and counted wrong).
    public init(network: Network, data: Dataset, batchSize: Int = 1024) throws {
        var copy = data
        try self.init(network: network, taking: &copy, batchSize: batchSize)
    }

    /// As ``init(network:data:batchSize:)``, taking the samples: `data.inputs` is left empty
    /// (its labels stay) and, on the CPU, the device keeps its buffer, so they are held once.
    public init(network: Network, taking data: inout Dataset, batchSize: Int = 1024) throws {
        let inference = try Inference(network: network, batchSize: batchSize)
        let device = try DeviceDataset(taking: &data, on: network.backend)
        metrics = try inference.evaluate(device)
        let probabilities = try inference.outputs(device)
        let outputs = network.architecture.outputCount
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: data.classCount), count: data.classCount)
        for (j, label) in data.labels.enumerated() {
            if let predicted = Prediction.predictedClass(probabilities[(j * outputs)..<((j + 1) * outputs)]),
               predicted < data.classCount {
                confusion[Int(label)][predicted] += 1
            }
        }
        self.confusion = confusion
    }
}

/// One class's scores from a confusion matrix, as scikit-learn's `classification_report`.
public struct ClassScores: Sendable, Equatable {
    /// Of the samples predicted as the class, the share that are; nil when none was predicted.
    public var precision: Double?
    /// Of the samples of the class, the share predicted as it; nil when it has none.
    public var recall: Double?
    /// The harmonic mean of the two; 0 when the class has samples but none is found.
    public var f1: Double?
    /// The samples of the class.
    public var support: Int
}

extension Evaluation {
    /// Precision, recall and F1 of each class, in class order.
    public var perClass: [ClassScores] {
        confusion.indices.map { k in
            let support = confusion[k].reduce(0, +), predicted = confusion.reduce(0) { $0 + $1[k] }
            let hit = Double(confusion[k][k])
            let precision = predicted > 0 ? hit / Double(predicted) : nil
            let recall = support > 0 ? hit / Double(support) : nil
            var f1: Double?
            if let p = precision, let r = recall { f1 = p + r > 0 ? 2 * p * r / (p + r) : 0 } else if support > 0 { f1 = 0 }
            return ClassScores(precision: precision, recall: recall, f1: f1, support: support)
        }
    }

    /// The mean recall over the classes that have samples: accuracy as if every class were as
    /// common (a model that never predicts a rare class scores at most 1 − its share of classes).
    public var balancedAccuracy: Double {
        let recalls = perClass.compactMap(\.recall)
        return recalls.isEmpty ? 0 : recalls.reduce(0, +) / Double(recalls.count)
    }

    /// The accuracy of always predicting the most common class: the figure to beat.
    public var majorityAccuracy: Double {
        let supports = confusion.map { $0.reduce(0, +) }
        return count > 0 ? Double(supports.max() ?? 0) / Double(count) : 0
    }
}
