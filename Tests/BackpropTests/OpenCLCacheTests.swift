@testable import Backprop
@testable import BackpropCore
@testable import BackpropCPU
@testable import BackpropExplain
@testable import BackpropOpenCL
import Foundation
import Testing

@Suite("OpenCL program cache", .enabled(if: OpenCLTestDevice.enabled))
struct OpenCLCacheTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appending(path: "backprop-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func makeBackend(cache: ProgramCache) throws -> OpenCLBackend {
        let shared = try OpenCLTestDevice.backend()
        let (info, device) = try selectOpenCLDevice(String(shared.device.index))
        return try OpenCLBackend(info: info, device: device, cache: cache)
    }

    func smokeTest(_ backend: OpenCLBackend) throws {
        let x = try backend.makeMatrix(rows: 2, cols: 2, values: [1, 2, 3, 4])
        try backend.scale(x, by: 2)
        #expect(try backend.download(x) == [2, 4, 6, 8])
    }

    @Test func binaryIsStoredThenReused() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try makeBackend(cache: ProgramCache(directory: dir))
        #expect(!first.programWasCached)
        try smokeTest(first)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(files.count == 1 && files.allSatisfy { $0.hasSuffix(".clbin") })
        let second = try makeBackend(cache: ProgramCache(directory: dir))
        #expect(second.programWasCached)
        try smokeTest(second)
    }

    @Test func corruptCacheFallsBackToCompiling() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try smokeTest(try makeBackend(cache: ProgramCache(directory: dir)))
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            let file = dir.appending(path: name)
            var bytes = try [UInt8](Data(contentsOf: file))
            bytes[bytes.count / 2] ^= 0xFF
            try Data(bytes.prefix(bytes.count - 7)).write(to: file)
            #expect(ProgramCache(directory: dir).load(file) == nil)
        }
        let backend = try makeBackend(cache: ProgramCache(directory: dir))
        #expect(!backend.programWasCached)
        try smokeTest(backend)
    }

    @Test func unwritableCacheIsIgnored() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A regular file where the cache directory should be: nothing can be created under it.
        let blocker = dir.appending(path: "not-a-directory")
        try Data("x".utf8).write(to: blocker)
        try smokeTest(try makeBackend(cache: ProgramCache(directory: blocker.appending(path: "cache"))))
    }

    @Test func cacheDirectoryFromTheEnvironment() {
        #expect(ProgramCache.fromEnvironment(["BACKPROP_CACHE_DIR": "/tmp/x"]).directory?.path == "/tmp/x")
        #expect(ProgramCache.fromEnvironment(["HOME": "/home/u"]).directory?.path == "/home/u/.cache/backprop")
        let a = ProgramCache(directory: URL(fileURLWithPath: "/c"))
        #expect(a.file(device: "d", driver: "1", options: "", source: "s")
                != a.file(device: "d", driver: "2", options: "", source: "s"))
    }
}
