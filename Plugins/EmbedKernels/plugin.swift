import Foundation
import PackagePlugin

/// Embeds every `Kernels/*.cl` file of the package into the target as a Swift string constant,
/// so the built binary carries its OpenCL sources wherever it is copied (resources through a
/// symlink do not survive moving the binary; see shared/PLATFORM.md).
@main
struct EmbedKernels: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let kernels = context.package.directoryURL.appending(path: "Kernels")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: kernels.path)) ?? []
        let inputs = names.filter { $0.hasSuffix(".cl") }.sorted().map { kernels.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "KernelSources.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) OpenCL kernel files",
                executable: try context.tool(named: "KernelEmbedder").url,
                arguments: [output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
