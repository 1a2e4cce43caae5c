import ArgumentParser
import Backprop
import Foundation

struct GradcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Check every operation, random networks and short training runs on the chosen backend against the CPU backend.",
        discussion: "Prints one row per check (max norm-wise relative error, tolerance, PASS/FAIL); exits non-zero on any failure."
    )

    @OptionGroup var backendOptions: BackendOptions

    @Option(help: "Random seed for the inputs.")
    var seed: UInt64 = 1

    @Flag(help: "Print only the failures and the summary.")
    var quiet = false

    func run() throws {
        let backend = try backendOptions.makeBackend()
        print("gradcheck: \(backend.name) against \(CPUBackend().name)")
        var suite = EquivalenceSuite(backend: backend, reference: CPUBackend(), seed: seed)
        let clock = ContinuousClock()
        var checks: [EquivalenceCheck] = []
        let elapsed = try clock.measure {
            checks += try suite.allOperationChecks()
            checks += try suite.networkChecks()
            checks += try suite.trainingChecks()
        }
        let width = min(90, checks.map(\.name.count).max() ?? 10)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        print(pad("check", width) + "  max rel. error  tolerance  result")
        for c in checks where !quiet || !c.passed {
            print(pad(c.name, width) + "  " + pad(String(format: "%.3e", c.error), 14) + "  "
                  + pad(String(format: "%.0e", c.tolerance), 9) + "  " + (c.passed ? "PASS" : "FAIL"))
        }
        let failed = checks.filter { !$0.passed }.count
        print("\(checks.count - failed) of \(checks.count) checks passed in \(elapsed).")
        if failed > 0 { throw ExitCode.failure }
    }
}
