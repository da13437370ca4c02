import DSMRegistry
import DSMStore
import DSMSystem
import Foundation

/// `dsm import`: reads a bundle as a stream, checks every entry against the table of contents as it arrives
/// (paths, sizes, SHA-256), stores blobs the store lacks, and registers the versions only after the whole
/// bundle verified. A bundle that is truncated, corrupted, of another format version, or holds a path outside
/// the store registers nothing. Blobs that verified stay in the store, so a re-run does not write them again.
public struct BundleImporter {
    public struct Options: Sendable {
        public var dryRun = false
        /// Also apply the exported stable, canary, weight and tags.
        public var withChannels = false
        public init() {}
    }

    public struct Report: Codable, Sendable {
        public struct Name: Codable, Sendable {
            public var name: String
            /// Exported version number → number here (equal content keeps its existing number).
            public var versions: [String: Int]
            public var stable: Int?
        }
        public var path: String
        public var dryRun: Bool
        public var names: [Name]
        public var blobs: Int
        public var storedBlobs: Int
        public var presentBlobs: Int
        public var bytes: Int64
        public var seconds: Double
        enum CodingKeys: String, CodingKey {
            case path, dryRun = "dry_run", names, blobs, storedBlobs = "stored_blobs", presentBlobs = "present_blobs", bytes, seconds
        }
    }

    public let registry: Registry
    public let options: Options
    public var progress: (Int64, Int64) -> Void = { _, _ in }

    public init(registry: Registry, options: Options) {
        self.registry = registry
        self.options = options
    }

    public func run(_ path: String, command: String) throws -> Report {
        let started = Date()
        let store = registry.store
        if !options.dryRun { try store.prepare() }
        // Blobs stored here are referenced only once the versions are registered: keep gc away until then.
        let lock = options.dryRun ? nil : try registry.blobWriterLock()
        defer { withExtendedLifetime(lock) {} }
        let state = ReadState(store: store, dryRun: options.dryRun)
        defer { state.discardTemp() }
        let tar = TarReader()
        tar.header = { name, size in try state.begin(name, size) }
        tar.data = { chunk in try state.feed(chunk) }
        tar.end = { try state.finish() }
        let z = try ZstdDecompressor { chunk in try tar.feed(chunk) }
        let file: RandomAccessFile
        do { file = try RandomAccessFile(path: path, flags: O_RDONLY) } catch { throw BundleError("cannot open \(path): \(error)") }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        do {
            while true {
                let n = try buffer.withUnsafeMutableBytes { try file.read(into: $0, at: offset) }
                if n == 0 { break }
                offset += Int64(n)
                try buffer.withUnsafeBytes { try z.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                progress(state.done, state.toc?.totalBytes ?? 0)
            }
            try z.finish()
        } catch let e as ZstdError {
            throw BundleError("\(path) is not a readable dsm bundle: \(e) (nothing was imported)")
        } catch let e as TarFormat.Invalid {
            throw BundleError("\(path): \(e) (nothing was imported)")
        }
        guard let toc = state.toc else { throw BundleError("\(path) holds no table of contents (\(BundlePath.tocName)); not a dsm bundle") }
        guard tar.finished, state.index == toc.entries.count else {
            throw BundleError("\(path) ends after \(state.index) of \(toc.entries.count) entries: the file is truncated (nothing was imported)")
        }
        // Every version's manifest is in the bundle, and every file it names is in the bundle or the store.
        var manifests: [String: Manifest] = [:]
        for (digest, bytes) in state.manifests {
            do { manifests[digest] = try Manifest.decode(bytes) } catch { throw BundleError("\(path): manifest sha256:\(digest.prefix(12)) does not parse: \(error)") }
        }
        for n in toc.names {
            guard (try? ModelName(parsing: n.name)) != nil else { throw BundleError("\(path): '\(n.name)' is not a valid model name") }
            for v in n.versions {
                guard let m = manifests[v.manifest] else { throw BundleError("\(path): \(n.name)@v\(v.number) has no manifest in the bundle") }
                for f in m.files where !state.blobs.contains(f.sha256) && !store.hasBlob(f.sha256, size: f.size) {
                    throw BundleError("\(path): \(n.name)@v\(v.number) needs \(f.path) (sha256:\(f.sha256.prefix(12))), which is neither in the bundle nor in this store")
                }
            }
        }
        var report = Report(path: path, dryRun: options.dryRun, names: [], blobs: state.blobs.count, storedBlobs: state.stored,
                            presentBlobs: state.present, bytes: toc.totalBytes, seconds: 0)
        if options.dryRun {
            report.names = toc.names.map { .init(name: $0.name, versions: [:], stable: $0.stable) }
        } else {
            try store.syncBlobs()
            report.names = try register(toc, manifests, command: command)
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    private func register(_ toc: BundleTOC, _ manifests: [String: Manifest], command: String) throws -> [Report.Name] {
        var out: [Report.Name] = []
        for n in toc.names {
            let name = try ModelName(parsing: n.name)
            var map: [Int: Int] = [:]
            for v in n.versions { map[v.number] = try registry.publish(manifests[v.manifest]!, as: name, command: command).0.number }
            if options.withChannels {
                if let st = n.stable.flatMap({ map[$0] }), try registry.state(of: name)?.stable != st {
                    try registry.change(name, .rollback(to: st), command: command)
                }
                if let c = n.canary.flatMap({ map[$0] }), n.weight > 0 {
                    try? registry.change(name, .release(canary: c, weight: n.weight), command: command)
                }
                for (t, v) in n.tags.sorted(by: { $0.key < $1.key }) { if let nv = map[v] { try registry.change(name, .tag(t, version: nv), command: command) } }
            }
            out.append(.init(name: n.name, versions: Dictionary(uniqueKeysWithValues: map.map { ("v\($0.key)", $0.value) }),
                             stable: try registry.state(of: name)?.stable))
        }
        return out
    }
}

/// The import's progress through the entries.
final class ReadState {
    let store: Store
    let dryRun: Bool
    var toc: BundleTOC?
    var index = 0
    var done: Int64 = 0
    var manifests: [String: [UInt8]] = [:]
    var blobs = Set<String>()
    var stored = 0, present = 0
    private var kind: BundlePath?
    private var expected: BundleTOC.Entry?
    private var collected: [UInt8] = []
    private var digest: Digest?
    private var temp: (path: String, file: RandomAccessFile, written: Int64)?
    private var skip = false

    init(store: Store, dryRun: Bool) {
        self.store = store
        self.dryRun = dryRun
    }

    func begin(_ name: String, _ size: Int64) throws {
        let path = try BundlePath(name)
        if toc == nil {
            guard path == .toc else { throw BundleError("the first entry is \(name), not \(BundlePath.tocName): not a dsm bundle") }
            guard size < 64 << 20 else { throw BundleError("the table of contents is \(size) bytes; refusing") }
        } else {
            guard index < toc!.entries.count else { throw BundleError("the bundle holds more entries than its table of contents lists") }
            let e = toc!.entries[index]
            guard e.path == name, e.size == size else {
                throw BundleError("entry \(index + 1) is \(name) (\(size) bytes) but the table of contents lists \(e.path) (\(e.size) bytes): the bundle is corrupted")
            }
            expected = e
        }
        kind = path
        collected.removeAll(keepingCapacity: true)
        skip = false
        switch path {
        case .toc, .manifest:
            digest = Digest()
            guard size < 64 << 20 else { throw BundleError("\(name) is \(size) bytes; manifests are small; refusing") }
        case .blob(let sha):
            // A blob the store already holds was verified when it was stored: read past it, write nothing.
            if !dryRun, store.hasBlob(sha, size: size) {
                skip = true
                digest = nil
                present += 1
            } else {
                digest = Digest()
                if !dryRun {
                    let p = store.partialsDirectory + "/import-\(sha.prefix(16))-\(getpid()).tmp"
                    temp = (p, try RandomAccessFile(path: p, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644), 0)
                }
            }
        }
    }

    func feed(_ chunk: UnsafeRawBufferPointer) throws {
        done += Int64(chunk.count)
        if skip { return }
        digest?.update(chunk)
        switch kind {
        case .toc?, .manifest?: collected += chunk
        case .blob?:
            if let t = temp {
                try t.file.write(chunk, at: t.written)
                temp!.written += Int64(chunk.count)
            }
        case nil: break
        }
    }

    func finish() throws {
        defer { kind = nil }
        let hex = digest?.finalizeHex()
        switch kind {
        case .toc?:
            let t: BundleTOC
            do { t = try JSONDecoder().decode(BundleTOC.self, from: Data(collected)) } catch {
                throw BundleError("the table of contents does not parse: \(error)")
            }
            guard t.format == BundleTOC.formatName else { throw BundleError("the table of contents says format '\(t.format)', not \(BundleTOC.formatName)") }
            guard t.version == BundleTOC.currentVersion else {
                throw BundleError("this bundle has format version \(t.version); this dsm reads version \(BundleTOC.currentVersion) (a newer dsm wrote it: upgrade dsm)")
            }
            for e in t.entries {
                let p = try BundlePath(e.path)
                if case .toc = p { throw BundleError("the table of contents lists itself") }
                guard e.size >= 0 else { throw BundleError("\(e.path) has a negative size") }
                if case .blob(let s) = p, s != e.sha256 { throw BundleError("\(e.path) is listed with another digest") }
                if case .manifest(let d) = p, d != e.sha256 { throw BundleError("\(e.path) is listed with another digest") }
            }
            toc = t
            return
        case .manifest(let d)?:
            guard hex == d else { throw BundleError("manifest sha256:\(d.prefix(12)) is corrupted in the bundle (its bytes hash to \(hex ?? "?"))") }
            manifests[d] = collected
        case .blob(let sha)?:
            if !skip {
                guard hex == sha else { throw BundleError("blob sha256:\(sha.prefix(12)) is corrupted in the bundle (its bytes hash to \(hex!.prefix(12))…); nothing was imported") }
                if let t = temp {
                    try t.file.sync()
                    try store.adoptBlob(from: t.path, sha256: sha)
                    temp = nil
                    stored += 1
                }
            }
            blobs.insert(sha)
        case nil: break
        }
        index += 1
    }

    func discardTemp() {
        if let t = temp { FileSystem.remove(t.path) }
    }
}
