import DSMRegistry
import DSMStore
import DSMSystem
import Foundation

/// `dsm export`: names (one version each, or all) into one zstd-compressed tar, written to a temp file beside the
/// output and renamed into place when complete, so a reader never sees half a bundle.
public struct BundleExporter {
    public struct Options: Sendable {
        public var level: Int32 = 3
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        public var allVersions = false
        public init() {}
    }

    /// What was written.
    public struct Report: Codable, Sendable {
        public var path: String
        public var names: [String]
        public var versions: Int
        public var blobs: Int
        public var bytes: Int64
        public var compressedBytes: Int64
        public var seconds: Double
        enum CodingKeys: String, CodingKey { case path, names, versions, blobs, bytes, compressedBytes = "compressed_bytes", seconds }
    }

    public let registry: Registry
    public let options: Options
    /// Called with (bytes done, bytes in all) as the bundle is written.
    public var progress: (Int64, Int64) -> Void = { _, _ in }

    public init(registry: Registry, options: Options) {
        self.registry = registry
        self.options = options
    }

    /// The table of contents for `selection`: each name with the version asked for (`NAME@vN`; stable by default)
    /// or all its versions; manifests and blobs once each.
    public func plan(_ selection: [(ModelName, VersionSelector?)]) throws -> (BundleTOC, [String: [UInt8]]) {
        var names: [BundleTOC.Name] = []
        var manifests: [String: [UInt8]] = [:]
        var entries: [BundleTOC.Entry] = []
        var blobEntries: [BundleTOC.Entry] = []
        var seenBlobs = Set<String>()
        for (name, selector) in selection {
            guard let state = try registry.state(of: name) else {
                throw BundleError("\(name) is not in the store; `dsm list` shows what is")
            }
            let chosen: [VersionRecord]
            do { chosen = options.allVersions ? state.versions : [try state.resolve(selector)] } catch { throw BundleError("\(error)") }
            guard !chosen.isEmpty else { throw BundleError("\(name) has no versions to export") }
            let numbers = Set(chosen.map(\.number))
            names.append(BundleTOC.Name(name: name.description,
                                        versions: chosen.map { .init(number: $0.number, manifest: $0.manifest, createdAt: $0.createdAt) },
                                        stable: state.stable.flatMap { numbers.contains($0) ? $0 : nil },
                                        canary: state.canary.flatMap { numbers.contains($0) ? $0 : nil }, weight: state.weight,
                                        tags: state.tags.filter { numbers.contains($0.value) }))
            for v in chosen {
                let bytes = try registry.manifestBytes(of: v, in: name)
                if manifests[v.manifest] == nil {
                    manifests[v.manifest] = bytes
                    entries.append(.init(path: BundlePath.manifest(digest: v.manifest).path, size: Int64(bytes.count), sha256: v.manifest))
                }
                for f in try Manifest.decode(bytes).files where seenBlobs.insert(f.sha256).inserted {
                    guard registry.store.hasBlob(f.sha256, size: f.size) else {
                        throw BundleError("\(name)@v\(v.number): the blob of \(f.path) (sha256:\(f.sha256.prefix(12))) is missing from the store; `dsm verify \(name)` says more, and pulling the model again restores it")
                    }
                    blobEntries.append(.init(path: BundlePath.blob(sha256: f.sha256).path, size: f.size, sha256: f.sha256))
                }
            }
        }
        let toc = BundleTOC(createdAt: ISO8601DateFormatter().string(from: Date()), tool: "dsm", names: names, entries: entries + blobEntries)
        return (toc, manifests)
    }

    /// Writes the bundle for `selection` to `path`.
    public func export(_ selection: [(ModelName, VersionSelector?)], to path: String, tool: String) throws -> Report {
        let started = Date()
        var (toc, manifests) = try plan(selection)
        toc.tool = tool
        let tocBytes = Array(try BundleExporter.encoder.encode(toc))
        let temp = TemporaryName.beside(path)
        let file = try RandomAccessFile(path: temp, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        var keep = false
        defer { if !keep { FileSystem.remove(temp) } }
        var written: Int64 = 0
        let z = try ZstdCompressor(level: options.level, threads: options.threads) { chunk in
            try chunk.withUnsafeBytes { try file.write($0, at: written) }
            written += Int64(chunk.count)
        }
        let mtime = Int64(Date().timeIntervalSince1970)
        func entry(_ name: String, _ size: Int64, _ body: () throws -> Void) throws {
            try z.write(TarFormat.header(name: name, size: size, mtime: mtime))
            try body()
            try z.write([UInt8](repeating: 0, count: TarFormat.padding(size)))
        }
        try entry(BundlePath.tocName, Int64(tocBytes.count)) { try z.write(tocBytes) }
        var done: Int64 = 0
        let total = toc.totalBytes
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        for e in toc.entries {
            switch try BundlePath(e.path) {
            case .manifest(let d): try entry(e.path, e.size) { try z.write(manifests[d]!) }
            case .blob(let sha):
                try entry(e.path, e.size) {
                    let blob = try RandomAccessFile(path: registry.store.blobPath(sha), flags: O_RDONLY)
                    var offset: Int64 = 0
                    while offset < e.size {
                        let n = try buffer.withUnsafeMutableBytes { try blob.read(into: $0, at: offset) }
                        guard n > 0 else { throw BundleError("the blob sha256:\(sha.prefix(12)) is shorter than its manifest says; run `dsm verify`") }
                        try buffer.withUnsafeBytes { try z.write(UnsafeRawBufferPointer(rebasing: $0[0..<min(n, Int(e.size - offset))])) }
                        offset += Int64(n)
                        done += Int64(n)
                        progress(done, total)
                    }
                }
            case .toc: break
            }
        }
        try z.write([UInt8](repeating: 0, count: 2 * TarFormat.block))
        try z.finish()
        try file.sync()
        try FileSystem.rename(temp, to: path)
        keep = true
        return Report(path: path, names: toc.names.map(\.name), versions: toc.names.reduce(0) { $0 + $1.versions.count },
                      blobs: toc.entries.filter { $0.path.hasPrefix("blobs/") }.count, bytes: total, compressedBytes: written,
                      seconds: Date().timeIntervalSince(started))
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return e
    }()
}

/// Why a bundle could not be written or read (meant for the user).
public struct BundleError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}
