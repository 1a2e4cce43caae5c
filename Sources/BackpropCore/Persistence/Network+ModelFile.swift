extension Network {
    /// A network with the architecture and parameters of a saved model.
    public convenience init(backend: any Backend, model: ModelFile) throws {
        try self.init(backend: backend, architecture: model.architecture)
        try setParameters(model.parameters)
    }
}

extension ModelFile {
    /// The network's current parameters with the given metadata; the parameters are checked
    /// to be finite when the model is saved.
    public init(network: Network, standardization: Standardization? = nil, classNames: [String]? = nil,
                featureNames: [String]? = nil, training: TrainingInfo? = nil) throws {
        self.init(architecture: network.architecture, parameters: try network.parameters(),
                  standardization: standardization, classNames: classNames,
                  featureNames: featureNames, training: training)
    }
}
