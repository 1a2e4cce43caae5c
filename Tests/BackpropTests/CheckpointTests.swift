import Foundation
import Testing
@testable import BackpropCore
@testable import BackpropCPU

/// A run of the library's trainer that can stop after any epoch, save a checkpoint through the
/// model file's bytes, and continue in a fresh network, optimizer and trainer from those bytes.
@Suite("Exact checkpoints")
struct CheckpointTests {
    let data = Synthetic.spirals(classes: 3, perClass: 40, noise: 0.1, seed: 5)
    let architecture = try! Architecture(inputs: 2, hidden: [16, 8], outputs: 3, activation: .relu)

    func makeTrainer(_ network: Network, kind: OptimizerKind, schedule: LearningRateSchedule) throws -> Trainer {
        let optimizer = try Optimizer(OptimizerConfiguration(kind: kind, learningRate: schedule.peak), for: network)
        optimizer.schedule = schedule
        return try Trainer(network: network, optimizer: optimizer, batchSize: 16, seed: 9)
    }

    /// Trains `epochs` epochs, stopping after `stopAfter` to go through a serialized checkpoint.
    func run(kind: OptimizerKind, schedule: LearningRateSchedule, epochs: Int, stopAfter: Int?) throws -> ModelFile {
        let backend = CPUBackend()
        let train = try DeviceDataset(data, on: backend)
        var network = try Network(backend: backend, architecture: architecture, seed: 3)
        var trainer = try makeTrainer(network, kind: kind, schedule: schedule)
        for epoch in 1...epochs {
            _ = try trainer.trainEpoch(train)
            if epoch == stopAfter {
                let moments = try trainer.optimizer.moments()
                let state = TrainingState(epochs: trainer.epochsDone, plannedEpochs: epochs, batchSize: 16,
                                          optimizer: trainer.optimizer.configuration, step: trainer.optimizer.step,
                                          schedule: schedule, shuffler: trainer.shufflerState, validation: nil,
                                          earlyStopping: EarlyStopping(patience: nil), history: [])
                var saved = try ModelFile(network: network)
                saved.checkpoint = TrainingCheckpoint(state: state, first: moments.first, second: moments.second)
                let model = try ModelFile.parse(try saved.serialized(), file: "checkpoint")
                let checkpoint = try #require(model.checkpoint)
                #expect(checkpoint == saved.checkpoint, "the checkpoint survives the file format")
                network = try Network(backend: backend, model: model)
                trainer = try makeTrainer(network, kind: kind, schedule: checkpoint.state.schedule!)
                try trainer.optimizer.restore(step: checkpoint.state.step, first: checkpoint.first, second: checkpoint.second)
                try trainer.restore(epochs: checkpoint.state.epochs, shuffler: try #require(checkpoint.state.shufflerWords))
            }
        }
        #expect(trainer.epochsDone == epochs, "epoch numbering continues")
        var model = try ModelFile(network: network)
        let moments = try trainer.optimizer.moments()
        model.checkpoint = TrainingCheckpoint(state: TrainingState(
            epochs: trainer.epochsDone, plannedEpochs: epochs, batchSize: 16, optimizer: trainer.optimizer.configuration,
            step: trainer.optimizer.step, schedule: schedule, shuffler: trainer.shufflerState, validation: nil,
            earlyStopping: EarlyStopping(patience: nil), history: []), first: moments.first, second: moments.second)
        return model
    }

    @Test("5 + 5 epochs from a checkpoint equal 10 epochs bit for bit (CPU, constant schedule)", arguments: OptimizerKind.allCases)
    func fivePlusFive(kind: OptimizerKind) throws {
        let schedule = LearningRateSchedule(kind: .constant, peak: kind == .sgd ? 0.1 : 0.01, totalSteps: 80)
        let whole = try run(kind: kind, schedule: schedule, epochs: 10, stopAfter: nil)
        let resumed = try run(kind: kind, schedule: schedule, epochs: 10, stopAfter: 5)
        #expect(resumed.parameters == whole.parameters)
        #expect(resumed.checkpoint == whole.checkpoint, "moments, step and shuffler agree too")
        let fresh = try run(kind: kind, schedule: schedule, epochs: 5, stopAfter: nil)
        #expect(fresh.parameters != whole.parameters, "the comparison can fail")
    }

    @Test("an interrupted cosine or one-cycle run resumed from its checkpoint equals the uninterrupted run")
    func anySchedule() throws {
        for kind in [ScheduleKind.cosine, .onecycle, .step] {
            let schedule = LearningRateSchedule(kind: kind, peak: 0.01, totalSteps: 80, warmupSteps: 5)
            let whole = try run(kind: .adam, schedule: schedule, epochs: 10, stopAfter: nil)
            let resumed = try run(kind: .adam, schedule: schedule, epochs: 10, stopAfter: 3)
            #expect(resumed.parameters == whole.parameters, "\(kind)")
        }
    }

    @Test("a model file without a checkpoint still reads, and its extra tensors are checked")
    func formats() throws {
        let network = try Network(backend: CPUBackend(), architecture: architecture, seed: 1)
        let plain = try ModelFile(network: network)
        #expect(try ModelFile.parse(try plain.serialized(), file: "m").checkpoint == nil)
        var bad = plain
        bad.checkpoint = TrainingCheckpoint(state: TrainingState(
            epochs: 1, plannedEpochs: 2, batchSize: 4, optimizer: OptimizerConfiguration(kind: .adam), step: 3, schedule: nil,
            shuffler: [1, 2, 3, 4], validation: nil, earlyStopping: EarlyStopping(patience: 3), history: []),
            first: [[1]], second: [[2]])
        #expect(throws: ModelFileError.self) { try ModelFile.parse(try bad.serialized(), file: "m") }
    }
}
