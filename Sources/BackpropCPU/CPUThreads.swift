import BackpropCore
import CPUKernels
import Foundation

/// Threads for GEMM: `BACKPROP_THREADS`, else `OMP_NUM_THREADS`, else `OPENBLAS_NUM_THREADS`
/// (what a user who pins a BLAS or OpenMP program sets), else every core this process may use.
/// Never more than that: the providers' own threads and our panels are not stacked on each other.
public enum CPUThreads {
    public static let variables = ["BACKPROP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"]

    /// At most ``limit`` (a value beyond it is taken as the limit).
    public static func count(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        for name in variables {
            // OMP_NUM_THREADS may be a list ("4,2" for nested levels): the first is ours.
            if let text = environment[name]?.split(separator: ",").first,
               let n = Int(text.trimmingCharacters(in: .whitespaces)), n > 0 { return min(n, limit) }
        }
        return available
    }

    /// The most threads a request gets: 4 per core this process may use. More only wait for
    /// one another (1,000 on 2 cores made an epoch 43× slower) and 100,000 crashed libgomp.
    public static var limit: Int { 4 * available }

    /// Throws unless `BACKPROP_THREADS`, when set, is a whole number ≥ 1 (`OMP_NUM_THREADS` and
    /// `OPENBLAS_NUM_THREADS` belong to other programs too: a value they would refuse is skipped).
    public static func validate(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let text = environment[variables[0]]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return }
        guard let n = Int(text), n > 0 else {
            throw BackendError.invalidChoice(variable: variables[0], value: text, valid: "a whole number of threads, 1 or more")
        }
    }

    /// The cores this process may use: those of its CPU affinity mask (`taskset`, Slurm's and
    /// mpirun's binding, `docker --cpuset-cpus`) within its cgroup's CPU quota (Foundation's
    /// `activeProcessorCount`, which reads the quota but not the mask: under `taskset -c 0` on
    /// 2 cores it says 2, and two threads then took turns on one core).
    public static var available: Int { min(ProcessInfo.processInfo.activeProcessorCount, affinity ?? .max, cpuset ?? .max) }

    /// The number of CPUs in this process's affinity mask, nil if it cannot be read.
    public static var affinity: Int? {
        let count = Int(bp_affinity_cpu_count())
        return count > 0 ? count : nil
    }

    /// The CPUs of this process's cgroup cpuset (`docker --cpuset-cpus`, a Slurm job's cgroup),
    /// which every process of the cgroup shares; nil where it cannot be read (v2's
    /// `cpuset.cpus.effective`, v1's `cpuset.effective_cpus`, of the nearest cgroup that has it).
    public static var cpuset: Int? {
        Cgroup.values(controller: "cpuset", v1: "cpuset.effective_cpus", v2: "cpuset.cpus.effective").lazy.compactMap(cpuCount).first
    }

    /// The number of CPUs in a kernel CPU list (`0-3,8,10-11` → 7); nil if it is not one.
    static func cpuCount(list: String) -> Int? {
        var count = 0
        for range in list.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let ends = range.split(separator: "-").map { Int($0) }
            guard let low = ends.first ?? nil, let high = ends.last ?? nil, ends.count <= 2, low <= high else { return nil }
            count += high - low + 1
        }
        return count > 0 ? count : nil
    }

    /// Threads for each of `localSize` processes of a job on this machine, as
    /// ``perProcess(localSize:online:affinity:quota:)`` divides what this process sees: the
    /// cgroup's cpuset (else every online core), its affinity mask, its quota.
    public static func perProcess(localSize: Int) -> Int {
        let online = cpuset ?? ProcessInfo.processInfo.processorCount
        return perProcess(localSize: localSize, online: online, affinity: affinity ?? online,
                          quota: ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Threads for each of `localSize` processes on one machine of `online` cores (those of their
    /// cgroup's cpuset), when this one may run on `affinity` of them and its cgroup's quota allows
    /// `quota` for all of them. The processes bound to the same cores share them: all when none is bound (mpirun
    /// `--bind-to none`), none when each has its own (`--bind-to core`, Slurm's
    /// `--cpus-per-task`), a socket's when bound per socket; a quota is shared by every process.
    public static func perProcess(localSize: Int, online: Int, affinity: Int, quota: Int) -> Int {
        let sharing = max(1, Int((Double(localSize) * Double(affinity) / Double(max(online, 1))).rounded()))
        return max(1, min(affinity / sharing, quota / max(localSize, 1)))
    }
}
