import Foundation
import Synchronization

/// The signal that asked the run to stop (SIGINT or SIGTERM), or 0. Set by the handler, read
/// between optimizer steps: a step is never cut in half.
private let requested = Atomic<Int32>(0)

/// SIGINT/SIGTERM handling for a training run: the first signal asks the loop to stop after
/// its current step (the loop saves, reports and exits 128 + signal); a second one exits at
/// once, as a user pressing Ctrl-C twice expects.
enum Interrupt {
    /// Installs the handlers (the loop polls ``signal``).
    static func install() {
        // A parent may have blocked these signals (a spawned process inherits the mask), which
        // would leave them pending for ever: unblock them for this thread and those it starts.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for sig in [SIGINT, SIGTERM] {
            Foundation.signal(sig) { sig in
                // Only async-signal-safe work here: an atomic store, or _exit.
                if requested.exchange(sig, ordering: .relaxed) != 0 { _exit(128 + sig) }
            }
        }
    }

    /// Restores the default handlers (after the loop, so that a signal during the final
    /// evaluation ends the process as usual).
    static func uninstall() {
        Foundation.signal(SIGINT, SIG_DFL)
        Foundation.signal(SIGTERM, SIG_DFL)
    }

    /// The pending signal, or nil.
    static var signal: Int32? {
        let s = requested.load(ordering: .relaxed)
        return s == 0 ? nil : s
    }
}

/// Thrown between steps when a signal asked the run to stop.
struct Interrupted: Error {
    let signal: Int32
    let epoch: Int
    let step: Int
}
