import Foundation

/// One binary for every target; `BACKPROP_FUZZ_TARGET` (idx, csv, safetensors) picks one.
let fuzzTarget: @Sendable ([UInt8]) -> Void = {
    switch ProcessInfo.processInfo.environment["BACKPROP_FUZZ_TARGET"] {
    case "idx": return fuzzIDX
    case "csv": return fuzzCSV
    case "safetensors": return fuzzSafetensors
    case let other:
        FileHandle.standardError.write(Data("BACKPROP_FUZZ_TARGET must be idx, csv or safetensors, not \(other ?? "unset")\n".utf8))
        exit(2)
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzTarget(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
