import Foundation

/// This process's control groups: what a container (`docker --cpuset-cpus`, `--memory`) or a
/// batch system (a Slurm job's cgroup) gives it, as the kernel enforces it.
public enum Cgroup {
    /// The contents of a cgroup file, from this process's own cgroup up to the root (those that
    /// exist): `v1` in the `controller` hierarchy of cgroup v1 (`/sys/fs/cgroup/<controller>/…`),
    /// or `v2` in the unified hierarchy (`/sys/fs/cgroup/…`), as `/proc/self/cgroup` places it.
    public static func values(controller: String, v1: String, v2: String) -> [String] {
        guard let lines = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return [] }
        for line in lines.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let (root, file): (String, String)
            if parts[1].split(separator: ",").contains(Substring(controller)) { (root, file) = ("/sys/fs/cgroup/" + controller, v1) }
            else if parts[0] == "0", parts[1].isEmpty { (root, file) = ("/sys/fs/cgroup", v2) }
            else { continue }
            var found = [String](), path = String(parts[2])
            while true {
                let folder = root + (path.hasPrefix("/") ? "" : "/") + path
                if let text = try? String(contentsOfFile: folder + (folder.hasSuffix("/") ? "" : "/") + file, encoding: .utf8) {
                    found.append(text.trimmingCharacters(in: .whitespacesAndNewlines))
                }
                guard path != "/", !path.isEmpty, let slash = path.lastIndex(of: "/") else { break }
                path = slash == path.startIndex ? "/" : String(path[..<slash])
            }
            if !found.isEmpty { return found }
        }
        return []
    }

    /// The memory this process may use: the machine's RAM within the tightest memory limit of its
    /// cgroups (v2 `memory.max`, v1 `memory.limit_in_bytes`; "max" and v1's huge "unlimited" are
    /// none) and its address-space limit (`ulimit -v`).
    public static var memoryBytes: UInt64 {
        var limits = values(controller: "memory", v1: "memory.limit_in_bytes", v2: "memory.max").compactMap(UInt64.init)
        var space = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &space) == 0, space.rlim_cur != rlim_t.max {
            limits.append(UInt64(space.rlim_cur))
        }
        return min(ProcessInfo.processInfo.physicalMemory, limits.min() ?? .max)
    }
}
