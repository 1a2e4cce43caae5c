// swift-tools-version:6.1
import PackageDescription

// The target graph (each arrow is an import):
//
//   backprop (CLI) ──▶ Backprop (umbrella: re-exports, registers the backends)
//                        ├──▶ BackpropCPU ────▶ BackpropCore, CPUKernels, CDNNL, CBLAS
//                        ├──▶ BackpropOpenCL ─▶ BackpropCore, COpenCL (+ EmbedKernels plugin)
//                        ├──▶ BackpropExplain ▶ BackpropCore, BackpropCPU (the reference)
//                        └──▶ BackpropCore (the Backend contract and all code written against it;
//                                           links no system library)
//   with the trait MPI (`swift build --traits MPI`):
//   backprop (CLI) ──▶ BackpropMPI ──▶ BackpropCore, CMPI (Open MPI; data-parallel training)
let package = Package(
    name: "Backprop",
    products: [
        .library(name: "Backprop", targets: ["Backprop"]),
        .library(name: "BackpropCore", targets: ["BackpropCore"]),
        .executable(name: "backprop", targets: ["backprop"]),
    ],
    // MPI is opt-in: without the trait nothing needs MPI installed.
    traits: [
        .trait(name: "MPI", description: "Data-parallel training across processes with Open MPI (mpirun -np N backprop train)"),
        .default(enabledTraits: []),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation --target T` per module (DocC, see README); a plugin, not linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The contract (Backend, Matrix, the registry) and everything written against it:
        // network, training, data, model files, oracles, the expression graph.
        .target(name: "BackpropCore"),

        // CPU backend: products by oneDNN (kernels chosen by instruction set) or OpenBLAS,
        // C loops vectorized per machine for the rest.
        .target(name: "BackpropCPU", dependencies: ["BackpropCore", "CDNNL", "CBLAS", "CPUKernels"]),
        .target(name: "CPUKernels", linkerSettings: [.linkedLibrary("gomp")]),
        // oneDNN ships no pkg-config file: the module map links it by name.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),

        // OpenCL backend: Kernels/*.cl embedded into the binary by the EmbedKernels plugin.
        .target(name: "BackpropOpenCL", dependencies: ["BackpropCore", "COpenCL"],
                plugins: ["EmbedKernels"]),
        .systemLibrary(name: "COpenCL", pkgConfig: "OpenCL",
                       providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers"])]),
        .executableTarget(name: "KernelEmbedder"),
        .plugin(name: "EmbedKernels", capability: .buildTool(), dependencies: ["KernelEmbedder"]),

        // The tutorials' worked examples, printed step by step and checked against the graph,
        // finite differences and the reference (CPU) backend.
        .target(name: "BackpropExplain", dependencies: ["BackpropCore", "BackpropCPU"]),

        // What a user imports: every module above, and the backends registered by name.
        .target(name: "Backprop",
                dependencies: ["BackpropCore", "BackpropCPU", "BackpropOpenCL", "BackpropExplain"]),

        // Data parallelism over MPI: the MPI world as a DataParallelGroup. The only target that touches MPI.
        // `swift build` builds every target: without the trait this one compiles empty (its source
        // is `#if MPI`) and does not reach for mpi.h.
        .target(name: "BackpropMPI",
                dependencies: ["BackpropCore", .target(name: "CMPI", condition: .when(traits: ["MPI"]))]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin", "pkgconf"])]),

        .executableTarget(
            name: "backprop",
            dependencies: [
                "Backprop",
                .target(name: "BackpropMPI", condition: .when(traits: ["MPI"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "BackpropTests",
                    dependencies: ["Backprop", "BackpropCore", "BackpropCPU", "BackpropOpenCL", "BackpropExplain",
                                   .target(name: "BackpropMPI", condition: .when(traits: ["MPI"]))]),
    ],
    swiftLanguageModes: [.v6]
)
