import Backprop
import Foundation
#if MPI
import BackpropMPI
#endif

/// The processes a command runs in: under `mpirun` or `srun`, with a binary built
/// `--traits MPI`, every process of the job; otherwise just this one.
enum ProcessGroup {
    /// Runs `body` in the group. In a job of several processes a failure anywhere ends the
    /// whole job with the failing rank and its message (never a rank left waiting).
    static func run(_ options: BackendOptions,
                    _ body: (any DataParallelGroup, GroupBackends) throws -> Void) throws {
        #if MPI
        if MPIWorld.isLaunched {
            let world = try MPIWorld()
            do {
                try body(world, GroupBackends(options: options, localRank: world.localRank, localSize: world.localSize))
            } catch {
                world.abort("Error: rank \(world.rank) of \(world.size): \(error)")
            }
            world.finalize()
            return
        }
        #else
        // Without MPI every process of a job would train alone and write the same files. Slurm's
        // count also covers `srun --mpi=pmix`, whose PMIx sets no size of its own.
        let environment = ProcessInfo.processInfo.environment
        if let size = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"].lazy.compactMap({ environment[$0].flatMap(Int.init) }).first,
           size > 1 {
            throw CommandError("this backprop was built without MPI but started as one of \(size) processes; build it with swift build --traits MPI")
        }
        #endif
        try body(SingleProcess(), GroupBackends(options: options))
    }

    /// Shares one machine among its `localSize` processes: GEMM threads = the cores each may use
    /// ÷ the processes bound to the same ones (``CPUThreads/perProcess(localSize:)``;
    /// unless `OPENBLAS_NUM_THREADS` says otherwise), and with several OpenCL devices one each
    /// by local rank (unless `--device` or `BACKPROP_OPENCL_DEVICE` chooses).
    static func spread(_ options: BackendOptions, localRank: Int, localSize: Int) -> BackendOptions {
        guard localSize > 1 else { return options }
        let environment = ProcessInfo.processInfo.environment
        if environment["OPENBLAS_NUM_THREADS"] == nil {
            setenv("OPENBLAS_NUM_THREADS", String(CPUThreads.perProcess(localSize: localSize)), 1)
        }
        var options = options
        let backend = options.backend ?? environment["BACKPROP_BACKEND"] ?? ""
        if backend.lowercased() == "opencl", options.device == nil, environment["BACKPROP_OPENCL_DEVICE"] == nil,
           let devices = try? BackendRegistry.standard.registration(named: "opencl").devices(), devices.count > 1 {
            options.device = String(devices[localRank % devices.count].index)
        }
        return options
    }
}

/// The backend of each process of a group. `auto` is resolved once, on rank 0, and every other
/// rank makes the backend rank 0 chose (its own OpenCL device by local rank when the node has
/// several): ranks that each calibrated would time one another's load, could choose different
/// backends (whose roundings would then drift the parameters apart), and would all take the
/// same fastest GPU.
struct GroupBackends {
    var options: BackendOptions
    var localRank = 0, localSize = 1

    /// Whether the backend waits for the run's network and batch (`auto` calibrates on them).
    var isAutomatic: Bool { options.isAutomatic }

    func make(in group: any DataParallelGroup, workload: CalibrationWorkload? = nil) throws -> any Backend {
        let spread = ProcessGroup.spread(options, localRank: localRank, localSize: localSize)
        guard isAutomatic, group.size > 1 else { return try spread.makeBackend(workload: workload) }
        var name = [UInt8](repeating: 0, count: 64)
        var calibrated: (any Backend)?
        if group.rank == 0 {
            let choice = try spread.makeAutomaticChoice(workload: workload)
            calibrated = choice.backend
            name.replaceSubrange(0..<min(63, choice.registration.utf8.count), with: choice.registration.utf8.prefix(63))
        }
        try name.withUnsafeMutableBytes { try group.broadcast($0) }
        var named = options
        named.backend = String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
        named = ProcessGroup.spread(named, localRank: localRank, localSize: localSize)
        // Rank 0 keeps what it calibrated unless the devices are to be spread over the node's ranks.
        if let calibrated, named.device == nil { return calibrated }
        return try named.makeBackend()
    }
}

extension Train {
    /// What every process of a job must agree on before training: the data (samples, order and
    /// labels), the seed, the network and the training options.
    func fingerprints(_ data: LoadedData, _ network: Network, _ plan: TrainingPlan) -> KeyValuePairs<String, UInt64> {
        var options = Fingerprint()
        options.combine("\(plan.optimizer) \(plan.batchSize) \(plan.plannedEpochs) \(plan.schedule) \(plan.stopping) \(plan.balanced)")
        var architecture = Fingerprint()
        architecture.combine(network.architecture.description)
        var seedPrint = Fingerprint()
        seedPrint.combine(seed)
        var dataPrint = Fingerprint()
        dataPrint.combine(data.train.fingerprint)
        dataPrint.combine(data.test.fingerprint)
        return ["data": dataPrint.finalized, "seed": seedPrint.finalized,
                "network": architecture.finalized, "options": options.finalized]
    }
}
