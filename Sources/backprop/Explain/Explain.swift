import ArgumentParser
import Backprop

/// `backprop explain`: the derivations of the tutorials this project comes from, with real
/// numbers, each checked against the expression graph, the backend and finite differences.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show backpropagation step by step, with numbers, and check every gradient.",
        discussion: """
            Each subcommand prints the forward values, every local derivative, the products along \
            the chain and the final gradients, then compares them with the scalar expression graph \
            and central finite differences (chain, equations and paths also with the CPU backend, \
            graph with the derivative worked by hand). It exits with status 1 if any disagree.
            """,
        subcommands: [ExplainGraph.self, ExplainChain.self, ExplainEquations.self, ExplainPaths.self]
    )
}

/// Options every explain subcommand has.
struct ExplainOutput: ParsableArguments {
    @Flag(help: "Print the same numbers as one JSON object instead of the derivation.")
    var json = false
}

extension ExplainOutput {
    /// Prints the explanation (text or JSON) and fails if a check failed.
    func emit(_ explanation: some Explanation) throws {
        print(json ? try explanation.json() : explanation.render())
        if !explanation.verification.passed {
            throw ExplainFailure()
        }
    }
}

/// A check did not pass: the message goes to standard error, the status is 1.
struct ExplainFailure: Error, CustomStringConvertible {
    var description: String { "a gradient disagrees with an oracle beyond its tolerance (see the check above)" }
}

/// An activation by name, with an error that lists the choices.
func parseActivation(_ name: String) throws -> Activation {
    guard let a = Activation(rawValue: name.lowercased()), a != .softmax else {
        throw ExplainError("unknown activation '\(name)'; choose one of: "
                           + Activation.hidden.map(\.rawValue).joined(separator: ", "))
    }
    return a
}

/// Parses `"0.5,-1"` into numbers, with an error that names the option.
func parseNumbers(_ s: String, option: String, count: Int? = nil) throws -> [Double] {
    let parts = s.split(separator: ",", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }
    let values = parts.compactMap { Double($0.replacingOccurrences(of: "−", with: "-")) }
    guard values.count == parts.count, values.allSatisfy(\.isFinite) else {
        throw ExplainError("\(option) takes comma-separated numbers, got '\(s)'")
    }
    if let count, values.count != count {
        throw ExplainError("\(option) needs \(count) numbers, got \(values.count) in '\(s)'")
    }
    return values
}

import Foundation
