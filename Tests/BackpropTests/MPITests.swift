#if MPI
import Foundation
import Testing
@testable import BackpropCore

/// `mpirun -np N backprop train` against one process; built and run only with the trait
/// (`swift test --traits MPI`), which CI does after installing Open MPI.
/// In CI (`CI=true`) a missing mpirun fails the suite; elsewhere it is skipped.
/// Serialized: two mpirun launches that start together race to create Open MPI's session
/// directory (`/tmp/ompi.<host>.<uid>`) and one fails with "File exists".
@Suite("Training under mpirun", .serialized,
       .enabled(if: MPIRun.path != nil || ProcessInfo.processInfo.environment["CI"] == "true", "mpirun is not installed"))
struct MPITests {
    /// 52 seeded steps (2 epochs of 26 batches, the last one partial) of global batch 128.
    /// Tolerance as in DataParallelTests: |Δθ| ≤ 1e-5 · max|θ| of each tensor (float sums reorder).
    @Test("N ranks train like one process with the same global batch; every rank ends with the same parameters",
          arguments: [2, 3])
    func matchesOneProcess(ranks: Int) throws {
        let dir = try temporaryDirectory()
        let data = try MPIRun.csv(in: dir)
        let options = ["train", "--data", data, "--hidden", "32,16", "--epochs", "2", "--batch-size", "128", "--json"]
        let one = try backprop(options + ["--save", "one.safetensors"], in: dir)
        try #require(one.status == 0, "\(one.stderr)")
        let many = try MPIRun.run(["-np", "\(ranks)", try backpropExecutable().path] + options + ["--save", "many.safetensors"], in: dir)
        try #require(many.status == 0, "\(many.stderr)")
        // Only rank 0 prints: one line per epoch and the summary, with the checksum every rank agreed on.
        let lines = many.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(lines.count == 3, "\(many.stdout)")
        #expect(lines.last?.contains("\"parameter_checksum\"") == true, "\(many.stdout)")
        try MPIRun.expectSameModel(dir.appendingPathComponent("many.safetensors"), as: dir.appendingPathComponent("one.safetensors"))
    }

    /// Each rank updates and keeps the optimizer state of its shard of the parameters only; the
    /// state is gathered after each epoch, so rank 0's checkpoint holds all of it.
    @Test("the checkpoint of sharded ranks holds one process's optimizer state, and resumes on another number of ranks")
    func shardedCheckpoint() throws {
        let dir = try temporaryDirectory()
        let data = try MPIRun.csv(in: dir), exe = try backpropExecutable().path
        let options = ["train", "--data", data, "--hidden", "32,16", "--epochs", "1", "--batch-size", "128"]
        let one = try backprop(options + ["--checkpoint", "one.safetensors"], in: dir)
        try #require(one.status == 0, "\(one.stderr)")
        let two = try MPIRun.run(["-np", "2", exe] + options + ["--checkpoint", "two.safetensors"], in: dir)
        try #require(two.status == 0, "\(two.stderr)")
        #expect(two.stdout.contains("each updating 1/2 of the parameters"), "not sharded: \(two.stdout)")
        let a = try #require(try ModelFile.load(dir.appendingPathComponent("two.safetensors").path).checkpoint)
        let b = try #require(try ModelFile.load(dir.appendingPathComponent("one.safetensors").path).checkpoint)
        #expect(a.state.step == b.state.step)
        for (name, mine, theirs) in [("m", a.first, b.first), ("v", a.second, b.second)] {
            try #require(mine.count == theirs.count && !mine.isEmpty)
            for (k, (x, y)) in zip(mine, theirs).enumerated() { MPIRun.expectClose(x, y, "\(name) of tensor \(k)") }
        }
        let resumed = try MPIRun.run(["-np", "3", exe, "train", "--data", data, "--resume", "two.safetensors", "--epochs", "1",
                                      "--json"], in: dir)
        try #require(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.split(separator: "\n").last?.contains("\"parameter_checksum\"") == true, "\(resumed.stdout)")
    }

    /// MPI counts are Int32: buffers over 2³⁰ elements go in pieces. BACKPROP_MPI_PIECE=7 cuts
    /// every collective of a small run into 7-element pieces (uneven shards, empty last calls,
    /// the allgather's broadcast fallback), as a 4 GB model would be cut.
    @Test("collectives cut into pieces train like one process")
    func pieces() throws {
        let dir = try temporaryDirectory()
        let data = try MPIRun.csv(in: dir)
        let options = ["train", "--data", data, "--hidden", "32,16", "--epochs", "1", "--batch-size", "128"]
        let one = try backprop(options + ["--save", "one.safetensors"], in: dir)
        try #require(one.status == 0, "\(one.stderr)")
        let many = try MPIRun.run(["-np", "3", "-x", "BACKPROP_MPI_PIECE=7", try backpropExecutable().path] + options
                                  + ["--save", "many.safetensors"], in: dir)
        try #require(many.status == 0, "\(many.stderr)")
        #expect(many.stdout.contains("each updating 1/3 of the parameters") && many.stdout.contains("identical on every process"),
                "\(many.stdout)")
        try MPIRun.expectSameModel(dir.appendingPathComponent("many.safetensors"), as: dir.appendingPathComponent("one.safetensors"))
    }

    @Test("--backend auto: rank 0 calibrates once for the job, and every rank trains on what it chose")
    func automaticBackend() throws {
        let dir = try temporaryDirectory()
        let data = try MPIRun.csv(in: dir)
        let result = try MPIRun.run(["-np", "2", "-x", "BACKPROP_CACHE_DIR=\(dir.path)", try backpropExecutable().path,
                                     "train", "--data", data, "--hidden", "16", "--epochs", "1", "--backend", "auto", "--json"],
                                    in: dir)
        try #require(result.status == 0, "\(result.stderr)")
        // One decision in the job's output: rank 0's (calibrated, or the only device); rank 1 made it without a word.
        let decisions = result.stderr.split(separator: "\n").filter {
            $0.hasPrefix("backend auto: chose") || $0.hasSuffix("the only device") || $0.contains(", cached (")
        }
        #expect(decisions.count == 1, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").last?.contains("\"parameter_checksum\"") == true, "\(result.stdout)")
    }

    @Test("a rank that fails ends the job with its rank and message")
    func failingRank() throws {
        let dir = try temporaryDirectory()
        let data = try MPIRun.csv(in: dir), exe = try backpropExecutable().path
        let train = ["train", "--hidden", "8", "--epochs", "1"]
        // Two programs in one job (MPMD): rank 1 is given a file that does not exist.
        let result = try MPIRun.run(["-np", "1", exe] + train + ["--data", data, ":", "-np", "1", exe] + train + ["--data", "missing.csv"], in: dir)
        #expect(result.status != 0)
        #expect(result.stderr.contains("rank 1 of 2") && result.stderr.contains("missing.csv"), "\(result.stderr)")
    }

    @Test("ranks given different seeds are stopped before training, naming the seed")
    func mismatch() throws {
        let dir = try temporaryDirectory()
        let data = try MPIRun.csv(in: dir), exe = try backpropExecutable().path
        let train = ["train", "--data", data, "--hidden", "8", "--epochs", "1"]
        let result = try MPIRun.run(["-np", "1", exe] + train + ["--seed", "1", ":", "-np", "1", exe] + train + ["--seed", "2"], in: dir)
        #expect(result.status != 0)
        #expect(result.stderr.contains("rank 1 of 2") && result.stderr.contains("seed (fingerprint"), "\(result.stderr)")
        #expect(!result.stdout.contains("epoch 1/1"), "training started: \(result.stdout)")
    }
}

enum MPIRun {
    /// Float sums reorder across ranks: |Δ| ≤ 1e-5 · max|y| of the tensor, element by element.
    static func expectClose(_ x: [Float], _ y: [Float], _ what: String) {
        let scale = y.map(abs).max() ?? 0
        let worst = zip(x, y).map { abs($0 - $1) }.max() ?? 0
        #expect(x.count == y.count && worst <= 1e-5 * scale, "\(what): |Δ| \(worst) vs max|θ| \(scale)")
    }

    /// Every tensor of the model file `many` within rounding of `one`'s.
    static func expectSameModel(_ many: URL, as one: URL) throws {
        let a = try ModelFile.load(many.path).parameters, b = try ModelFile.load(one.path).parameters
        #expect(a.count == b.count)
        for (l, (p, q)) in zip(a, b).enumerated() {
            expectClose(p.weight, q.weight, "layer \(l) weight")
            expectClose(p.bias, q.bias, "layer \(l) bias")
        }
    }

    static let path = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// 4004 rows of 4 Gaussian blobs in 10-D (about 3200 training rows at the default test split).
    static func csv(in dir: URL) throws -> String {
        let data = Synthetic.blobs(classes: 4, features: 10, perClass: 1001, seed: 9)
        var lines = [((0..<10).map { "x\($0)" } + ["label"]).joined(separator: ",")]
        for j in 0..<data.count {
            lines.append((data.inputs[(j * 10)..<(j * 10 + 10)].map { "\($0)" } + ["\(data.labels[j])"]).joined(separator: ","))
        }
        let path = dir.appendingPathComponent("blobs.csv").path
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs mpirun (allowed as root, more ranks than cores allowed). A job still running after
    /// two minutes is a hang: it is killed and reported as such. Each job gets its own short
    /// TMPDIR, so its session directory is never shared with another job on the machine (short:
    /// Open MPI puts Unix sockets under it, and their paths are limited to 108 bytes).
    static func run(_ arguments: [String], in dir: URL) throws -> ProcessResult {
        let sessions = URL(fileURLWithPath: "/tmp/bp-mpi-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: sessions, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: sessions) }
        let out = dir.appendingPathComponent("mpirun.out"), err = dir.appendingPathComponent("mpirun.err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(path))
        process.arguments = ["--oversubscribe"] + arguments
        process.currentDirectoryURL = dir
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["TMPDIR"] = sessions.path
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        let hung = process.isRunning
        if hung { process.terminate(); process.waitUntilExit() }
        let text = { (url: URL) in String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self) }
        return ProcessResult(status: hung ? -1 : process.terminationStatus, stdout: text(out),
                             stderr: (hung ? "mpirun did not finish within 120 s\n" : "") + text(err))
    }
}
#endif
