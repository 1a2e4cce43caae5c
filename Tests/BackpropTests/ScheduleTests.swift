import Foundation
import Testing
@testable import BackpropCore
@testable import BackpropCPU

@Suite("Learning-rate schedules and automatic settings")
struct ScheduleTests {
    @Test("each schedule has its shape over the run's steps")
    func shapes() {
        let constant = LearningRateSchedule(kind: .constant, peak: 0.1, totalSteps: 100)
        #expect((1...100).allSatisfy { constant.rate(atStep: $0) == 0.1 })
        let cosine = LearningRateSchedule(kind: .cosine, peak: 0.1, totalSteps: 100)
        #expect(cosine.rate(atStep: 1) == 0.1)
        // Update t of T at (t − 1)/T of the way: the last one still moves the weights.
        #expect(cosine.rate(atStep: 100) > 0 && cosine.rate(atStep: 100) < 1e-4, "cosine nearly 0, not 0, at the last step")
        #expect(cosine.rate(atStep: 101) == 0, "0 past the end")
        #expect(abs(cosine.rate(atStep: 51) - 0.05) < 1e-6, "half way: half the peak")
        #expect((2...100).allSatisfy { cosine.rate(atStep: $0) <= cosine.rate(atStep: $0 - 1) })
        let step = LearningRateSchedule(kind: .step, peak: 1, totalSteps: 101)
        #expect(step.rate(atStep: 50) == 1 && step.rate(atStep: 52) == 0.1 && step.rate(atStep: 77) == 0.01)
        let warm = LearningRateSchedule(kind: .constant, peak: 1, totalSteps: 100, warmupSteps: 4)
        #expect((1...5).map { warm.rate(atStep: $0) } == [0.25, 0.5, 0.75, 1, 1])
        let cycle = LearningRateSchedule(kind: .onecycle, peak: 1, totalSteps: 1000)
        let rates = (1...1000).map { cycle.rate(atStep: $0) }
        let top = rates.indices.max { rates[$0] < rates[$1] }!
        #expect(abs(rates[0] - 0.04) < 1e-6 && rates[top] == 1 && abs(top - 300) <= 1 && rates[999] < 1e-3)
        let legacy = LearningRateSchedule(kind: .constant, peak: 1, totalSteps: 30, epochDecay: 0.5, stepsPerEpoch: 10)
        #expect(legacy.rate(atStep: 10) == 1 && legacy.rate(atStep: 11) == 0.5 && legacy.rate(atStep: 21) == 0.25)
    }

    @Test("a schedule depends on the fraction of the run, not on the batches per epoch")
    func scaleFree() {
        for kind in ScheduleKind.allCases {
            let short = LearningRateSchedule(kind: kind, peak: 0.01, totalSteps: 10)
            let long = LearningRateSchedule(kind: kind, peak: 0.01, totalSteps: 1000)
            for k in 0...10 {
                #expect(abs(short.rate(atStep: 1 + k) - long.rate(atStep: 1 + 100 * k)) < 1e-9, "\(kind) at \(k)/10")
            }
        }
    }

    @Test("the optimizer takes each update's rate from its schedule")
    func optimizerFollowsSchedule() throws {
        let backend = CPUBackend()
        let network = try Network(backend: backend, architecture: try Architecture(inputs: 2, hidden: [3], outputs: 2, activation: .tanh), seed: 1)
        let optimizer = try Optimizer(OptimizerConfiguration(kind: .sgd, learningRate: 0.5), for: network)
        let schedule = LearningRateSchedule(kind: .cosine, peak: 0.5, totalSteps: 5)
        optimizer.schedule = schedule
        for t in 1...5 {
            try optimizer.update()
            #expect(optimizer.learningRate == schedule.rate(atStep: t))
        }
    }

    @Test("automatic settings follow the documented rule")
    func automatic() {
        let iris = AutomaticSettings(samples: 108)
        #expect(iris.hidden == [64] && iris.batchSize == 32 && iris.epochs == 500 && iris.weightDecay == 0.01)
        let mnist = AutomaticSettings(samples: 54_000)
        #expect(mnist.hidden == [512, 256] && mnist.batchSize == 128 && mnist.epochs == 5 && mnist.weightDecay == 0)
        #expect(AutomaticSettings(samples: 5_000).hidden == [128] && AutomaticSettings(samples: 20_000).hidden == [256, 128])
        #expect(AutomaticSettings(samples: 10_000_000).epochs == 5, "at least 5 epochs")
    }

    @Test("early stopping keeps the best epoch and stops after patience epochs without one")
    func earlyStopping() {
        var watch = EarlyStopping(patience: 2)
        let losses = [1.0, 0.5, 0.6, 0.4, 0.45, 0.41, 0.9]
        var improved = [Bool](), stopAt: Int?
        for (k, loss) in losses.enumerated() {
            improved.append(watch.observe(epoch: k + 1, loss: loss))
            if watch.shouldStop { stopAt = k + 1; break }
        }
        #expect(improved == [true, true, false, true, false, false])
        #expect(stopAt == 6 && watch.bestEpoch == 4 && watch.bestLoss == 0.4)
        var never = EarlyStopping(patience: nil)
        for k in 1...50 { _ = never.observe(epoch: k, loss: Double(k)) }
        #expect(!never.shouldStop && never.bestEpoch == 1)
    }
}
