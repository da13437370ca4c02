import DSMArtifacts
import DSMRegistry
import DSMStore
import DSMSystem
import Foundation

/// `dsm import`: reads a bundle as a stream, checks every entry against the table of contents as it arrives
/// (paths, sizes, SHA-256), stores blobs the store lacks, and registers the versions only after the whole
/// bundle verified. A bundle that is truncated, corrupted, of another format version, or holds a path outside
/// the store registers nothing. Blobs that verified stay in the store, so a re-run does not write them again.
/// Memory stays bounded whatever the bundle claims: the table of contents and the manifests are held until the end,
/// within `BundleLimits`; blobs stream through.
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
        // Blobs stored here are referenced only once the versions are registered: one store write until then.
        let ingest = options.dryRun ? nil : try Ingest(store: store)
        defer { ingest?.end() }
        let state = ReadState(store: store, ingest: ingest)
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
        } catch let e as BundleError {
            throw BundleError("\(path): \(e)" + (e.description.contains("nothing was imported") ? "" : " (nothing was imported)"))
        }
        guard let toc = state.toc else { throw BundleError("\(path) holds no table of contents (\(BundlePath.tocName)); not a dsm bundle") }
        guard tar.finished, state.index == toc.entries.count else {
            throw BundleError("\(path) ends after \(state.index) of \(toc.entries.count) entries: the file is truncated (nothing was imported)")
        }
        // Every version's manifest is in the bundle (decoded, so its file paths were checked, as it was read), and
        // every file it names is in the bundle or the store.
        let manifests = state.manifests
        for n in toc.names {
            guard (try? ModelName(parsing: n.name)) != nil else { throw BundleError("\(path): '\(TerminalText.escaped(n.name))' is not a valid model name") }
            for v in n.versions {
                guard let m = manifests[v.manifest] else { throw BundleError("\(path): \(n.name)@v\(v.number) has no manifest in the bundle") }
                for f in m.files where !state.blobs.contains(f.sha256) && !store.hasBlob(f.sha256, size: f.size) {
                    throw BundleError("\(path): \(n.name)@v\(v.number) needs \(f.path) (sha256:\(f.sha256.prefix(12))), which is neither in the bundle nor in this store")
                }
            }
        }
        if options.withChannels { try checkChannels(toc, manifests, path: path) }
        var report = Report(path: path, dryRun: options.dryRun, names: [], blobs: state.blobs.count, storedBlobs: state.stored,
                            presentBlobs: state.present, bytes: toc.totalBytes, seconds: 0)
        if options.dryRun {
            report.names = toc.names.map { .init(name: $0.name, versions: [:], stable: $0.stable) }
        } else {
            report.names = try register(toc, manifests, into: ingest!, command: command)
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Before anything is registered: every name's channel changes, computed against the state its versions would
    /// give (pure, on a copy of the committed state), must all be accepted, or the import stops here.
    private func checkChannels(_ toc: BundleTOC, _ manifests: [String: Manifest], path: String) throws {
        for n in toc.names {
            let name = try ModelName(parsing: n.name)
            do {
                var state = try registry.state(of: name) ?? ReleaseState(name: name.description)
                var numbers: [Int: Int] = [:]
                for v in n.versions {
                    let m = manifests[v.manifest]!
                    let key = Registry.contentKey(m)
                    state = try state.apply(.addVersion(manifest: v.manifest, contentKey: key, createdAt: m.createdAt))
                    numbers[v.number] = state.versions.first { $0.contentKey == key }?.number
                }
                _ = try state.applying(try BundleChannels.commands(n, numbers: numbers, state: state))
            } catch let e as ReleaseError {
                throw BundleError("\(path): the channels of \(name) cannot be applied: \(TerminalText.escaped(e.description)); nothing was registered")
            }
        }
    }

    private func register(_ toc: BundleTOC, _ manifests: [String: Manifest], into ingest: Ingest, command: String) throws -> [Report.Name] {
        var out: [Report.Name] = []
        for n in toc.names {
            let name = try ModelName(parsing: n.name)
            var map: [Int: Int] = [:]
            for v in n.versions { map[v.number] = try ingest.publish(manifests[v.manifest]!, as: name, command: command).version.number }
            if options.withChannels {
                // All of the name's channel changes in one commit, computed from the locked state (checked above).
                do {
                    try registry.change(name, command: command, all: { s throws(ReleaseError) in try BundleChannels.commands(n, numbers: map, state: s) })
                } catch let e as ReleaseError {
                    throw BundleError("the versions of \(name) were registered but its channels were left as they were: \(TerminalText.escaped(e.description)) "
                                      + "(the registry changed during the import); run the import again")
                }
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
    /// The store write; nil for a dry run, which writes nothing.
    let ingest: Ingest?
    var dryRun: Bool { ingest == nil }
    var toc: BundleTOC?
    var index = 0
    var done: Int64 = 0
    /// Decoded as each arrives (`Manifest.decode` checks the file paths), within `BundleLimits`.
    var manifests: [String: Manifest] = [:]
    var blobs = Set<String>()
    var stored = 0, present = 0
    private var kind: BundlePath?
    private var expected: BundleTOC.Entry?
    private var collected: [UInt8] = []
    private var digest: Digest?
    private var temp: (path: String, file: RandomAccessFile, written: Int64)?
    private var skip = false

    init(store: Store, ingest: Ingest?) {
        self.store = store
        self.ingest = ingest
    }

    func begin(_ name: String, _ size: Int64) throws {
        let path = try BundlePath(name)
        if toc == nil {
            guard path == .toc else { throw BundleError("the first entry is \(TerminalText.escaped(name)), not \(BundlePath.tocName): not a dsm bundle") }
            guard size <= BundleLimits.tocBytes else {
                throw BundleError("the table of contents is \(size) bytes; it may be at most 32 MiB (docs/bundle.md)")
            }
        } else {
            guard index < toc!.entries.count else { throw BundleError("the bundle holds more entries than its table of contents lists") }
            let e = toc!.entries[index]
            guard e.path == name, e.size == size else {
                throw BundleError("entry \(index + 1) is \(TerminalText.escaped(name)) (\(size) bytes) but the table of contents lists \(e.path) (\(e.size) bytes): the bundle is corrupted")
            }
            expected = e
        }
        kind = path
        collected.removeAll(keepingCapacity: true)
        skip = false
        switch path {
        case .toc, .manifest:
            digest = Digest()
            // The table of contents already bounds this; a reader that only holds what it checked.
            guard size <= max(BundleLimits.tocBytes, BundleLimits.manifestBytes) else { throw BundleError("\(name) is \(size) bytes; refusing") }
        case .blob(let sha):
            // A blob the store already holds was verified when it was stored: read past it, write nothing.
            if !dryRun, store.hasBlob(sha, size: size) {
                skip = true
                digest = nil
                present += 1
            } else {
                digest = Digest()
                if !dryRun {
                    let p = ingest!.stagingPath("import-\(sha.prefix(16))")
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
            toc = try BundleTOC.decode(collected)
            return
        case .manifest(let d)?:
            guard hex == d else { throw BundleError("manifest sha256:\(d.prefix(12)) is corrupted in the bundle (its bytes hash to \(hex ?? "?"))") }
            do { manifests[d] = try Manifest.decode(collected) } catch {
                throw BundleError("manifest sha256:\(d.prefix(12)) is refused: \(error)")
            }
        case .blob(let sha)?:
            if !skip {
                guard hex == sha else { throw BundleError("blob sha256:\(sha.prefix(12)) is corrupted in the bundle (its bytes hash to \(hex!.prefix(12))…); nothing was imported") }
                if let t = temp {
                    try t.file.sync()
                    try ingest!.adopt(t.path, sha256: sha)
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
