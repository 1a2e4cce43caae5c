import ArgumentParser
import Backprop
import Foundation

struct GradcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Check every operation, random networks and short training runs on the chosen backend against the CPU backend.",
        discussion: """
        Every result is compared element by element with its float32 error bound on the data at hand \
        (γ_k = k·u/(1 − k·u) for a k-term sum, u = 2⁻²⁴, carried through layers, loss and optimizer). \
        Prints one row per check: |Δ| and the bound at the element closest to its bound, their ratio \
        (≤ 1 passes), PASS/FAIL; then the distribution of those ratios. Exits non-zero on any failure.
        """
    )

    @OptionGroup var backendOptions: BackendOptions

    @Option(parsing: .unconditional, help: "Random seed for the inputs.")
    var seed: UInt64 = 1

    @Flag(help: "A short run (sizes 1–130, two small networks, 3 training steps), for simulators such as Oclgrind.")
    var quick = false

    @Option(parsing: .unconditional, help: "With --quick: the operation sizes, comma-separated (default 1,7,33,130; e.g. 1,7,33 under a slow simulator).")
    var sizes: String?

    @Flag(help: "Print only the failures and the summary.")
    var quiet = false

    func validate() throws {
        _ = try operationSizes()
        if sizes != nil && !quick { throw CommandError("--sizes goes with --quick") }
    }

    /// `--sizes`, parsed.
    private func operationSizes() throws -> [Int]? {
        guard let sizes else { return nil }
        let values = sizes.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw CommandError("--sizes takes positive sizes separated by commas (e.g. 1,7,33), got \"\(sizes)\"")
        }
        return values.compactMap { $0 }
    }

    func run() throws {
        let operationSizes = try operationSizes()
        let backend = try backendOptions.makeBackend()
        print("gradcheck: \(backend.name) against \(CPUBackend().name)")
        var suite = EquivalenceSuite(backend: backend, reference: CPUBackend(), seed: seed)
        let clock = ContinuousClock()
        var checks: [EquivalenceCheck] = []
        let elapsed = try clock.measure {
            if quick {
                checks = try operationSizes.map { try suite.quickChecks(operationSizes: $0) } ?? suite.quickChecks()
            } else {
                checks += try suite.allOperationChecks()
                checks += try suite.networkChecks()
                checks += try suite.trainingChecks()
            }
        }
        let width = min(90, checks.map(\.name.count).max() ?? 10)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        print(pad("check", width) + "  |Δ|        bound      |Δ|/bound  result")
        for c in checks where !quiet || !c.passed {
            print(pad(c.name, width) + "  " + pad(String(format: "%.3e", c.difference), 9) + "  "
                  + pad(String(format: "%.3e", c.bound), 9) + "  " + pad(String(format: "%.3g", c.slack), 9) + "  "
                  + (c.passed ? "PASS" : "FAIL"))
        }
        print(SlackSummary(checks))
        let failed = checks.filter { !$0.passed }.count
        print("\(checks.count - failed) of \(checks.count) checks passed in \(elapsed).")
        if failed > 0 { throw ExitCode.failure }
    }
}
